"""Where a :class:`simplezarr.ComputedImage` computes its chunks: threads, a cluster, bounds.

Design
------
A chunk is asked for on an event loop (zarr's, through the store's ``get``):
:meth:`ChunkComputer.chunk` only queues a *job* and awaits its result, so no
loop ever waits on a store or runs ``fn``. Jobs run on process-wide compute
threads, reusing the chunk pool's read scheduling
(:mod:`simplezarr.utils._readthreads`): each image has one bounded
:class:`~simplezarr.utils._readthreads.ReadLane` (at most ``_MAX_QUEUED``
jobs, oldest refused first), a lane runs at most ``per_lane`` jobs at once,
idle threads serve the lanes in turn, and a watchdog fails a job that runs
past the image's ``timeout`` and replaces its thread (a ``fn`` that never
returns costs one thread, never the loop). Local sets have cores + 1 threads
(the work is ``fn``: numpy releases the GIL), cluster sets 32 (the work is
waiting on dask). A chained image (whose source is another
``ComputedImage``) waits on its source's jobs, so each chain depth has its
own set of threads: a job never waits on a job that needs a thread of its
own set, so chains cannot deadlock.

A job runs here (its source read through the image's bounded source pool,
see :mod:`simplezarr._computed_block`) or, with a ``dask.distributed``
client, on the cluster: ``client.submit(compute_on_worker, ...)`` with the
source description scattered once, the job's thread waiting on the dask
future and on the job's ``stop`` signal, bounded by the deadline.

**Cancelling.** When the awaiting coroutine is cancelled (the chunk pool
cancels a running read when its chunk is dropped: ``ReadCancel`` cancels the
read's task on zarr's loop) or times out, the job is stopped: removed from
its lane if still queued, else its ``stop`` Future is set, which ends its
waits for source chunks at once and makes the job's thread cancel its dask
future (``future.cancel()``, from the job's thread, never from a loop). A
``fn`` already running here cannot be interrupted: it finishes and its
result is discarded.

**Replacing fn.** A job takes the image's current ``(fn, generation)`` when
it starts; if the generation changed by the time it finishes it computes
again with the new ``fn`` (once; a second change fails the chunk), so a read
that ends after ``ci.fn = ...`` never returns the old function's result.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simplezarr._computed_block import (
    ComputeError,
    Stopped,
    apply_fn,
    compute_on_worker,
    read_block,
)
from simplezarr.utils._readthreads import ReadLane, ReadThreads
from simplezarr.utils.chunkpool import ChunkPool
from simplezarr.utils.multiscale import MultiscaleInfo

__all__ = ["MAX_DEPTH", "ChunkComputer"]

MAX_DEPTH = 8
"""Longest chain of ComputedImages (each depth has its own set of compute threads)."""

_MAX_QUEUED = 1024
"""Jobs one image may have queued (16 reads in flight per pool x 64 pools)."""

_MAX_STUCK = 8
"""Threads per set replaced at most when their fn runs past the timeout."""

Current = Callable[[], tuple[Callable[[np.ndarray], Any], int]]

_sets: dict[tuple[int, bool], ReadThreads] = {}
_sets_lock = threading.Lock()
_serials = itertools.count()


def _compute_threads(depth: int, cluster: bool) -> ReadThreads:
    """The process-wide compute threads for images at chain ``depth`` (see the module)."""
    with _sets_lock:
        threads = _sets.get((depth, cluster))
        if threads is None:
            name = f"simplezarr-computed{depth}{'-cluster' if cluster else ''}"
            if cluster:
                threads = ReadThreads(name, 32, per_lane=16, max_stuck=_MAX_STUCK)
            else:
                n = max(2, os.cpu_count() or 2) + 1
                threads = ReadThreads(name, n, per_lane=n - 1, max_stuck=_MAX_STUCK)
            _sets[depth, cluster] = threads
        return threads


@dataclass(eq=False)
class _Job:
    """One chunk to compute; hashable by identity (a lane's queue item)."""

    level: int
    index: tuple[int, ...]
    where: str
    deadline: float
    loop: asyncio.AbstractEventLoop
    result: asyncio.Future[bytes]
    stop: concurrent.futures.Future[None] = field(default_factory=concurrent.futures.Future)
    serial: int = field(default_factory=lambda: next(_serials))


class ChunkComputer:
    """Computes the chunks of one ComputedImage (see the module docstring).

    Parameters
    ----------
    name : str
        The image's name, for messages.
    source : MultiscaleInfo
        The source image.
    make_source_pool : callable
        Makes the pool the source is read through here (called once, lazily).
    halo, dtype, timeout
        As the image's.
    current : callable
        Returns the image's current ``(fn, generation)``.
    client : dask.distributed.Client, optional
        Computes on that cluster.
    depth : int
        Chain depth (0 for a source that is not computed).
    """

    def __init__(
        self,
        *,
        name: str,
        source: MultiscaleInfo,
        make_source_pool: Callable[[], ChunkPool],
        halo: int,
        dtype: np.dtype[Any],
        timeout: float,
        current: Current,
        client: Any = None,
        depth: int = 0,
    ) -> None:
        self._name = name
        self._source = source
        self._make_pool = make_source_pool
        self._halo = halo
        self._dtype = dtype
        self._timeout = timeout
        self._current = current
        self._client = client
        self._lock = threading.Lock()
        self._pool: ChunkPool | None = None
        self._scattered: tuple[Any, str] | None = None
        self._lane = ReadLane(
            _compute_threads(depth, client is not None),
            self,
            max_queued=_MAX_QUEUED,
            timeout=timeout,
            store=f"ComputedImage {name!r}",
        )

    def close(self) -> None:
        """Destroy the source pool and release the scattered source (both made again on use)."""
        with self._lock:
            pool, self._pool = self._pool, None
            self._scattered = None  # its dask Future's release frees it on the cluster
        if pool is not None:
            pool.destroy()

    def source_changed(self) -> None:
        """The source's content changed: scatter it again before the next cluster job."""
        with self._lock:
            self._scattered = None

    # -- on the loop --------------------------------------------------------------

    async def chunk(self, level: int, index: tuple[int, ...], where: str) -> bytes:
        """The encoded bytes of one whole chunk, computed off the loop within the timeout."""
        loop = asyncio.get_running_loop()
        job = _Job(
            level, index, where, time.monotonic() + self._timeout, loop, loop.create_future()
        )
        for item, reason in self._lane.submit(job):
            assert isinstance(item, _Job)
            self._refuse_read(item, reason)
        try:
            async with asyncio.timeout(self._timeout):
                return await job.result
        except TimeoutError:
            if job.result.done():
                raise  # the job's own error (asyncio.timeout did not fire)
            raise ComputeError(
                f"{where}: not computed within the timeout of {self._timeout:g} s"
            ) from None
        finally:
            self._stop(job)

    def _stop(self, job: _Job) -> None:
        if not self._lane.cancel(job):
            try:
                job.stop.set_result(None)
            except concurrent.futures.InvalidStateError:
                pass  # stopped already

    # -- the lane's client: on a compute thread or the watchdog --------------------------

    def _run_read(self, job: _Job, timeout: float) -> None:
        if job.stop.done():
            return  # nobody waits any more
        try:
            data = self._compute(job)
        except Stopped:
            return
        except ComputeError as exc:
            self._settle(job, None, exc)
        except Exception as exc:
            error = ComputeError(f"{job.where}: {type(exc).__name__}: {exc}")
            error.__cause__ = exc
            self._settle(job, None, error)
        else:
            self._settle(job, data, None)

    def _expire_read(self, job: _Job, timeout: float) -> None:
        self._stop(job)
        self._settle(
            job,
            None,
            ComputeError(f"{job.where}: fn ran longer than the timeout of {timeout:g} s"),
        )

    def _refuse_read(self, job: _Job, reason: str) -> None:
        self._settle(job, None, ComputeError(f"{job.where}: not computed: {reason}"))

    @staticmethod
    def _settle(job: _Job, data: bytes | None, exc: BaseException | None) -> None:
        def settle() -> None:
            if job.result.done():
                return
            if exc is not None:
                job.result.set_exception(exc)
            else:
                job.result.set_result(data)  # type: ignore[arg-type]

        try:
            job.loop.call_soon_threadsafe(settle)
        except RuntimeError:
            pass  # the loop is closed: nobody waits

    # -- computing -----------------------------------------------------------------

    def _compute(self, job: _Job) -> bytes:
        fn, generation = self._current()
        for _ in range(2):
            if self._client is not None:
                region = self._on_cluster(job, fn)
            else:
                region = self._here(job, fn)
            fn_now, generation_now = self._current()
            if generation_now == generation:
                return self._whole_chunk(job, region)
            fn, generation = fn_now, generation_now
        raise ComputeError(f"{job.where}: fn was replaced twice while the chunk was computed")

    def _whole_chunk(self, job: _Job, region: np.ndarray) -> bytes:
        chunks = self._source.scales[job.level].chunk_shape
        if region.shape == chunks:
            return np.ascontiguousarray(region, dtype=self._dtype.newbyteorder("<")).tobytes()
        whole = np.zeros(chunks, dtype=self._dtype.newbyteorder("<"))
        whole[tuple(slice(0, n) for n in region.shape)] = region
        return whole.tobytes()

    def _source_pool(self) -> ChunkPool:
        with self._lock:
            if self._pool is None:
                self._pool = self._make_pool()
            return self._pool

    def _here(self, job: _Job, fn: Callable[[np.ndarray], Any]) -> np.ndarray:
        pool = self._source_pool()
        try:
            block = read_block(
                pool,
                job.level,
                job.index,
                self._halo,
                deadline=job.deadline,
                stop=job.stop,
                ref=f"computed-{job.serial}",
                where=job.where,
            )
        except TimeoutError as exc:
            raise ComputeError(str(exc)) from exc
        scale = pool.multiscale_info.scales[job.level]
        return apply_fn(fn, block, scale, job.index, self._halo, self._dtype, job.where)

    def _scatter(self) -> tuple[Any, str]:
        """The source description on the cluster (scattered once) and its token."""
        with self._lock:
            if self._scattered is None:
                import cloudpickle

                blob = cloudpickle.dumps(self._source)
                future = self._client.scatter(blob, hash=False)
                self._scattered = (future, uuid.uuid4().hex)
            return self._scattered

    def _on_cluster(self, job: _Job, fn: Callable[[np.ndarray], Any]) -> np.ndarray:
        source, token = self._scatter()
        remaining = job.deadline - time.monotonic()
        future = self._client.submit(
            compute_on_worker,
            source,
            token,
            job.level,
            job.index,
            self._halo,
            fn,
            self._dtype,
            max(remaining, 0.001),
            job.where,
            pure=False,
        )
        done: concurrent.futures.Future[None] = concurrent.futures.Future()

        def finished(_: Any) -> None:
            try:
                done.set_result(None)
            except concurrent.futures.InvalidStateError:
                pass

        future.add_done_callback(finished)
        ended, _ = concurrent.futures.wait(
            [done, job.stop], max(0.0, remaining), concurrent.futures.FIRST_COMPLETED
        )
        if done not in ended:
            future.cancel()  # from this thread: never from a loop
            if job.stop.done():
                raise Stopped(job.where)
            raise ComputeError(
                f"{job.where}: not computed on the cluster within {self._timeout:g} s"
            )
        try:
            result: np.ndarray = future.result(timeout=max(0.001, job.deadline - time.monotonic()))
        except ComputeError:
            raise
        except Exception as exc:
            raise ComputeError(
                f"{job.where}: on the cluster: {type(exc).__name__}: {exc}"
            ) from exc
        return result
