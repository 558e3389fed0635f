"""The ChunkLocation: one chunk of a pool, shared by every user of that chunk.

Public as :class:`simplezarr.utils.chunkpool.ChunkLocation`; it lives here to
keep the pool's module small. A ChunkLocation owns the
:class:`concurrent.futures.Future` of its read from birth, the data once
loaded, the set of refs that hold it, and the handlers each ref attached. All
its mutable state is changed only under its pool's lock (see
:mod:`simplezarr.utils.chunkpool`); the helpers at the bottom call handlers
with that lock released and log, never raise, what a handler raises.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from simplezarr.utils.multiscale import ScaleInfo

if TYPE_CHECKING:
    from simplezarr.utils.chunkpool import ChunkPool

__all__ = ["ChunkLocation", "Handler"]

logger = logging.getLogger("simplezarr")

Handler = Callable[["ChunkLocation"], Any]
"""A lifetime handler: called with the ChunkLocation."""


class ChunkLocation:
    """An object that represents a chunk location.

    Created by :meth:`ChunkPool.get_chunk`; shared by every user of that chunk.

    Parameters
    ----------
    scale_info : ScaleInfo
        The level the chunk belongs to.
    index : tuple[int, ...]
        The chunk's index, one integer per array axis.
    """

    __slots__ = (
        "__weakref__",
        "_data",
        "_destroy_handlers",
        "_destroyed",
        "_drop_handlers",
        "_future",
        "_index",
        "_load_handlers",
        "_nbytes",
        "_pool",
        "_refs",
        "_scale_info",
    )

    def __init__(self, scale_info: ScaleInfo, index: tuple[int, ...]) -> None:
        self._scale_info = scale_info
        self._index = tuple(int(i) for i in index)
        shape = [
            min(c, s - i * c)
            for i, c, s in zip(self._index, scale_info.chunk_shape, scale_info.shape, strict=True)
        ]
        self._nbytes = int(np.prod(shape)) * np.dtype(scale_info.dtype).itemsize
        self._future: concurrent.futures.Future[np.ndarray] = concurrent.futures.Future()
        self._data: np.ndarray | None = None
        self._refs: set[str] = set()
        self._destroyed = False
        self._pool: ChunkPool | None = None  # set by the pool that made it
        # Pending load handlers (fired once each), drop handlers and destroy handlers, by ref.
        self._load_handlers: dict[str, Handler] = {}
        self._drop_handlers: dict[str, Handler] = {}
        self._destroy_handlers: dict[str, Handler] = {}

    def __repr__(self) -> str:
        state = (
            "destroyed"
            if self._destroyed
            else "loaded"
            if self._data is not None
            else "failed"
            if self._future.done() and not self._future.cancelled()
            else "loading"
        )
        refs = sorted(self._refs)
        return f"<ChunkLocation level={self.level} index={self._index} {state} refs={refs}>"

    @property
    def scale_info(self) -> ScaleInfo:
        """The info for the scale that this chunk is part of."""
        return self._scale_info

    @property
    def level(self) -> int:
        """The integer level that this chunk belongs to."""
        return self._scale_info.level

    @property
    def index(self) -> tuple[int, ...]:
        """The index of this chunk."""
        return self._index

    @property
    def nbytes(self) -> int:
        """The size of the chunk in (uncompressed) bytes: the region it covers, edges cut."""
        return self._nbytes

    @property
    def future(self) -> concurrent.futures.Future[np.ndarray]:
        """The :class:`concurrent.futures.Future` for loading the data."""
        return self._future

    @property
    def data(self) -> np.ndarray:
        """The data (read-only numpy array) for this chunk.

        Raises
        ------
        RuntimeError
            When accessed before the data is loaded, after a failed read, or
            after the chunk was destroyed.
        """
        data = self._data
        if data is None:
            if self._destroyed:
                raise RuntimeError(
                    f"ChunkLocation.data: chunk {self._index} of level {self.level} was destroyed"
                )
            if self._future.done() and self._future.exception() is not None:
                raise RuntimeError(
                    f"ChunkLocation.data: chunk {self._index} of level {self.level} "
                    f"failed to load: {self._future.exception()}"
                )
            raise RuntimeError(
                f"ChunkLocation.data: chunk {self._index} of level {self.level} is not loaded "
                "yet; call wait() first"
            )
        return data

    @property
    def refs(self) -> set[str]:
        """A set of references that currently use this chunk (a copy)."""
        return set(self._refs)

    @property
    def loaded(self) -> bool:
        """Whether the data is loaded (and the chunk not destroyed)."""
        return self._data is not None

    def wait(self) -> None:
        """Synchronously wait for the chunk's data to load.

        Unless async load handlers are enabled on the pool, this also fires the
        pending load handlers, in this thread.

        Raises
        ------
        simplezarr.utils._chunkread.ChunkReadError
            When the read failed (the message names level, index and store).
        RuntimeError
            When the chunk was destroyed before its data arrived.
        """
        try:
            self._future.result()
        except concurrent.futures.CancelledError:
            raise RuntimeError(
                f"ChunkLocation.wait(): chunk {self._index} of level {self.level} was "
                "destroyed before it was loaded"
            ) from None
        if self._pool is not None and self._pool._call_soon is None:
            _fire_load(self)


def _fire_load(chunk: ChunkLocation) -> None:
    """Call (and forget) the chunk's pending load handlers, if its data is there."""
    pool = chunk._pool
    with pool._lock if pool is not None else threading.Lock():
        if chunk._data is None or not chunk._load_handlers:
            return
        handlers = list(chunk._load_handlers.values())
        chunk._load_handlers.clear()
    for h in handlers:
        _call_handler(h, chunk, "load")


def _call_handler(handler: Handler, chunk: ChunkLocation, event: str) -> None:
    try:
        handler(chunk)
    except Exception:
        logger.exception(
            "simplezarr: %s handler %r raised for chunk %s of level %d",
            event,
            handler,
            chunk.index,
            chunk.level,
        )


ChunkLocation.__module__ = "simplezarr.utils.chunkpool"
