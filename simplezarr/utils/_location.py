"""The ChunkLocation: one chunk of a pool, shared by every user of that chunk.

Public as :class:`simplezarr.utils.chunkpool.ChunkLocation`; it lives here to
keep the pool's module small. A ChunkLocation owns the
:class:`concurrent.futures.Future` of its read from birth, the data once
loaded, the set of refs that hold it, and the handlers each ref attached.

The boundary with the pool
--------------------------
The pool changes a chunk only through the small private interface below
(``_hold``, ``_release``, ``_start_read``, ``_finish_read``, ``_fail_read``,
``_destroy``, ``_take_*`` and ``_settle_*``), always under its own lock; the
chunk knows nothing of that lock, of the pool's loop or of its tables. The one
thing a chunk asks of its pool is what to do after a successful ``wait()``
(:class:`_Owner`: fire the load handlers, unless they run asynchronously).

A chunk moves through one of these paths, each step decided under the pool's
lock so that exactly one party settles the Future::

    queued -> reading -> loaded | failed      (the read, its timeout or a refusal)
    any    -> destroyed                       (dropped for good, or the pool destroyed)

The Future stays *pending* while the read runs, so destroying a chunk always
cancels it: ``wait()`` on a chunk destroyed before its data arrived raises
``RuntimeError`` at once, even while its read still hangs in a store. A read
that finishes after its chunk was destroyed, timed out or refused is
discarded.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable
from typing import Any, Literal, Protocol

import numpy as np

from simplezarr.utils.multiscale import ScaleInfo

__all__ = ["ChunkLocation", "Handler"]

logger = logging.getLogger("simplezarr")

Handler = Callable[["ChunkLocation"], Any]
"""A lifetime handler: called with the ChunkLocation."""

_Phase = Literal["queued", "reading", "loaded", "failed", "destroyed"]


class _Owner(Protocol):
    """What a chunk asks of the pool that made it."""

    def _chunk_waited(self, chunk: ChunkLocation) -> None:
        """``chunk.wait()`` saw the data arrive (in the waiting thread)."""


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
        "_drop_handlers",
        "_future",
        "_index",
        "_load_handlers",
        "_nbytes",
        "_owner",
        "_phase",
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
        self._phase: _Phase = "queued"
        self._owner: _Owner | None = None
        # Pending load handlers (fired once each), drop handlers and destroy handlers, by ref.
        self._load_handlers: dict[str, Handler] = {}
        self._drop_handlers: dict[str, Handler] = {}
        self._destroy_handlers: dict[str, Handler] = {}

    def __repr__(self) -> str:
        refs = sorted(self._refs)
        return f"<ChunkLocation level={self.level} index={self._index} {self._phase} refs={refs}>"

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
        """The :class:`concurrent.futures.Future` for loading the data.

        It stays pending until the data is there (result: the array), the read
        failed or timed out (exception), or the chunk was destroyed (cancelled).
        """
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
            where = f"ChunkLocation.data: chunk {self._index} of level {self.level}"
            if self._phase == "destroyed":
                raise RuntimeError(f"{where} was destroyed")
            if self._phase == "failed":
                raise RuntimeError(f"{where} failed to load: {self._future.exception()}")
            raise RuntimeError(f"{where} is not loaded yet; call wait() first")
        return data

    @property
    def refs(self) -> set[str]:
        """A set of references that currently use this chunk (a copy)."""
        return set(self._refs)

    @property
    def loaded(self) -> bool:
        """Whether the data is loaded (and the chunk not destroyed)."""
        return self._data is not None

    def wait(self, *, timeout: float | None = None) -> None:
        """Synchronously wait for the chunk's data to load.

        Unless async load handlers are enabled on the pool, this also fires the
        pending load handlers, in this thread.

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait at most. Without it the wait is still bounded: a
            read that started ends within the pool's ``read_timeout``.

        Raises
        ------
        simplezarr.utils.ChunkReadError
            When the read failed, or took longer than the pool's
            ``read_timeout`` (then a ``ChunkReadTimeout``, also a
            ``TimeoutError``); the message names level, index and store.
        RuntimeError
            When the chunk was destroyed before its data arrived (at once,
            even if its read is still running).
        TimeoutError
            When ``timeout`` passed first (the read goes on).
        """
        future = self._future
        try:
            future.result(timeout)
        except concurrent.futures.CancelledError:
            raise RuntimeError(
                f"ChunkLocation.wait(): chunk {self._index} of level {self.level} was "
                "destroyed before it was loaded"
            ) from None
        except TimeoutError:
            if not future.done():
                raise TimeoutError(
                    f"ChunkLocation.wait(): chunk {self._index} of level {self.level} did not "
                    f"load within {timeout:g} s"
                ) from None
            if future.cancelled() or future.exception() is None:
                return self.wait()  # settled just now
            raise
        if self._owner is not None:
            self._owner._chunk_waited(self)

    # -- the pool's interface: called with the pool's lock held -------------------------

    def _attach(self, owner: _Owner) -> None:
        self._owner = owner

    def _hold(
        self,
        ref: str,
        load: Handler | None,
        drop: Handler | None,
        destroy: Handler | None,
    ) -> None:
        self._refs.add(ref)
        if load is not None:
            self._load_handlers[ref] = load
        if drop is not None:
            self._drop_handlers[ref] = drop
        if destroy is not None:
            self._destroy_handlers[ref] = destroy

    def _release(self, ref: str) -> tuple[bool, bool, Handler | None]:
        """Forget ``ref``; returns (whether it held the chunk, whether no ref is left,
        its drop handler)."""
        if ref not in self._refs:
            return False, not self._refs, None
        self._refs.discard(ref)
        self._load_handlers.pop(ref, None)
        return True, not self._refs, self._drop_handlers.pop(ref, None)

    def _release_all(self) -> list[Handler]:
        """Forget every ref; returns their drop handlers."""
        drops = list(self._drop_handlers.values())
        self._refs.clear()
        self._load_handlers.clear()
        self._drop_handlers.clear()
        return drops

    def _take_load_handlers(self) -> list[Handler]:
        """The pending load handlers, forgotten, if the data is there; else none."""
        if self._data is None or not self._load_handlers:
            return []
        handlers = list(self._load_handlers.values())
        self._load_handlers.clear()
        return handlers

    def _has_pending_load(self) -> bool:
        """Loaded, with load handlers not fired yet."""
        return self._data is not None and bool(self._load_handlers)

    @property
    def failed(self) -> bool:
        """Whether its read failed (its Future holds, or is about to hold, the error)."""
        return self._phase == "failed"

    def _has_load_handlers(self) -> bool:
        return bool(self._load_handlers)

    def _start_read(self) -> bool:
        """queued -> reading; False if the read must not happen (destroyed or cancelled)."""
        if self._phase != "queued" or self._future.cancelled():
            return False
        self._phase = "reading"
        return True

    def _finish_read(self, data: np.ndarray) -> bool:
        """reading -> loaded; False if the read's result is to be discarded."""
        if self._phase != "reading":
            return False
        self._phase = "loaded"
        self._data = data
        return True

    def _fail_read(self) -> bool:
        """queued or reading -> failed; False if already settled otherwise."""
        if self._phase not in ("queued", "reading"):
            return False
        self._phase = "failed"
        return True

    def _destroy(self) -> tuple[int, list[Handler], bool] | None:
        """-> destroyed; returns (bytes freed, destroy handlers, whether its read was still
        queued), or None if it already was destroyed."""
        if self._phase == "destroyed":
            return None
        was_queued = self._phase == "queued"
        self._phase = "destroyed"
        freed = 0 if self._data is None else self._data.nbytes
        self._data = None
        handlers = list(self._destroy_handlers.values())
        self._destroy_handlers.clear()
        return freed, handlers, was_queued

    # -- settling the Future: called by the party that won the step, lock released -------

    def _settle_result(self, data: np.ndarray) -> None:
        try:
            self._future.set_result(data)
        except concurrent.futures.InvalidStateError:
            pass  # cancelled by a user of the Future meanwhile

    def _settle_error(self, exc: BaseException) -> None:
        try:
            self._future.set_exception(exc)
        except concurrent.futures.InvalidStateError:
            pass

    def _settle_cancel(self) -> None:
        self._future.cancel()


def _call_handler(handler: Handler, chunk: ChunkLocation, event: str) -> None:
    """Call a user's handler; log, never raise, what it raises."""
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
