"""Channel statistics (contrast percentiles, range, histogram), computed off the loop.

The display policy (:mod:`._defaults`) needs data three times: the default
contrast limits and the observed range of channels whose metadata does not
give them (at construction), the histograms (when the front end asks), and
:meth:`Viewer.auto_contrast <simplezarr.viewer.Viewer.auto_contrast>`. A store
may be slow or hang, and the viewer runs on the kernel's loop thread, so:

- :class:`CoarseSample` gets the middle of the coarsest level's plane (at a
  position, for some channels; :data:`~._defaults.SAMPLE_PIXELS` at most)
  through the viewer's :class:`~simplezarr.utils.ChunkPool`: its read
  threads, its read timeout, its cancellation of reads not started. A chunk
  holding several channels is read once.
- :class:`ChannelStatistics` runs one job per kind (``"defaults"``,
  ``"histogram"``, ``"auto"``; a new job cancels the pending one of its
  kind, so the work in flight is bounded). The numbers are computed on the
  viewer's encode threads (each channel's range given, or observed and
  widened to include the contrast limits given), never on the loop (nor in a read thread), and
  handed to the job's ``apply`` on the loop. Without a loop, a job waits for
  its sample at most the pool's read timeout (30 s for a pool without one),
  then warns and gives up. A failed read is a warning naming the level and
  the error, and the job's future holds the error.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import numpy as np
import numpy.typing as npt

from simplezarr.utils.chunkpool import ChunkLocation, ChunkPool

from ._defaults import SAMPLE_PIXELS, SAMPLE_SIDE, ChannelStats, channel_stats
from ._layout import ImageLayout

__all__ = ["ChannelStatistics", "CoarseSample", "Pieces", "StatsResult"]

logger = logging.getLogger("simplezarr")

Pieces = dict[int, list[npt.NDArray[Any]]]
"""Per channel, the arrays of its values to use."""

StatsResult = dict[int, ChannelStats]
"""Per channel, its statistics."""

# Without a loop, the longest wait for a sample when the pool has no read timeout, in seconds.
_SAMPLE_WAIT = 30.0


class CoarseSample:
    """The middle of the coarsest level's plane at ``position``, for ``channels``.

    At most :data:`~._defaults.SAMPLE_SIDE` pixels a side, and
    :data:`~._defaults.SAMPLE_PIXELS` pixels over all channels. Its chunks are
    got from ``pool`` under a ref of their own as soon as this is made;
    :attr:`future` completes (with ``None``) when they are all read, or with
    the first read's error. :meth:`pieces` then gives the values;
    :meth:`release` drops the chunks (a read not started is never made).
    """

    _counter = itertools.count()

    def __init__(
        self,
        pool: ChunkPool,
        layout: ImageLayout,
        position: Mapping[str, int],
        channels: Sequence[int],
    ) -> None:
        self.future: Future[None] = Future()
        self._pool = pool
        self._ref = f"CoarseSample-{next(CoarseSample._counter)}"
        self._lock = threading.Lock()
        self.level = level = len(layout.levels) - 1
        geometry = layout.levels[level]
        side = min(SAMPLE_SIDE, max(1, math.isqrt(SAMPLE_PIXELS // max(1, len(channels)))))
        window = []
        for n, c in zip(geometry.shape, geometry.chunk, strict=True):
            start = max(0, (n - side) // 2)
            stop = min(n, start + side)
            window.append((start, stop, range(start // c, -(-stop // c))))
        (y0, y1, rows), (x0, x1, cols) = window
        ch, cw = geometry.chunk
        self._transpose = layout.y_axis > layout.x_axis  # array order (x, y)
        # per channel, per chunk: its index, its plane, and the sample's part of that plane
        self._parts: dict[int, list[tuple[tuple[int, ...], tuple[int | slice, ...], slice, slice]]]
        self._parts = {}
        for channel in channels:
            slider_chunks, within = layout.locate(level, position, channel=channel)
            plane = layout.plane_selection(within)
            self._parts[channel] = [
                (
                    layout.chunk_index((iy, ix), slider_chunks),
                    plane,
                    slice(max(y0, iy * ch) - iy * ch, min(y1, (iy + 1) * ch) - iy * ch),
                    slice(max(x0, ix * cw) - ix * cw, min(x1, (ix + 1) * cw) - ix * cw),
                )
                for iy in rows
                for ix in cols
            ]
        indices = list(dict.fromkeys(p[0] for parts in self._parts.values() for p in parts))
        self._locations: dict[tuple[int, ...], ChunkLocation] = {}
        self._released = False
        try:
            for index in indices:
                self._locations[index] = pool.get_chunk(level, index, self._ref)
        except Exception as exc:
            self._settle(exc)
            return
        self._remaining = len(self._locations)
        if not self._locations:
            self._settle(None)
        for loc in list(self._locations.values()):
            loc.future.add_done_callback(self._chunk_done)

    def pieces(self) -> Pieces:
        """The sampled values of each channel (views of the chunks: use before :meth:`release`)."""
        out: Pieces = {}
        for channel, parts in self._parts.items():
            out[channel] = []
            for index, plane, rows, cols in parts:
                values = np.asarray(self._locations[index].data[plane])
                out[channel].append((values.T if self._transpose else values)[rows, cols])
        return out

    def release(self) -> None:
        """Drop the chunks (reads not started are never made); cancels a pending :attr:`future`."""
        with self._lock:
            self.future.cancel()
            if self._released:
                return
            self._released = True
            locations = list(self._locations.values())
        for loc in locations:
            self._pool.drop_chunk(loc.level, loc.index, self._ref)

    def _chunk_done(self, future: Future[Any]) -> None:  # on a read thread (or here)
        # (exception() of a cancelled Future raises CancelledError: ask cancelled() first)
        error = (
            RuntimeError("the read was cancelled") if future.cancelled() else future.exception()
        )
        if error is not None:
            self._settle(error)
            return
        with self._lock:
            self._remaining -= 1
            last = self._remaining == 0
        if last:
            self._settle(None)

    def _settle(self, error: BaseException | None) -> None:
        with self._lock:
            if self.future.done():
                return
            if error is None:
                self.future.set_result(None)
            else:
                self.future.set_exception(error)


class _Job:
    """One statistics job: its sample (if it reads), its future, whether it still counts."""

    def __init__(self, kind: str, purpose: str, fallback: str) -> None:
        self.kind = kind
        self.purpose = purpose
        self.fallback = fallback
        self.future: Future[StatsResult] = Future()
        self.sample: CoarseSample | None = None
        self.cancelled = False
        self.fixed: dict[int, list[float]] = {}  # per channel, its range when given
        self.include: dict[int, list[float]] = {}  # per channel, limits its range includes

    def cancel(self) -> None:
        self.cancelled = True
        if self.sample is not None:
            self.sample.release()
        self.future.cancel()


class ChannelStatistics:
    """The statistics jobs of one viewer (see the module docstring).

    Parameters
    ----------
    pool : ChunkPool
        Reads the samples.
    layout : ImageLayout
        The image's layout.
    loop : asyncio.AbstractEventLoop, optional
        The kernel's loop: jobs are not waited for; ``apply`` runs on it.
        ``None``: :meth:`compute` waits, bounded, and applies in the caller.
    executor : concurrent.futures.Executor, optional
        Where the numbers are computed (required with a loop).
    """

    def __init__(
        self,
        pool: ChunkPool,
        layout: ImageLayout,
        *,
        loop: asyncio.AbstractEventLoop | None,
        executor: Executor | None,
    ) -> None:
        if loop is not None and executor is None:
            raise ValueError("ChannelStatistics(): a loop needs an executor for the numbers")
        self._pool = pool
        self._layout = layout
        self._loop = loop
        self._executor = executor
        self._jobs: dict[str, _Job] = {}
        self._closed = False

    def compute(
        self,
        kind: str,
        channels: Sequence[int],
        position: Mapping[str, int],
        apply: Callable[[StatsResult], None],
        *,
        pieces: Pieces | None = None,
        purpose: str,
        fallback: str,
        fixed: Mapping[int, list[float]] | None = None,
        include: Mapping[int, Sequence[float]] | None = None,
    ) -> Future[StatsResult]:
        """Start the job ``kind`` for ``channels``; ``apply(result)`` gets its statistics.

        Channels in ``pieces`` use those values; the others are read in a
        :class:`CoarseSample` at ``position``. ``purpose`` and ``fallback``
        word the warning when the read fails (``"to choose contrast
        limits"``, ``"using [0.0, 255.0]"``). Per channel, ``fixed`` is its
        range when that does not depend on the data, and ``include`` the
        contrast limits its observed range is widened to include (see
        :func:`~._defaults.channel_stats`). Returns a future that completes
        with the result after ``apply`` ran (or with the read's error).
        """
        old = self._jobs.pop(kind, None)
        if old is not None:
            old.cancel()
        job = _Job(kind, purpose, fallback)
        job.fixed = {c: list(r) for c, r in (fixed or {}).items()}
        job.include = {c: list(r) for c, r in (include or {}).items()}
        if self._closed:
            job.cancel()
            return job.future
        given = dict(pieces or {})
        need = [c for c in dict.fromkeys(channels) if c not in given]
        if need:
            job.sample = CoarseSample(self._pool, self._layout, dict(position), need)
        self._jobs[kind] = job
        if self._loop is None:
            self._run_now(job, given, apply)
        else:
            self._run_soon(job, given, apply)
        return job.future

    async def settled(self) -> None:
        """Return once no job is pending (each applied, failed or cancelled)."""
        for job in list(self._jobs.values()):
            try:
                await asyncio.wrap_future(job.future)
            except BaseException:  # failures are warned about; cancellations are fine
                pass

    def close(self) -> None:
        """Cancel the pending jobs (their chunks are dropped)."""
        self._closed = True
        for job in self._jobs.values():
            job.cancel()
        self._jobs.clear()

    # -- internals ----------------------------------------------------------------

    def _numbers(self, job: _Job, given: Pieces) -> StatsResult:
        """The statistics of every channel of ``job`` (on an encode thread, or the caller's)."""
        try:
            pieces = dict(given)
            if job.sample is not None:
                pieces.update(job.sample.pieces())
            return {
                c: channel_stats(p, job.fixed.get(c), job.include.get(c))
                for c, p in pieces.items()
            }
        finally:
            if job.sample is not None:
                job.sample.release()

    def _run_now(self, job: _Job, given: Pieces, apply: Callable[[StatsResult], None]) -> None:
        sample = job.sample
        if sample is not None:
            wait = getattr(self._pool, "read_timeout", None) or _SAMPLE_WAIT
            try:
                sample.future.result(timeout=wait)
            except FutureTimeout:
                sample.release()
                logger.warning(
                    "Viewer(): level %d did not arrive within %g s %s; %s",
                    sample.level,
                    wait,
                    job.purpose,
                    job.fallback,
                )
                error = TimeoutError(f"level {sample.level}: no data within {wait:g} s")
                self._fail(job, error, warn=False)
                return
            except Exception as exc:
                self._fail(job, exc)
                return
        try:
            result = self._numbers(job, given)
        except Exception as exc:
            self._fail(job, exc)
            return
        self._deliver(job, apply, result)

    def _run_soon(self, job: _Job, given: Pieces, apply: Callable[[StatsResult], None]) -> None:
        loop, executor = self._loop, self._executor
        assert loop is not None and executor is not None

        def compute() -> None:  # on an encode thread
            if job.cancelled:
                return
            try:
                result: StatsResult | BaseException = self._numbers(job, given)
            except Exception as exc:
                result = exc
            self._to_loop(loop, self._finish, job, apply, result)

        def read_done(future: Future[None]) -> None:  # on a read thread, or here
            if future.cancelled() or job.cancelled:
                return
            error = future.exception()
            if error is not None:
                self._to_loop(loop, self._finish, job, apply, error)
                return
            try:
                executor.submit(compute)
            except RuntimeError:  # the executor was shut down: the viewer is closing
                pass

        if job.sample is None:
            read_done(_DONE)
        else:
            job.sample.future.add_done_callback(read_done)

    @staticmethod
    def _to_loop(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any) -> None:
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            pass  # the loop is closed

    def _finish(
        self,
        job: _Job,
        apply: Callable[[StatsResult], None],
        result: StatsResult | BaseException,
    ) -> None:  # on the loop
        if job.cancelled or self._closed:
            return
        if isinstance(result, BaseException):
            self._fail(job, result)
        else:
            self._deliver(job, apply, result)

    def _deliver(
        self, job: _Job, apply: Callable[[StatsResult], None], result: StatsResult
    ) -> None:
        if self._jobs.get(job.kind) is job:
            del self._jobs[job.kind]
        try:
            apply(result)
        except Exception:
            logger.exception("Viewer(): applying the channel statistics %s failed", job.kind)
        if not job.future.done():
            job.future.set_result(result)

    def _fail(self, job: _Job, exc: BaseException, *, warn: bool = True) -> None:
        if self._jobs.get(job.kind) is job:
            del self._jobs[job.kind]
        if warn:
            level = job.sample.level if job.sample is not None else len(self._layout.levels) - 1
            logger.warning(
                "Viewer(): could not read level %d %s (%s: %s); %s",
                level,
                job.purpose,
                type(exc).__name__,
                exc,
                job.fallback,
            )
        if job.sample is not None:
            job.sample.release()
        if not job.future.done():
            job.future.set_exception(exc)


_DONE: Future[None] = Future()
_DONE.set_result(None)
