"""Failed chunks of one viewer: why they failed, when, and when to read them again.

A chunk whose read (or whose tile's encode) fails is not a silent hole: each
view that wants it sends a ``tile_error`` message for its tile (see
:mod:`._protocol`), the view's ``status`` counts it as ``failed``, and the
first failure of each chunk is logged. The streamers of one viewer share one
:class:`FailureLog`, so a chunk is logged once however many views want it.

Retry policy (bounded, never a hot loop):

- a failed chunk is read again only while handling a *later* ``viewport``
  message of a view that still wants it: never from the message (or the
  flush) that saw it fail, never by a timer;
- and at most once per ``retry_after`` seconds per chunk (default 10 s),
  counted from its last failure;
- a retry releases the failed chunk in every view of the viewer that holds
  it, then those views get it again, so the pool reads it anew (a pool shared
  with other users who still hold the failed chunk returns the same failure
  until they release it);
- a slider move or a plane change re-sends ``tile_error`` for the new tile
  keys of a failed chunk but does not retry it.

The log remembers at most ``max_entries`` chunks (oldest forgotten first).

:class:`FailedTiles` is the view's side of it, a mixin of
:class:`~.tiles.TileStreamer`: it records a chunk's failure, announces each
wanted tile of it (one per channel it holds) with one ``tile_error``, and
releases and gets the chunk again for a retry.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Protocol

from ._protocol import tile_error_message
from ._texts import error_text

if TYPE_CHECKING:
    from simplezarr.utils.chunkpool import ChunkLocation, ChunkPool

    from ._layout import TileJob

__all__ = ["DEFAULT_RETRY_AFTER", "FailedTiles", "FailureLog"]

logger = logging.getLogger("simplezarr")

_Key = tuple[int, tuple[int, ...]]

DEFAULT_RETRY_AFTER = 10.0
"""Seconds before a failed chunk may be read again (on a later viewport message)."""


class _Holder(Protocol):
    """A view that may hold failed chunks (a :class:`~.tiles.TileStreamer`)."""

    def release_failed(self, key: _Key) -> bool: ...

    def reacquire(self, key: _Key) -> None: ...


class FailureLog:
    """The failed chunks of one viewer, shared by its views.

    Parameters
    ----------
    retry_after : float
        Seconds after a chunk's last failure before a later viewport message
        may read it again (>= 0).
    clock : callable
        Monotonic time in seconds (``time.monotonic``; tests pass their own).
    max_entries : int
        Most chunks remembered.
    """

    def __init__(
        self,
        retry_after: float = DEFAULT_RETRY_AFTER,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 4096,
    ) -> None:
        if not retry_after >= 0:
            raise ValueError(f"FailureLog(): retry_after must be >= 0 s, not {retry_after!r}")
        self._retry_after = float(retry_after)
        self._clock = clock
        self._max_entries = max(1, max_entries)
        self._failed_at: OrderedDict[_Key, float] = OrderedDict()
        self._holders: list[_Holder] = []

    @property
    def retry_after(self) -> float:
        """Seconds between two reads of a failing chunk."""
        return self._retry_after

    def __contains__(self, key: object) -> bool:
        return key in self._failed_at

    def register(self, holder: _Holder) -> None:
        """A view that holds chunks of this viewer (released on retries)."""
        self._holders.append(holder)

    def unregister(self, holder: _Holder) -> None:
        """Forget a closed view."""
        self._holders = [h for h in self._holders if h is not holder]

    def record(self, key: _Key, exc: BaseException | None, view: str, *, log: bool) -> str:
        """Note a failure of chunk ``key``; return the short text for ``tile_error``.

        The first failure of a chunk is logged as a warning when ``log`` (the
        pool logs failed reads itself when its load handlers are async).
        """
        text = error_text(exc)
        first = key not in self._failed_at
        self._failed_at[key] = self._clock()
        self._failed_at.move_to_end(key)
        while len(self._failed_at) > self._max_entries:
            self._failed_at.popitem(last=False)
        if first and log:
            logger.warning(
                "simplezarr viewer: no tile for chunk %s of level %d (view %s): %s",
                key[1],
                key[0],
                view,
                exc if exc is not None else text,
            )
        return text

    def succeeded(self, key: _Key) -> None:
        """Chunk ``key`` was read after all: forget its failures."""
        self._failed_at.pop(key, None)

    def retry_due(self, key: _Key) -> bool:
        """Whether ``retry_after`` seconds have passed since the chunk last failed."""
        failed_at = self._failed_at.get(key)
        return failed_at is None or self._clock() - failed_at >= self._retry_after

    def retry(self, keys: Iterable[_Key]) -> None:
        """Release the failed ``keys`` in every view holding them, then get them again.

        Two phases, so that the pool destroys the failed chunk (failed chunks
        are not cached) before anyone gets it: the next get reads it anew.
        """
        keys = list(keys)
        holders = list(self._holders)
        released = [(h, k) for k in keys for h in holders if h.release_failed(k)]
        for holder, key in released:
            holder.reacquire(key)


class FailedTiles:
    """The failure handling of one view (a mixin of :class:`~.tiles.TileStreamer`).

    Uses the streamer's tables: ``_locations`` (chunks held), ``_by_chunk``
    (the wanted tiles of each chunk), ``_failed`` (chunk -> why) and
    ``_error_sent`` (tile keys announced failed).
    """

    if TYPE_CHECKING:
        _closed: bool
        _view: str
        _layer: int
        _seq: int
        _failures: FailureLog
        _call_soon: Callable[..., Any] | None
        _locations: dict[_Key, ChunkLocation]
        _by_chunk: dict[_Key, list[TileJob]]
        _failed: dict[_Key, str]
        _failed_unseen: set[_Key]
        _error_sent: set[str]
        stats: Any
        pool: ChunkPool

        def on_load(self, chunk_location: ChunkLocation) -> None: ...

        def drop_chunk(self, level: int, index: tuple[int, ...]) -> None: ...
        def _get(self, k: _Key) -> None: ...
        def _status_later(self) -> None: ...
        def _safe_send(self, message: Mapping[str, Any], buffers: list[bytes]) -> None: ...

    def release_failed(self, key: _Key) -> bool:
        """For a retry: drop the failed chunk ``key`` if this view holds it failed.

        Returns whether it did; then :meth:`reacquire` gets it again.
        """
        if self._closed or key not in self._failed or key not in self._locations:
            return False
        del self._failed[key]
        del self._locations[key]
        for job in self._by_chunk.get(key, ()):
            self._error_sent.discard(job.key)
        self.drop_chunk(*key)
        return True

    def reacquire(self, key: _Key) -> None:
        """For a retry: get chunk ``key`` again if this view still wants it."""
        if self._closed or key not in self._by_chunk or key in self._locations:
            return
        self.stats.retries += 1
        self._get(key)
        self._status_later()

    def _read_done_callback(self, loc: ChunkLocation) -> Callable[[Future[Any]], None]:
        call_soon = self._call_soon
        assert call_soon is not None

        def done(future: Future[Any]) -> None:  # runs on a read thread
            if future.cancelled():
                return
            try:
                if future.exception() is None:
                    # A second wake-up besides the pool's load handler: starting a
                    # tile is idempotent, and a tile must never wait on a lost event.
                    call_soon(self.on_load, loc)
                else:
                    call_soon(self._fail, (loc.level, loc.index), future.exception(), loc)
            except RuntimeError:
                pass  # the loop is closed

        return done

    def _fail(
        self, key: _Key, exc: BaseException | None, loc: ChunkLocation | None = None
    ) -> None:
        held = self._locations.get(key)
        if self._closed or held is None or (loc is not None and held is not loc):
            return  # no longer wanted, or got again meanwhile
        # Log once per chunk, unless the pool (in async mode) has logged the failed read:
        # it did only if the read failed while this view held the chunk.
        unseen = key in self._failed_unseen
        self._failed_unseen.discard(key)
        log = unseen or not self.pool.async_load_handlers
        why = self._failures.record(key, exc, self._view, log=log)
        self._failed[key] = why
        self.stats.failures += 1
        for job in self._by_chunk.get(key, ()):
            self._announce_failure(job, why)
        self._status_later()

    def _announce_failure(self, job: TileJob, why: str) -> None:
        """Send ``tile_error`` for a wanted tile, once per failure."""
        if job.key in self._error_sent:
            return
        self._error_sent.add(job.key)
        self.stats.errors += 1
        message = tile_error_message(
            view=self._view,
            key=job.key,
            level=job.level,
            chunk=job.chunk,
            plane=job.plane,
            channel=job.channel,
            bounds=job.bounds,
            error=why,
            seq=self._seq,
            layer=self._layer,
        )
        self._safe_send(message, [])
