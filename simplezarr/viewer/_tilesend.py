"""The encode-and-send half of a view's :class:`~.tiles.TileStreamer` (a mixin of it).

Once a wanted tile's chunk is loaded, :meth:`TileSending._start` encodes its
plane (:func:`~.encode.encode_tile`): on the streamer's ``executor`` in async
mode, in the calling thread in sync mode. A worker checks that the tile is
still wanted before it starts (else the encode is skipped), and the loop
checks again before it sends, so a burst of viewports never queues encodes
for views that are gone. A chunk dropped (its data released) and got again
while its encode waited starts over from the chunk held now. Only the loop
thread (or the sync caller) calls ``send``.

``status`` messages are coalesced: one per loop iteration at most
(:meth:`TileSending._status_later`); :meth:`TileSending.wait_idle` wakes when
no wanted tile is pending or being encoded.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simplezarr.utils.chunkpool import ChunkLocation

from ._layout import TileJob
from ._protocol import status_message, tile_message
from .encode import EncodedTile, encode_labels, encode_tile
from .geometry import TileHeader

if TYPE_CHECKING:
    from ._layout import ImageLayout

__all__ = ["SendFn", "StreamerStats", "TileSending", "loaded"]

logger = logging.getLogger("simplezarr")

_Key = tuple[int, tuple[int, ...]]

SendFn = Callable[[dict[str, Any], list[bytes]], None]
"""``send(message, buffers)``, e.g. ``widget.send``."""


@dataclass
class StreamerStats:
    """Counters of one streamer, or of all the streamers of a viewer (its I/O panel).

    A streamer counts into its own ``stats`` and, when given, into ``totals``
    shared by the viewer's streamers (closed ones included).
    """

    gets: int = 0  # chunks requested from the pool
    drops: int = 0  # chunks dropped
    encodes: int = 0  # encodes run (counted as each ends)
    skipped: int = 0  # encodes not started: the tile was no longer wanted
    tiles: int = 0  # tiles sent
    bytes_sent: int = 0  # PNG bytes of the tiles sent
    encode_seconds: float = 0.0  # time spent encoding (the encodes started)
    failures: int = 0  # chunks whose read or encode failed
    errors: int = 0  # tile_error messages sent
    retries: int = 0  # failed chunks got again for a retry
    cut: int = 0  # viewports whose wanted chunks were cut by max_chunks or max_bytes
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


def loaded(loc: ChunkLocation) -> bool:
    """Whether ``loc``'s data arrived (and it is not destroyed nor failed)."""
    f = loc.future
    return f.done() and not f.cancelled() and f.exception() is None


