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
**Lifetime.** A chunk lives in the pool's table while it has refs, then
(if ``cache_size > 0``) in a FIFO cache of unreferenced chunks; getting a
cached chunk moves it back to the table with its data. When the cache
overflows its *oldest* entry is destroyed. Destroying a chunk cancels its read
if that has not started (so dropped chunks are never read), releases the data
and calls the destroy handlers.

**Reads.** Each :class:`ChunkLocation` owns a
:class:`concurrent.futures.Future` from birth. The read is a small job on a
process-wide thread pool shared by all pools (one for local/in-memory stores,
sized to the cores; a wider one for remote stores, whose reads mostly wait on
the network). The job starts with ``future.set_running_or_notify_cancel()``,
so a chunk cancelled while queued costs nothing. How one chunk is read is in
:mod:`simplezarr.utils._chunkread` (chosen by measurement; see
``docs/performance.md``).

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

**Threads.** One lock guards the pool's tables; every public method can be
called from any thread. ``memory_usage`` is kept as a running sum under that
lock and counts loaded chunks, held or cached.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Generator
from typing import Any, Literal

import numpy as np
from zarr.storage import LocalStore, MemoryStore, ZipStore

from simplezarr.utils._chunkread import ChunkReader
from simplezarr.utils._location import ChunkLocation, Handler, _call_handler, _fire_load
from simplezarr.utils.multiscale import MultiscaleInfo

__all__ = ["ChunkLocation", "ChunkManager", "ChunkPool", "Handler"]

logger = logging.getLogger("simplezarr")

_Key = tuple[int, tuple[int, ...]]

_executors: dict[str, concurrent.futures.ThreadPoolExecutor] = {}
_executors_lock = threading.Lock()


def _executor(kind: Literal["local", "remote"]) -> concurrent.futures.ThreadPoolExecutor:
    """The shared read threads: as many as cores for local stores, 32 for remote ones."""
    with _executors_lock:
        ex = _executors.get(kind)
        if ex is None:
            n = max(2, os.cpu_count() or 2) if kind == "local" else 32
            ex = concurrent.futures.ThreadPoolExecutor(n, thread_name_prefix=f"simplezarr-{kind}")
            _executors[kind] = ex
        return ex


