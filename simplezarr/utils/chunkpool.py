"""Support for managing a pool of chunks, multi-user, with caching and lifetime handlers.

The :class:`ChunkPool` keeps track of the individual chunks of one multiscale
image, making it easy to get and drop them. The pool supports several *users*
(identified by a ``ref`` string) and only destroys a chunk when no user holds
it any more. A cache of ``cache_size`` unused chunks makes getting them again
nearly free. Handlers can be attached to each chunk's lifetime events (load,
drop, destroy). :class:`ChunkManager` is a thin wrapper that is one user of a
pool and whose ``on_load``/``on_drop``/``on_destroy`` methods are the handlers:
code that decides *which* chunks are needed stays apart from code that decides
*what happens* to them.

Design
------
**Lifetime.** A chunk lives in the pool's table while it has refs. When its
last ref drops it, it is destroyed, unless ``cache_size > 0`` and its data is
loaded: then it moves to a FIFO cache of unreferenced chunks, and getting it
again moves it back with its data. A cache holds data, not promises: a chunk
whose read is queued or running when its last ref drops is destroyed, its
queued read cancelled and a running one stopped (async stores) or discarded,
so panning fast over a huge image leaves no stale reads ahead of the ones
wanted now. When the cache holds more than ``cache_size`` chunks, or the pool
more than ``memory_budget`` bytes, the *oldest* cached chunks are destroyed.
Destroying a chunk cancels its Future at once (``wait()`` raises), releases
the data and calls the destroy handlers.

**Reads.** Each :class:`ChunkLocation` owns a
:class:`concurrent.futures.Future` from birth. Its read is queued in the
pool's own bounded *lane* on process-wide read threads shared by all pools
(one set for local/in-memory stores, sized to the cores; 32 threads for remote
stores, whose reads mostly wait on the network). A lane runs at most part of
those threads at once (all but one local thread, 16 of 32 remote ones) and
idle threads serve the lanes in turn, so one pool, or one store that hangs,
never takes every thread from the others; see
:mod:`simplezarr.utils._readthreads`. Every read has a deadline,
``read_timeout`` (default 30 s): past it, the chunk fails with a
:class:`~simplezarr.utils.ChunkReadTimeout` naming level, index and
store; reads through async stores are cancelled there, and a thread stuck in a
blocking read is replaced. Queued reads start oldest first (a viewer asks
centre-out, so the centre is read first); a lane holds at most 8192 and then
refuses its oldest, and a lane whose every running read is stuck refuses the
rest (the store hangs) until one returns, each with an error saying so. How
one chunk is read (and its crc32c checksums verified) is in
:mod:`simplezarr.utils._chunkread`.

**Failures.** A failed, late or refused read settles the chunk's Future with
the error; ``wait()`` raises it. The pool is the one layer that logs it: one
line per failed read, a warning when load handlers run asynchronously (no
``wait()`` will raise it), else at debug level.

**Memory.** ``memory_usage`` is the running sum of the loaded chunks' bytes,
held or cached. With ``memory_budget`` the cache gives up its oldest chunks
to stay within the budget. Held chunks are never given up: if they alone
exceed the budget, their reads still happen, the cache stays empty,
``memory_excess`` says by how much, and one warning is logged each time the
pool goes over.

**Handlers.** Each ref can attach a load, drop and destroy handler when it
gets a chunk. A load handler fires once per acquisition, after the data is
there: by default when the chunk is waited upon (``wait()`` or
``wait_for_chunks_to_load()``, in the waiting thread); after
``enable_async_load_handlers(...)`` as soon as the data arrives, through the
given ``call_soon_threadsafe`` (e.g. on the kernel's asyncio loop). A drop
handler fires when its ref drops the chunk; destroy handlers fire once when the
chunk is destroyed. Handlers run without the pool's lock held and may call the
pool; an exception in a handler is logged with its traceback and affects
nothing else.

**Statistics.** :meth:`ChunkPool.stats` is a :class:`PoolStats`: held and
cached chunks per level (counted as chunks move, never by walking the
tables), memory against the budget, cache hits and misses, reads done,
failed, running and queued, bytes fetched and read time;
:meth:`ChunkPool.chunk_states` gives each held or cached chunk of a level its
state (see :mod:`simplezarr.utils._poolstats`).

**Threads.** One lock guards the pool's tables and memory sum; every public
method can be called from any thread. Chunks are changed only through their
small private interface (:mod:`simplezarr.utils._location`), under this lock;
Futures are settled and handlers called after it is released.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Generator
from typing import Any, Literal

from zarr.storage import LocalStore, MemoryStore, ZipStore

from simplezarr.utils._chunkread import (
    ChunkReader,
    ChunkReadError,
    ReadCancel,
    read_timeout_error,
)
from simplezarr.utils._location import ChunkLocation, Handler, _call_handler
from simplezarr.utils._manager import ChunkManager
from simplezarr.utils._poolargs import check_call_soon, check_key, check_options
from simplezarr.utils._poolstats import (
    CHUNK_STATES,
    ChunkState,
    PoolCounters,
    PoolStats,
    check_level,
    snapshot,
    states_of,
)
from simplezarr.utils._readthreads import Kind, ReadLane, read_threads
from simplezarr.utils.multiscale import MultiscaleInfo

__all__ = [
    "CHUNK_STATES",
    "ChunkLocation",
    "ChunkManager",
    "ChunkPool",
    "ChunkState",
    "Handler",
    "PoolStats",
]

logger = logging.getLogger("simplezarr")

_Key = tuple[int, tuple[int, ...]]
_Retired = tuple[ChunkLocation, list[Handler]]  # a destroyed chunk and its destroy handlers

_MAX_QUEUED = 8192
"""Reads one pool may have queued per set of read threads (8 views x 1024 tiles)."""


class ChunkPool:
    """An object to get access to individual chunks, with support for caching and parallel loading.

    Parameters
    ----------
    multiscale_info : MultiscaleInfo
        The multiscale_info object for which to create a pool.
    cache_size : int
        How many chunks without refs to keep in memory (oldest destroyed first).
        Default 0: a chunk is destroyed as soon as its last ref drops it.
    read_timeout : float
        Seconds one chunk read may take (store IO and decode, from the moment
        it starts); a later read fails with a ``ChunkReadTimeout`` naming level,
        index and store. Default 30.
    memory_budget : int, optional
        Bytes of chunk data (held and cached) the pool aims to stay under: the
        cache gives up its oldest chunks to stay within it. Held chunks are
        always kept and read; when they alone exceed the budget the cache is
        empty and `memory_excess` is the excess. Default None: only
        ``cache_size`` bounds the cache.
    """

    def __init__(
        self,
        multiscale_info: MultiscaleInfo,
        cache_size: int = 0,
        *,
        read_timeout: float = 30.0,
        memory_budget: int | None = None,
    ) -> None:
        check_options(multiscale_info, cache_size, read_timeout, memory_budget)
        self._info = multiscale_info
        self._cache_size = cache_size
        self._read_timeout = float(read_timeout)
        self._budget = memory_budget
        self._over_budget = False
        self._lock = threading.RLock()
        self._chunks: dict[_Key, ChunkLocation] = {}  # held: at least one ref
        self._cache: OrderedDict[_Key, ChunkLocation] = OrderedDict()  # no refs, oldest first
        self._memory = 0
        self._counts = PoolCounters(len(multiscale_info.scales))  # see stats()
        self._reading: dict[ChunkLocation, ReadCancel] = {}  # reads running now
        self._call_soon: Callable[..., Any] | None = None
        self._readers = [ChunkReader(s.array, s.level) for s in multiscale_info.scales]
        lanes: dict[str, ReadLane] = {}
        self._lanes: list[ReadLane] = []
        for scale in multiscale_info.scales:
            store = scale.array.store_path.store
            kind: Kind = (
                "local" if isinstance(store, LocalStore | MemoryStore | ZipStore) else "remote"
            )
            if kind not in lanes:
                lanes[kind] = ReadLane(
                    read_threads(kind),
                    self,
                    max_queued=_MAX_QUEUED,
                    timeout=self._read_timeout,
                    store=str(store),
                )
            self._lanes.append(lanes[kind])
        self._grids = [s.chunk_grid_shape for s in multiscale_info.scales]

    @classmethod
    def from_zarr_node(cls, zarr_node: Any, cache_size: int = 0) -> list[ChunkPool]:
        """Create a ChunkPool for every (multiscale) image in the given Zarr node."""
        return [cls(info, cache_size) for info in MultiscaleInfo.from_zarr_node(zarr_node)]

    def __repr__(self) -> str:
        return (
            f"<ChunkPool {self._info.name!r} levels={len(self._info.scales)} "
            f"held={len(self._chunks)} cached={len(self._cache)} memory={self._memory}>"
        )

    def __enter__(self) -> ChunkPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.destroy()

    @property
    def multiscale_info(self) -> MultiscaleInfo:
        """The MultiscaleInfo object that represents the information on the multiscale image."""
        return self._info

    @property
    def cache_size(self) -> int:
        """How many unreferenced chunks are kept."""
        return self._cache_size

    @property
    def read_timeout(self) -> float:
        """Seconds one chunk read may take before it fails with a ``ChunkReadTimeout``."""
        return self._read_timeout

    @property
    def memory_budget(self) -> int | None:
        """Bytes of chunk data the cache keeps the pool under (None: no budget)."""
        return self._budget

    @property
    def memory_excess(self) -> int:
        """Bytes by which held chunks alone exceed `memory_budget` (0 when within it)."""
        budget = self._budget
        return 0 if budget is None else max(0, self._memory - budget)

    @property
    def async_load_handlers(self) -> bool:
        """Whether load handlers run as soon as data arrives (see `enable_async_load_handlers`).

        In that mode a failed read is logged as a warning (naming level,
        index and store), since no ``wait()`` raises it.
        """
        return self._call_soon is not None

    @property
    def memory_usage(self) -> int:
        """The current memory usage in bytes.

        The sum of the (uncompressed) sizes of the arrays of the loaded chunks,
        held and cached alike.
        """
        return self._memory

    def enable_async_load_handlers(
        self, call_soon_threadsafe: Callable[..., Any] | Literal["asyncio", "none"]
    ) -> None:
        """Set the pool up to asynchronously call the load-handlers.

        Parameters
        ----------
        call_soon_threadsafe : callable or "asyncio" or "none"
            A function like :meth:`asyncio.loop.call_soon_threadsafe` that runs
            ``f(*args)`` soon in the thread the handlers belong to.
            ``"asyncio"`` takes the running asyncio loop of the calling thread
            (e.g. the kernel's, when called in a notebook cell). ``"none"``
            returns to calling load handlers when chunks are waited upon.
        """
        fn = check_call_soon(call_soon_threadsafe)
        with self._lock:
            self._call_soon = fn
            ready = [c for c in self._chunks.values() if c._has_pending_load()]
        if fn is not None:
            for chunk in ready:
                fn(self._fire_load, chunk)

    def destroy(self) -> None:
        """Drop and destroy all chunks (calling their drop and destroy handlers).

        Queued reads are cancelled; ``wait()`` on any of these chunks raises
        at once, even if its read is still running. The pool stays usable.
        """
        with self._lock:
            chunks = list(self._chunks.values()) + list(self._cache.values())
            drops = [(c, c._release_all()) for c in chunks]
            self._chunks.clear()
            self._cache.clear()
            self._counts.forget_chunks()
        for chunk, handlers in drops:
            for h in handlers:
                _call_handler(h, chunk, "drop")
        self._destroy(chunks)

    def get_chunk(
        self,
        level: int,
        index: tuple[int, ...],
        ref: str = "pool",
        *,
        load_handler: Handler | None = None,
        drop_handler: Handler | None = None,
        destroy_handler: Handler | None = None,
    ) -> ChunkLocation:
        """Get a ChunkLocation object.

        Parameters
        ----------
        level : int
            The scale level for the requested chunk.
        index : tuple[int, ...]
            The index for the requested chunk (one integer per array axis).
        ref : str
            Identifies the code that requests the chunk; the pool ref-counts by
            it and destroys the chunk when no refs are left. Default "pool".
        load_handler, drop_handler, destroy_handler : callable, optional
            Called with the ChunkLocation when it is loaded (once per get),
            dropped by this ref, and destroyed.

        Returns
        -------
        ChunkLocation
            The requested chunk; its data may still be loading. Use
            ``chunk_location.wait()`` or :meth:`wait_for_chunks_to_load`.
        """
        key = (level, index) if type(index) is tuple else (level, tuple(index))
        refused: list[tuple[Any, str]] = []
        with self._lock:
            chunk = self._chunks.get(key)
            if chunk is None:
                key = check_key(self._grids, level, index)
                chunk = self._cache.pop(key, None)
                counts = self._counts
                if chunk is None:
                    chunk = ChunkLocation(self._info.scales[key[0]], key[1])
                    chunk._attach(self)
                    counts.cache_misses += 1
                    refused = self._lanes[key[0]].submit(chunk)
                else:
                    counts.cache_hits += 1
                    counts.cached[key[0]] -= 1
                counts.held[key[0]] += 1
                self._chunks[key] = chunk
            chunk._hold(ref, load_handler, drop_handler, destroy_handler)
            fire_now = load_handler is not None and chunk.loaded
            call_soon = self._call_soon
        for item, reason in refused:
            self._refuse_read(item, reason)
        if fire_now and call_soon is not None:
            call_soon(self._fire_load, chunk)
        return chunk

    def drop_chunk(self, level: int, index: tuple[int, ...], ref: str = "pool") -> None:
        """Release a chunk by its index.

        Invokes this ref's drop handler. When the chunk has no more refs it is
        cached (if ``cache_size > 0`` and its data is loaded) or destroyed: a
        read not started yet is cancelled, a running one stopped where the
        store allows (async stores) or its result discarded. Dropping a chunk
        that this ref does not hold does nothing.
        """
        key = (level, index) if type(index) is tuple else (level, tuple(index))
        retired: list[_Retired] = []
        with self._lock:
            chunk = self._chunks.get(key)
            if chunk is None:
                return
            held, last, drop_handler = chunk._release(ref)
            if not held:
                return
            if last:
                del self._chunks[key]
                self._counts.held[key[0]] -= 1
                if self._cache_size > 0 and chunk.loaded:
                    self._cache[key] = chunk
                    self._counts.cached[key[0]] += 1
                    retired = self._evict()
                else:
                    retired = [r for r in [self._retire(chunk)] if r is not None]
        if drop_handler is not None:
            _call_handler(drop_handler, chunk, "drop")
        self._destroyed(retired)

    def iter_chunks(self) -> Generator[ChunkLocation, None, None]:
        """Iterate over all chunks in the pool: held (loading or loaded) and cached."""
        with self._lock:
            chunks = list(self._chunks.values()) + list(self._cache.values())
        yield from chunks

    def stats(self) -> PoolStats:
        """What the pool holds now and did so far (see :class:`PoolStats` for each field).

        Cheap (no walk over the chunks) and safe from any thread.
        """
        with self._lock:
            return snapshot(
                self._counts,
                self._memory,
                self._budget,
                self._lanes,
                self._readers,
                len(self._reading),
            )

    def chunk_states(self, level: int) -> dict[tuple[int, ...], ChunkState]:
        """The state of each chunk of ``level`` in the pool, by index.

        ``"held"`` (a ref holds it, data loaded), ``"loading"`` (held, read
        queued or running), ``"failed"`` (held, read failed) or ``"cached"``
        (no ref, data kept); chunks not in the pool are absent. Walks only the
        held and cached chunks (bounded by the cache size and what is held).
        """
        check_level("ChunkPool.chunk_states()", len(self._grids), level)
        with self._lock:
            return states_of(self._chunks, self._cache, level)

    def wait_for_chunks_to_load(self, *, timeout: float | None = None) -> None:
        """Wait for all requested chunks to load their data.

        Equivalent to calling ``wait()`` on every held chunk, except that every
        chunk is waited for before an error is raised: a failed read raises a
        :class:`~simplezarr.utils.ChunkReadError` (the first one,
        with a note on how many failed) after the others have loaded.

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait at most for all of them; then ``TimeoutError``
            says how many did not load (their reads go on).
        """
        with self._lock:
            chunks = list(self._chunks.values())
        _, late = concurrent.futures.wait([c.future for c in chunks], timeout)
        if late:
            raise TimeoutError(
                f"ChunkPool.wait_for_chunks_to_load(): {len(late)} of {len(chunks)} chunks "
                f"did not load within {timeout:g} s"
            )
        errors = []
        for chunk in chunks:
            try:
                chunk.wait()
            except RuntimeError:
                pass  # destroyed meanwhile by another thread: not an error of this wait
            except Exception as exc:
                errors.append(exc)
        if errors:
            first = errors[0]
            if len(errors) > 1:
                first.add_note(f"ChunkPool.wait_for_chunks_to_load(): {len(errors)} chunks failed")
            raise first

    # -- internals --------------------------------------------------------------

    def _evict(self) -> list[_Retired]:
        """Destroy the oldest cached chunks while over ``cache_size`` or the budget (locked)."""
        cache, budget = self._cache, self._budget
        retired = []
        while cache and (
            len(cache) > self._cache_size or (budget is not None and self._memory > budget)
        ):
            chunk = cache.popitem(last=False)[1]
            self._counts.cached[chunk.level] -= 1
            retired.append(self._retire(chunk))
        return [r for r in retired if r is not None]

    def _retire(self, chunk: ChunkLocation) -> _Retired | None:
        """Destroy a chunk already out of the tables (locked); _destroyed() finishes it."""
        result = chunk._destroy()
        if result is None:
            return None
        freed, handlers, queued = result
        self._memory -= freed
        if queued:
            self._lanes[chunk.level].cancel(chunk)  # never read
        else:
            reading = self._reading.get(chunk)
            if reading is not None:
                reading.cancel()  # stops at once if it waits on zarr's loop
        return chunk, handlers

    def _destroy(self, chunks: list[ChunkLocation]) -> None:
        """Destroy chunks already out of the tables."""
        with self._lock:
            retired = [r for r in map(self._retire, chunks) if r is not None]
        self._destroyed(retired)

    @staticmethod
    def _destroyed(retired: list[_Retired]) -> None:
        """Cancel the Futures and call the destroy handlers (lock released)."""
        for chunk, handlers in retired:
            chunk._settle_cancel()
            for h in handlers:
                _call_handler(h, chunk, "destroy")

    # -- the lane's client: runs, expires and refuses reads ------------------------

    def _run_read(self, chunk: ChunkLocation, timeout: float) -> None:
        # On a read thread.
        cancel = ReadCancel()
        with self._lock:
            if not chunk._start_read():
                return  # destroyed before the read started: never read
            self._reading[chunk] = cancel
        started = time.perf_counter()
        try:
            data = self._readers[chunk.level].read(chunk.index, timeout=timeout, cancel=cancel)
        except Exception as exc:
            with self._lock:
                del self._reading[chunk]
            self._fail(chunk, exc)
            return
        with self._lock:
            del self._reading[chunk]
            if not chunk._finish_read(data):
                return  # timed out or destroyed meanwhile: discard
            self._counts.reads += 1
            self._counts.read_seconds += time.perf_counter() - started
            self._memory += data.nbytes
            retired = self._evict()
            warning = self._budget_warning()
            call_soon = self._call_soon if chunk._has_load_handlers() else None
        if warning:
            logger.warning("%s", warning)  # before the Future settles: a waiter sees it logged
        chunk._settle_result(data)
        self._destroyed(retired)
        if call_soon is not None:
            try:
                call_soon(self._fire_load, chunk)
            except RuntimeError:
                logger.debug("load handlers not scheduled: the loop is closed")

    def _expire_read(self, chunk: ChunkLocation, timeout: float) -> None:
        store = self._readers[chunk.level].describe_store()
        self._fail(chunk, read_timeout_error(chunk.level, chunk.index, store, timeout))

    def _refuse_read(self, chunk: ChunkLocation, reason: str) -> None:
        self._fail(
            chunk, ChunkReadError(f"{reason} (level {chunk.level} chunk {chunk.index} not read)")
        )

    def _fail(self, chunk: ChunkLocation, exc: Exception) -> None:
        """Settle a read as failed and log it: the one place that decides what is logged."""
        with self._lock:
            if not chunk._fail_read():
                return  # already settled (timed out, destroyed): one error per read
            self._counts.read_failures += 1
            unseen = self._call_soon is not None and chunk._has_load_handlers()
        if unseen:
            # Nobody waits in async mode: say why the load handlers will not run.
            logger.warning("%s (its load handlers are not called)", exc)
        else:
            logger.debug("%s", exc)  # wait() raises it
        chunk._settle_error(exc)  # after the log line: whoever waits finds it written

    def _budget_warning(self) -> str | None:
        """A message the first time held chunks alone exceed the budget (locked)."""
        budget = self._budget
        if budget is None or self._memory <= budget:
            self._over_budget = False
            return None
        if self._over_budget:
            return None
        self._over_budget = True
        return (
            f"ChunkPool {self._info.name!r}: held chunks use {self._memory:,} bytes, over the "
            f"memory_budget of {budget:,}; the cache is empty and reads go on "
            "(see ChunkPool.memory_excess)"
        )

    # -- the chunks' owner ---------------------------------------------------------

    def _chunk_waited(self, chunk: ChunkLocation) -> None:
        if self._call_soon is None:
            self._fire_load(chunk)

    def _fire_load(self, chunk: ChunkLocation) -> None:
        """Call (and forget) the chunk's pending load handlers, if its data is there."""
        with self._lock:
            handlers = chunk._take_load_handlers()
        for h in handlers:
            _call_handler(h, chunk, "load")
