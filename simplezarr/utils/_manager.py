"""The ChunkManager: one user of a ChunkPool whose methods are the lifetime handlers.

Public as :class:`simplezarr.utils.chunkpool.ChunkManager`; it lives here to
keep the pool's module small. A manager holds its chunks under its own ref
(unique per manager), so several managers (several views of one image, say)
share a pool and its chunks safely; it remembers what it holds so that
:meth:`ChunkManager.drop_all` can let go of everything at once.
"""

from __future__ import annotations

import itertools
import threading
from typing import TYPE_CHECKING

from simplezarr.utils._location import ChunkLocation

if TYPE_CHECKING:
    from simplezarr.utils.chunkpool import ChunkPool

__all__ = ["ChunkManager"]

_Key = tuple[int, tuple[int, ...]]


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
        from simplezarr.utils.chunkpool import ChunkPool  # that module imports this one

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


ChunkManager.__module__ = "simplezarr.utils.chunkpool"