class ChunkPool:
    """An object to get access to individual chunks, with support for caching and parallel loading.

    Parameters
    ----------
    multiscale_info : MultiscaleInfo
        The multiscale_info object for which to create a pool.
    cache_size : int
        How many chunks without refs to keep in memory (oldest destroyed first).
        Default 0: a chunk is destroyed as soon as its last ref drops it.
    """

    def __init__(self, multiscale_info: MultiscaleInfo, cache_size: int = 0) -> None:
        if not isinstance(multiscale_info, MultiscaleInfo):
            raise TypeError(
                f"ChunkPool(): multiscale_info must be a MultiscaleInfo, not {multiscale_info!r}"
            )
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 0:
            raise ValueError(
                f"ChunkPool(): cache_size must be a non-negative int, not {cache_size!r}"
            )
        self._info = multiscale_info
        self._cache_size = cache_size
        self._lock = threading.RLock()
        self._chunks: dict[_Key, ChunkLocation] = {}  # held: at least one ref
        self._cache: OrderedDict[_Key, ChunkLocation] = OrderedDict()  # no refs, oldest first
        self._memory = 0
        self._call_soon: Callable[..., Any] | None = None
        self._readers = [ChunkReader(s.array, s.level) for s in multiscale_info.scales]
        self._executors = [
            _executor("local" if _is_local(s.array) else "remote") for s in multiscale_info.scales
        ]
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
        if call_soon_threadsafe == "none":
            fn: Callable[..., Any] | None = None
        elif call_soon_threadsafe == "asyncio":
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                raise RuntimeError(
                    "ChunkPool.enable_async_load_handlers('asyncio'): no asyncio loop is "
                    "running in this thread; call it from a coroutine or a notebook cell, or "
                    "pass loop.call_soon_threadsafe"
                ) from None
            fn = loop.call_soon_threadsafe
        elif callable(call_soon_threadsafe):
            fn = call_soon_threadsafe
        else:
            raise ValueError(
                "ChunkPool.enable_async_load_handlers(): expected a callable, 'asyncio' or "
                f"'none', not {call_soon_threadsafe!r}"
            )
        with self._lock:
            self._call_soon = fn
            ready = [c for c in self._chunks.values() if c._data is not None and c._load_handlers]
        if fn is not None:
            for chunk in ready:
                fn(_fire_load, chunk)

    def destroy(self) -> None:
        """Drop and destroy all chunks (calling their drop and destroy handlers)."""
        with self._lock:
            chunks = list(self._chunks.values()) + list(self._cache.values())
            drops = [(c, list(c._drop_handlers.values())) for c in chunks]
            for c in chunks:
                c._refs.clear()
                c._load_handlers.clear()
                c._drop_handlers.clear()
            self._chunks.clear()
            self._cache.clear()
        for chunk, handlers in drops:
            for h in handlers:
                _call_handler(h, chunk, "drop")
        for chunk in chunks:
            self._destroy(chunk)

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
        with self._lock:
            chunk = self._chunks.get(key)
            if chunk is None:
                key = self._check(level, index)
                chunk = self._cache.pop(key, None)
                if chunk is None:
                    chunk = self._new_chunk(*key)
                self._chunks[key] = chunk
            chunk._refs.add(ref)
            if load_handler is not None:
                chunk._load_handlers[ref] = load_handler
            if drop_handler is not None:
                chunk._drop_handlers[ref] = drop_handler
            if destroy_handler is not None:
                chunk._destroy_handlers[ref] = destroy_handler
            fire_now = load_handler is not None and chunk._data is not None
            call_soon = self._call_soon
        if fire_now and call_soon is not None:
            call_soon(_fire_load, chunk)
        return chunk

    def drop_chunk(self, level: int, index: tuple[int, ...], ref: str = "pool") -> None:
        """Release a chunk by its index.

        Invokes this ref's drop handler. When the chunk has no more refs it is
        cached (if ``cache_size > 0``) or destroyed. Dropping a chunk that this
        ref does not hold does nothing.
        """
        key = (level, index) if type(index) is tuple else (level, tuple(index))
        evicted: list[ChunkLocation] = []
        with self._lock:
            chunk = self._chunks.get(key)
            if chunk is None or ref not in chunk._refs:
                return
            chunk._refs.discard(ref)
            chunk._load_handlers.pop(ref, None)
            drop_handler = chunk._drop_handlers.pop(ref, None)
            if not chunk._refs:
                del self._chunks[key]
                failed = chunk._future.done() and chunk._data is None
                if self._cache_size > 0 and not failed:
                    self._cache[key] = chunk
                    while len(self._cache) > self._cache_size:
                        evicted.append(self._cache.popitem(last=False)[1])
                else:
                    evicted.append(chunk)
        if drop_handler is not None:
            _call_handler(drop_handler, chunk, "drop")
        for c in evicted:
            self._destroy(c)

    def iter_chunks(self) -> Generator[ChunkLocation, None, None]:
        """Iterate over all chunks in the pool: held (loading or loaded) and cached."""
        with self._lock:
            chunks = list(self._chunks.values()) + list(self._cache.values())
        yield from chunks

    def wait_for_chunks_to_load(self) -> None:
        """Wait for all requested chunks to load their data.

        Equivalent to calling ``wait()`` on every held chunk, except that every
        chunk is waited for before an error is raised: a failed read raises a
        :class:`~simplezarr.utils._chunkread.ChunkReadError` (the first one,
        with a note on how many failed) after the others have loaded.
        """
        with self._lock:
            chunks = list(self._chunks.values())
        concurrent.futures.wait([c._future for c in chunks])
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

    def _check(self, level: int, index: tuple[int, ...]) -> _Key:
        """Validate a (level, index) pair and return it with plain ints."""
        scales = self._info.scales
        if isinstance(level, bool) or not isinstance(level, int | np.integer):
            raise TypeError(f"ChunkPool.get_chunk(): level must be an int, not {level!r}")
        if not 0 <= level < len(scales):
            raise IndexError(
                f"ChunkPool.get_chunk(): level {level!r} is out of range (0..{len(scales) - 1})"
            )
        grid = self._grids[level]
        try:
            norm = tuple(int(i) for i in index)
        except (TypeError, ValueError):
            raise TypeError(
                f"ChunkPool.get_chunk(): index must be a tuple of ints, not {index!r}"
            ) from None
        if len(norm) != len(grid) or not all(0 <= i < n for i, n in zip(norm, grid, strict=True)):
            raise IndexError(
                f"ChunkPool.get_chunk(): index {index!r} is out of range for level {level} "
                f"(chunk grid {grid})"
            )
        return int(level), norm

    def _new_chunk(self, level: int, index: tuple[int, ...]) -> ChunkLocation:
        chunk = ChunkLocation(self._info.scales[level], index)
        chunk._pool = self
        self._executors[level].submit(self._load, chunk, self._readers[level])
        return chunk

    def _load(self, chunk: ChunkLocation, reader: ChunkReader) -> None:
        # Runs on a read thread.
        future = chunk._future
        if not future.set_running_or_notify_cancel():
            return  # destroyed before the read started: never read
        try:
            data = reader.read(chunk._index)
        except BaseException as exc:
            future.set_exception(exc)
            if self._call_soon is not None and chunk._load_handlers:
                # Nobody waits in async mode: say why the load handlers will not run.
                logger.warning("%s (its load handlers are not called)", exc)
            else:
                logger.debug("%s", exc)  # wait() raises it
            return
        with self._lock:
            if chunk._destroyed:
                call_soon = None
            else:
                chunk._data = data
                self._memory += data.nbytes
                call_soon = self._call_soon
        future.set_result(data)
        if call_soon is not None and chunk._load_handlers:
            try:
                call_soon(_fire_load, chunk)
            except RuntimeError:
                logger.debug("load handlers not scheduled: the loop is closed")

    def _destroy(self, chunk: ChunkLocation) -> None:
        with self._lock:
            if chunk._destroyed:
                return
            chunk._destroyed = True
            chunk._future.cancel()
            if chunk._data is not None:
                self._memory -= chunk._data.nbytes
                chunk._data = None
            handlers = list(chunk._destroy_handlers.values())
            chunk._destroy_handlers.clear()
        for h in handlers:
            _call_handler(h, chunk, "destroy")


