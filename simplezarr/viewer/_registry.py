"""One pool per image per kernel: the registry that lets viewers share their chunks.

Two ``Viewer(path)`` calls on the same image used to make two pools and read
every chunk twice. :func:`shared_pool` keys a pool by the *resolved* image
(the store its level-0 array lives in, and that array's path inside it), so
the same image opened twice — the same path, an equal URL, the same zarr
store — gets the pool already open, and each viewer (or layer, or view) takes
a *lease* on it. :func:`release_pool` returns a lease; the last one destroys
the pool. The registry itself holds pools *weakly*: it never keeps one alive.

Keys. A local or fsspec store is named by its URL (``str(store)``:
``file:///…``, ``s3://…``, ``https://…``), so equal paths share whatever
object opened them; any other store (a ``MemoryStore``, a numpy array's
wrapper, a user's store) is named by its identity, so only the very same
store object shares. Pools made by the registry keep the options of the
first opener (``level_cache``, ``memory``): a later opener asking for
others gets the open pool, and :attr:`Viewer.pool` shows what it has.

Opting out: ``Viewer(..., share_pool=False)`` makes a pool of its own, which
its viewer destroys on ``close()``. A ``ChunkPool`` given as the source is
never owned (neither leased nor destroyed).

Threads: the registry's lock is held only to look up, insert and count; no
store is read under it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable

from simplezarr.utils.chunkpool import ChunkPool
from simplezarr.utils.multiscale import MultiscaleInfo

__all__ = ["image_key", "pool_leases", "release_pool", "shared_pool"]

_lock = threading.Lock()
_pools: weakref.WeakValueDictionary[Hashable, ChunkPool] = weakref.WeakValueDictionary()
# Leases per live pool. Weak keys: a pool collected with leases outstanding
# leaves by itself. (No ``weakref.finalize`` callback that takes ``_lock``: a
# garbage collection triggered while the lock is held would run it in the same
# thread and deadlock the kernel — it did, in CI.)
_leases: weakref.WeakKeyDictionary[ChunkPool, int] = weakref.WeakKeyDictionary()


def image_key(info: MultiscaleInfo) -> Hashable:
    """The registry key of an image: its level-0 array's store and path.

    Stores with a URL (local files, fsspec: HTTP, S3, ...) are named by it;
    any other store by its identity (only the same object shares).
    """
    array = info.scales[0].array
    store = array.store
    name = type(store).__name__
    if name in {"LocalStore", "FsspecStore", "ZipStore"}:
        store_key: Hashable = (name, str(store))
    else:
        store_key = (name, id(store))
    return (store_key, str(array.path))


def shared_pool(info: MultiscaleInfo, make: Callable[[MultiscaleInfo], ChunkPool]) -> ChunkPool:
    """The open pool of ``info``'s image, else a new one from ``make(info)``; leased once.

    Every call takes one lease; give it back with :func:`release_pool`.
    """
    key = image_key(info)
    with _lock:
        pool = _pools.get(key)
        if pool is not None and pool in _leases:
            _leases[pool] += 1
            return pool
    made = make(info)
    with _lock:
        pool = _pools.get(key)
        if pool is not None and pool in _leases:  # another thread won the race
            _leases[pool] += 1
            loser: ChunkPool | None = made
        else:
            _pools[key] = pool = made
            _leases[made] = 1
            loser = None
    if loser is not None:
        loser.destroy()
    return pool


def release_pool(pool: ChunkPool) -> None:
    """Give back one lease on ``pool``; the last one destroys it.

    A pool the registry did not make (``share_pool=False``) is destroyed at once.
    """
    with _lock:
        count = _leases.get(pool)
        if count is not None and count > 1:
            _leases[pool] = count - 1
            return
        _leases.pop(pool, None)
        for key, value in list(_pools.items()):
            if value is pool:
                del _pools[key]
    pool.destroy()


def pool_leases(pool: ChunkPool) -> int:
    """How many viewers (layers, views) hold a lease on ``pool`` (0: not shared)."""
    with _lock:
        return _leases.get(pool, 0)
