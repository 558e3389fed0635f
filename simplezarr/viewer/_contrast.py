"""Default contrast limits per channel, read without ever waiting on a store unbounded.

When the channel shown has no ``omero`` window, its default contrast limits
are the 0.5 / 99.5 percentiles of the middle (at most) 2048 x 2048 pixels of
its plane in the coarsest level. A store may be slow or hang, and
``Viewer()`` runs in a notebook cell on the kernel's loop thread, so:

- :class:`ContrastRead` gets the sample's chunks through the viewer's
  :class:`~simplezarr.utils.ChunkPool` (its read threads, its read timeout,
  its cancellation of reads not started) and completes a Future;
- :class:`ChannelContrast` keeps the limits per channel. With a running loop
  it returns the provisional limits at once (``omero`` window, else the
  dtype's range: :func:`._defaults.provisional_contrast`) and hands the
  read's result to ``apply`` on the loop when it comes; without one it waits
  for the read at most the pool's read timeout (30 s when the pool has
  none), then warns and keeps the provisional limits. A failed read is a
  warning naming the level and the error; the provisional limits stay.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import numpy as np

from simplezarr.utils.chunkpool import ChunkLocation, ChunkPool

from ._defaults import omero_window, provisional_contrast
from .geometry import ImageLayout

__all__ = ["ChannelContrast", "ContrastRead"]

logger = logging.getLogger("simplezarr")

# Plane of the coarsest level sampled for default contrast limits: at most this many pixels a side.
_CONTRAST_SAMPLE = 2048
# Without a loop, the longest wait for a sample when the pool has no read timeout, in seconds.
_CONTRAST_WAIT = 30.0


class ContrastRead:
    """The 0.5 / 99.5 percentiles of one plane of the coarsest level, read through the pool.

    The sample is the middle ``2048 x 2048`` pixels (at most) of the plane at
    ``position`` (level-0 indices). Its chunks are got from ``pool`` under a
    ref of their own as soon as this is made; :attr:`future` completes with
    ``[lo, hi]`` when they are read (the percentiles are computed in the
    thread that delivered the last chunk), or with the first read's error.
    The chunks are dropped right after; :meth:`cancel` drops them earlier (a
    read not started is never made) and cancels the future.
    """

    _counter = itertools.count()

    def __init__(self, pool: ChunkPool, layout: ImageLayout, position: Mapping[str, int]) -> None:
        self.future: Future[list[float]] = Future()
        self._pool = pool
        self._ref = f"ContrastRead-{next(ContrastRead._counter)}"
        self._lock = threading.Lock()
        self.level = level = len(layout.levels) - 1
        geometry = layout.levels[level]
        window = []
        for n, c in zip(geometry.shape, geometry.chunk, strict=True):
            start = max(0, (n - _CONTRAST_SAMPLE) // 2)
            stop = min(n, start + _CONTRAST_SAMPLE)
            window.append((start, stop, range(start // c, -(-stop // c))))
        (y0, y1, rows), (x0, x1, cols) = window
        slider_chunks, within = layout.locate(level, position)
        plane = layout.plane_selection(within)
        ch, cw = geometry.chunk
        # per chunk: its (level, index) and the sample's part of its plane
        self._parts: list[tuple[tuple[int, ...], tuple[int | slice, ...], slice, slice]] = [
            (
                layout.chunk_index((iy, ix), slider_chunks),
                plane,
                slice(max(y0, iy * ch) - iy * ch, min(y1, (iy + 1) * ch) - iy * ch),
                slice(max(x0, ix * cw) - ix * cw, min(x1, (ix + 1) * cw) - ix * cw),
            )
            for iy in rows
            for ix in cols
        ]
        self._locations: list[ChunkLocation] = []
        self._released = False
        try:
            for index, *_ in self._parts:
                self._locations.append(pool.get_chunk(level, index, self._ref))
        except Exception as exc:
            self._finish(exc)
            return
        self._remaining = len(self._locations)
        if not self._locations:
            self._finish([0.0, 1.0])
        for loc in list(self._locations):
            loc.future.add_done_callback(self._chunk_done)

    def cancel(self) -> None:
        """Stop: drop the chunks (unstarted reads are not made) and cancel :attr:`future`."""
        self.future.cancel()
        self._release()

    def _chunk_done(self, future: Future[Any]) -> None:  # on a read thread (or here)
        if self.future.done():
            return
        if future.cancelled() or future.exception() is not None:
            self._finish(future.exception() or RuntimeError("the read was cancelled"))
            return
        with self._lock:
            self._remaining -= 1
            last = self._remaining == 0
        if not last:
            return
        try:
            result: list[float] | BaseException = _percentiles(
                [
                    np.asarray(loc.data[plane])[rows, cols]
                    for loc, (_, plane, rows, cols) in zip(
                        self._locations, self._parts, strict=True
                    )
                ]
            )
        except Exception as exc:  # e.g. dropped meanwhile: data released
            result = exc
        self._finish(result)

    def _finish(self, result: list[float] | BaseException) -> None:
        with self._lock:
            done = self.future.done()
            if not done:
                if isinstance(result, BaseException):
                    self.future.set_exception(result)
                else:
                    self.future.set_result(result)
        self._release()

    def _release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
            locations = list(self._locations)
        for loc in locations:
            self._pool.drop_chunk(loc.level, loc.index, self._ref)


class ChannelContrast:
    """The default contrast limits of each channel of one viewer.

    Parameters
    ----------
    pool : ChunkPool
        Reads the samples.
    layout : ImageLayout
        The image's layout (which slider is the channel).
    loop : asyncio.AbstractEventLoop, optional
        The kernel's loop: reads are not waited for, their results go to
        ``apply`` on it. ``None``: :meth:`limits` waits, bounded.
    apply : callable
        ``apply(channel, limits)``, called on ``loop`` when a read completes.
    """

    def __init__(
        self,
        pool: ChunkPool,
        layout: ImageLayout,
        *,
        loop: asyncio.AbstractEventLoop | None,
        apply: Callable[[int, list[float]], None],
    ) -> None:
        self._pool = pool
        self._layout = layout
        self._loop = loop
        self._apply = apply
        self._known: dict[int, list[float]] = {}
        self._reads: dict[int, tuple[ContrastRead, asyncio.Future[None]]] = {}
        self._closed = False

    def channel(self, position: Mapping[str, int]) -> int:
        """The channel index of a level-0 ``position`` (0 without a channel slider)."""
        name = self._layout.channel_slider
        return int(position.get(name, 0)) if name is not None else 0

    def limits(self, position: Mapping[str, int]) -> list[float]:
        """The limits to show now for ``position``'s channel; starts its read if needed."""
        info = self._pool.multiscale_info
        channel = self.channel(position)
        known = self._known.get(channel) or omero_window(info, position)
        if known is not None:
            return known
        provisional = provisional_contrast(info, position)
        if channel in self._reads or self._closed:
            return provisional
        read = ContrastRead(self._pool, self._layout, dict(position))
        if self._loop is None:
            wait = getattr(self._pool, "read_timeout", None) or _CONTRAST_WAIT
            try:
                self._known[channel] = limits = read.future.result(timeout=wait)
                return limits
            except FutureTimeout:
                read.cancel()
                logger.warning(
                    "Viewer(): level %d did not arrive within %g s to choose contrast limits; "
                    "using %s",
                    read.level,
                    wait,
                    provisional,
                )
            except Exception as exc:
                _warn(read, exc, provisional)
            return provisional
        applied: asyncio.Future[None] = self._loop.create_future()
        self._reads[channel] = (read, applied)
        call_soon = self._loop.call_soon_threadsafe

        def done(future: Future[list[float]]) -> None:  # on a read thread
            try:
                call_soon(self._done, channel, read, applied, provisional)
            except RuntimeError:
                pass  # the loop is closed

        read.future.add_done_callback(done)
        return provisional

    async def settled(self) -> None:
        """Return once no read is pending (each one applied or failed)."""
        for _, applied in list(self._reads.values()):
            await applied

    def close(self) -> None:
        """Cancel the pending reads (their chunks are dropped)."""
        self._closed = True
        for read, applied in self._reads.values():
            read.cancel()
            if not applied.done():
                applied.set_result(None)
        self._reads.clear()

    def _done(
        self,
        channel: int,
        read: ContrastRead,
        applied: asyncio.Future[None],
        provisional: list[float],
    ) -> None:  # on the loop
        if self._reads.get(channel, (None,))[0] is read:
            del self._reads[channel]
        try:
            if self._closed or read.future.cancelled():
                return
            try:
                limits = read.future.result()
            except Exception as exc:
                _warn(read, exc, provisional)
                return
            self._known[channel] = limits
            try:
                self._apply(channel, limits)
            except Exception:
                logger.exception("Viewer(): applying contrast limits %s failed", limits)
        finally:
            if not applied.done():
                applied.set_result(None)


def _warn(read: ContrastRead, exc: BaseException, fallback: list[float]) -> None:
    logger.warning(
        "Viewer(): could not read level %d to choose contrast limits (%s: %s); using %s",
        read.level,
        type(exc).__name__,
        exc,
        fallback,
    )


def _percentiles(pieces: list[np.ndarray]) -> list[float]:
    """0.5 / 99.5 percentiles of the values in ``pieces`` (finite values of floats)."""
    kind = pieces[0].dtype.kind if pieces else "b"
    if kind not in "uif":  # bool and others
        return [0.0, 1.0]
    values = np.concatenate([p.ravel() for p in pieces])
    if kind == "f":
        values = values[np.isfinite(values)]
    if values.size == 0:
        return [0.0, 1.0]
    lo, hi = (float(v) for v in np.percentile(values, [0.5, 99.5]))
    if not hi > lo:
        hi = lo + 1.0
    return [lo, hi]