def _is_local(array: Any) -> bool:
    return isinstance(array.store_path.store, LocalStore | MemoryStore | ZipStore)


class ChunkManager:
    """A simple wrapper for a ChunkPool that represents one specific 'user' of the pool.

    Subclass it and implement :meth:`on_load`, :meth:`on_drop` and
    :meth:`on_destroy`; they are registered as handlers for every chunk this
    manager gets. Each manager has its own ref, so several managers share a
    pool and its chunks safely.

    Parameters
    ----------
    pool : ChunkPool
        The pool to use.
    """

    _counter = itertools.count()

    def __init__(self, pool: ChunkPool) -> None:
        if not isinstance(pool, ChunkPool):
            raise TypeError(f"ChunkManager(): pool must be a ChunkPool, not {pool!r}")
        self._pool = pool
        self._ref = f"{type(self).__name__}-{next(ChunkManager._counter)}"
        self._held: set[_Key] = set()
        self._held_lock = threading.Lock()

    @property
    def pool(self) -> ChunkPool:
        """The pool this manager uses."""
        return self._pool

    @property
    def ref(self) -> str:
        """The unique ref under which this manager holds its chunks."""
        return self._ref

    @property
    def held(self) -> set[tuple[int, tuple[int, ...]]]:
        """The (level, index) of every chunk this manager holds (a copy)."""
        with self._held_lock:
            return set(self._held)

    def get_chunk(self, level: int, index: tuple[int, ...]) -> ChunkLocation:
        """Get a ChunkLocation object.

        The manager's ``on_load``, ``on_drop`` and ``on_destroy`` are
        registered as its handlers. With async load handlers enabled on the
        pool, ``on_load`` is called as soon as the data arrives.
        """
        chunk = self._pool.get_chunk(
            level,
            index,
            self._ref,
            load_handler=self.on_load,
            drop_handler=self.on_drop,
            destroy_handler=self.on_destroy,
        )
        with self._held_lock:
            self._held.add((chunk.level, chunk.index))
        return chunk

    def drop_chunk(self, level: int, index: tuple[int, ...]) -> None:
        """Release a chunk by its index, invoking ``on_drop``.

        When the chunk has no more refs, the chunk is destroyed (or cached).
        """
        index = tuple(index)
        with self._held_lock:
            self._held.discard((level, index))
        self._pool.drop_chunk(level, index, self._ref)

    def drop_all(self) -> None:
        """Drop every chunk this manager holds."""
        with self._held_lock:
            held = list(self._held)
            self._held.clear()
        for level, index in held:
            self._pool.drop_chunk(level, index, self._ref)

    def on_load(self, chunk_location: ChunkLocation) -> None:
        """Called when a chunk is loaded. Override this in your subclass."""

    def on_drop(self, chunk_location: ChunkLocation) -> None:
        """Called when a chunk is dropped. Override this in your subclass."""

    def on_destroy(self, chunk_location: ChunkLocation) -> None:
        """Called when a chunk is destroyed. Override this in your subclass."""