class TileSending:
    """Encoding, sending, ``status`` and idleness of one view (see the module docstring)."""

    if TYPE_CHECKING:
        _closed: bool
        _view: str
        _layer: int
        _labels: bool
        _seq: int
        _level: int
        _layout: ImageLayout
        _send: SendFn
        _call_soon: Callable[..., Any] | None
        _executor: Executor | None
        _wanted: dict[str, TileJob]
        _locations: dict[_Key, ChunkLocation]
        _sent: set[str]
        _inflight: set[str]
        _status_due: bool
        _idle_callbacks: list[Callable[[], Any]]
        stats: StreamerStats
        _totals: StreamerStats | None

        @property
        def pending(self) -> int: ...
        @property
        def failed(self) -> int: ...
        def _fail(
            self, key: _Key, exc: BaseException | None, loc: ChunkLocation | None = None
        ) -> None: ...

    async def wait_idle(self) -> None:
        """Async mode: return once no wanted tile is pending or being encoded.

        (And the ``status`` saying so is sent: a status still due runs first.)
        """
        if self._is_idle() and not self._status_due:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        self._idle_callbacks.append(wake)
        await future

    def _start(self, job: TileJob, loc: ChunkLocation) -> None:
        if job.key in self._sent or job.key in self._inflight:
            return
        self._inflight.add(job.key)
        if self._call_soon is None or self._executor is None:
            self._finish(job, loc, self._encode(job, loc))
            return
        try:
            self._executor.submit(self._encode_in_worker, job, loc)
        except RuntimeError:  # executor shut down: the viewer is closing
            self._inflight.discard(job.key)

    def _encode_in_worker(self, job: TileJob, loc: ChunkLocation) -> None:
        call_soon = self._call_soon
        assert call_soon is not None
        result = self._encode(job, loc)
        try:
            call_soon(self._finish, job, loc, result)
        except RuntimeError:
            pass  # the loop is closed

    def _encode(self, job: TileJob, loc: ChunkLocation) -> EncodedTile | BaseException | None:
        """Encode a tile; ``None`` when it is no longer wanted. Runs on any thread."""
        if self._closed or job.key not in self._wanted:
            with self.stats.lock:
                self.stats.skipped += 1
            return None
        started = time.perf_counter()
        try:
            data = loc.data
            plane = data[job.selection]
            if self._layout.y_axis > self._layout.x_axis:  # axes permuted: array order is (x, y)
                plane = plane.T
            plane = plane[: job.shape[0], : job.shape[1]]
            return encode_labels(plane) if self._labels else encode_tile(plane)
        except Exception as exc:
            return exc
        finally:
            seconds = time.perf_counter() - started
            for stats in self._counters():
                with stats.lock:
                    stats.encodes += 1
                    stats.encode_seconds += seconds

    def _finish(
        self, job: TileJob, loc: ChunkLocation, result: EncodedTile | BaseException | None
    ) -> None:
        """On the loop: send an encoded tile if still wanted, or recover."""
        self._inflight.discard(job.key)
        if self._closed:
            return
        current = self._wanted.get(job.key)
        if current is None:
            self._check_idle()
            return
        k = (current.level, current.index)
        if not isinstance(result, EncodedTile):
            now = self._locations.get(k)
            if result is None or now is not loc:
                # Skipped while unwanted, or the chunk was dropped (its data
                # released) and got again meanwhile: start over from the chunk held now.
                if now is not None and loaded(now):
                    self._start(current, now)
                else:
                    self._check_idle()
                return
            self._fail(k, result)
            self._check_idle()
            return
        header = TileHeader(
            view=self._view,
            key=job.key,
            level=job.level,
            chunk=job.chunk,
            plane=job.plane,
            channel=job.channel,
            bounds=job.bounds,
            shape=result.shape,
            encoding=result.encoding,
            value_offset=result.value_offset,
            value_scale=result.value_scale,
            seq=self._seq,
            layer=self._layer,
        )
        self._sent.add(job.key)
        for stats in self._counters():
            with stats.lock:
                stats.tiles += 1
                stats.bytes_sent += len(result.png)
        self._safe_send(tile_message(header), [result.png])
        self._status_later()

    def _counters(self) -> tuple[StreamerStats, ...]:
        """This view's counters and the viewer's totals (if any)."""
        totals = self._totals
        return (self.stats,) if totals is None else (self.stats, totals)

    def _safe_send(self, message: Mapping[str, Any], buffers: list[bytes]) -> None:
        try:
            self._send(dict(message), buffers)
        except Exception:
            logger.exception("simplezarr viewer: sending a %r message failed", message.get("type"))

    def _status_later(self) -> None:
        if self._call_soon is None:
            self._status_due = True
            return
        if not self._status_due:
            self._status_due = True
            try:
                self._call_soon(self._send_status)
            except RuntimeError:
                self._status_due = False

    def _send_status(self) -> None:
        self._status_due = False
        if self._closed:
            return
        message = status_message(
            self._view,
            pending=self.pending,
            failed=self.failed,
            level=self._level,
            seq=self._seq,
            layer=self._layer,
        )
        self._safe_send(message, [])
        self._check_idle()

    def _is_idle(self) -> bool:
        return self._closed or (not self._inflight and self.pending == 0)

    def _check_idle(self) -> None:
        if self._idle_callbacks and self._is_idle():
            self._run_idle_callbacks()

    def _run_idle_callbacks(self) -> None:
        callbacks, self._idle_callbacks = self._idle_callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                logger.exception("simplezarr viewer: idle callback %r raised", callback)
