"""Viewport -> wanted chunks -> PNG tiles: the :class:`TileStreamer`.

One :class:`TileStreamer` serves one view (one rendered copy of a widget). It
is a :class:`~simplezarr.utils.ChunkManager` with its own ref, so several views
share one :class:`~simplezarr.utils.ChunkPool` and its chunks, ref-counted.

On each viewport (:meth:`TileStreamer.update_viewport`) it:

1. picks the level (:func:`~.geometry.choose_level`) and the chunks that
   intersect the view plus a margin, centre-out (:func:`~.geometry.wanted_chunks`);
   the chunk index along the non-displayed axes (z, t, c) comes from the
   current level-0 position mapped to that level;
2. drops the chunks it held that are no longer wanted (the pool cancels their
   reads if they have not started) and announces their tiles in one ``drop``
   message;
3. gets the new chunks; each chunk, once loaded, becomes one tile: the 2D
   plane at the current position, encoded as PNG (:mod:`.encode`).

Moving along z (or t, c) inside one chunk's depth re-encodes from the pooled
data and reads nothing.

Bounds and failures: each viewport is clamped first
(:func:`~.geometry.clamp_viewport`) and its wanted chunks capped by the view's
:class:`~._layout.ViewBudget` (``max_chunks``, ``max_bytes``), nearest the
centre first. A chunk whose read or encode fails becomes one ``tile_error``
message per view, counts as ``failed`` in ``status``, and is retried as
:mod:`._failures` says.

Threads
-------
*Async mode* (``call_soon_threadsafe`` given, the viewer in a kernel): every
method and handler runs on the loop thread (the pool's async load handlers
must use the same ``call_soon_threadsafe``). PNG encoding runs on
``executor``; a worker checks that its tile is still wanted before starting,
and the loop checks again before sending, so a burst of viewports never queues
encodes for views that are gone. Only the loop thread calls ``send``.

*Sync mode* (no ``call_soon_threadsafe``: plain Python, tests): viewport
updates only get and drop chunks; :meth:`TileStreamer.flush_now` waits for the
wanted chunks and encodes and sends their tiles in the calling thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any

from simplezarr.utils.chunkpool import ChunkLocation, ChunkManager, ChunkPool

from ._failures import FailureLog
from ._layout import TileJob, ViewBudget, image_layout, plan_tiles
from ._protocol import drop_message, status_message, tile_error_message, tile_message
from .encode import EncodedTile, encode_tile
from .geometry import (
    ImageLayout,
    TileHeader,
    Viewport,
    choose_level,
    chunks_in_view,
    clamp_viewport,
)

__all__ = ["SendFn", "StreamerStats", "TileStreamer", "image_layout"]

logger = logging.getLogger("simplezarr")

SendFn = Callable[[dict[str, Any], list[bytes]], None]
"""``send(message, buffers)``, e.g. ``widget.send``."""

_Key = tuple[int, tuple[int, ...]]


@dataclass
class StreamerStats:
    """Counters of one streamer (for tests, benchmarks and curiosity)."""

    gets: int = 0  # chunks requested from the pool
    drops: int = 0  # chunks dropped
    encodes: int = 0  # encodes started
    skipped: int = 0  # encodes not started: the tile was no longer wanted
    tiles: int = 0  # tiles sent
    failures: int = 0  # chunks whose read or encode failed
    errors: int = 0  # tile_error messages sent
    retries: int = 0  # failed chunks got again for a retry
    cut: int = 0  # viewports whose wanted chunks were cut by max_chunks or max_bytes
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


def _loaded(loc: ChunkLocation) -> bool:
    f = loc.future
    return f.done() and not f.cancelled() and f.exception() is None


class TileStreamer(ChunkManager):
    """Turns the viewports of one view into PNG tiles sent with ``send``.

    Parameters
    ----------
    pool : ChunkPool
        The pool to read chunks from (shared with other views).
    layout : ImageLayout
        Displayed axes and sliders of the pool's image.
    view : str
        The view id, echoed in every message.
    send : callable
        ``send(message, buffers)``; called only on the loop thread (async
        mode) or in the thread that calls :meth:`flush_now` (sync mode).
    call_soon_threadsafe : callable, optional
        E.g. ``loop.call_soon_threadsafe`` of the loop that owns this
        streamer: async mode. ``None``: sync mode (see the module docstring).
    executor : concurrent.futures.Executor, optional
        Where PNGs are encoded in async mode; ``None`` encodes on the loop.
    position : mapping, optional
        Level-0 index per slider; default ``layout.default_position()``
        (middle of z, first t and c).
    margin : float
        Band around the view to fetch too, as a fraction of the view extent.
    max_chunks : int
        Upper bound on the chunks wanted at once.
    max_bytes : int, optional
        Upper bound on the decoded bytes of the chunks wanted at once (whole
        N-D chunks of the level in use; at least one chunk is always wanted).
        ``None``: no bound beyond ``max_chunks``.
    failures : FailureLog, optional
        The failed chunks, shared between the streamers of one viewer (each
        failure is logged once; retries release a chunk in every view).
        Default: a log of its own with the default retry policy.
    """

    def __init__(
        self,
        pool: ChunkPool,
        layout: ImageLayout,
        view: str,
        send: SendFn,
        *,
        call_soon_threadsafe: Callable[..., Any] | None = None,
        executor: Executor | None = None,
        position: Mapping[str, int] | None = None,
        margin: float = 0.1,
        max_chunks: int = 1024,
        max_bytes: int | None = None,
        failures: FailureLog | None = None,
    ) -> None:
        super().__init__(pool)
        self._layout = layout
        self._view = view
        self._send = send
        self._call_soon = call_soon_threadsafe
        self._executor = executor
        self._position = dict(position) if position is not None else layout.default_position()
        self._margin = margin
        self._budget = ViewBudget(pool.multiscale_info, max_chunks, max_bytes)
        self._failures = failures if failures is not None else FailureLog()
        self._failures.register(self)
        self.stats = StreamerStats()
        self._viewport: Viewport | None = None
        self._seq = -1
        self._level = 0
        self._closed = False
        # Replaced, never mutated, so that encode workers may read them.
        self._wanted: dict[str, TileJob] = {}
        self._by_chunk: dict[_Key, TileJob] = {}
        self._locations: dict[_Key, ChunkLocation] = {}
        self._sent: set[str] = set()
        self._inflight: set[str] = set()
        self._failed: dict[_Key, str] = {}  # chunk -> why, for tile_error
        self._error_sent: set[str] = set()  # tile keys announced with tile_error
        self._status_due = False
        self._idle_callbacks: list[Callable[[], Any]] = []

    # -- public -----------------------------------------------------------------

    @property
    def view(self) -> str:
        """The view id."""
        return self._view

    @property
    def level(self) -> int:
        """The level the last viewport uses."""
        return self._level

    @property
    def seq(self) -> int:
        """The seq of the last viewport (-1 before the first)."""
        return self._seq

    @property
    def wanted_keys(self) -> list[str]:
        """Keys of the tiles the current view wants, centre-out."""
        return list(self._wanted)

    @property
    def sent_keys(self) -> set[str]:
        """Keys of the tiles sent to this view and not dropped since."""
        return set(self._sent)

    @property
    def pending(self) -> int:
        """Tiles wanted but neither sent nor failed."""
        return sum(
            1
            for job in self._wanted.values()
            if job.key not in self._sent and (job.level, job.index) not in self._failed
        )

    @property
    def failed(self) -> int:
        """Tiles wanted whose chunk failed (each announced with ``tile_error``)."""
        return sum(1 for job in self._wanted.values() if (job.level, job.index) in self._failed)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def update_viewport(self, viewport: Viewport, seq: int) -> None:
        """Serve a new viewport; a ``seq`` older than the last one is ignored.

        The viewport is clamped (:func:`~.geometry.clamp_viewport`) first.
        Failed chunks it still wants are read again when their retry is due
        (see :mod:`._failures`).
        """
        if self._closed or seq < self._seq:
            return
        self._viewport = clamp_viewport(self._layout.levels, viewport)
        self._seq = seq
        self._retile(retry=True)
        if self._call_soon is None:
            self._send_status()

    def set_position(self, position: Mapping[str, int]) -> None:
        """Move the non-displayed axes to a new level-0 ``position`` and re-tile."""
        if self._closed:
            return
        self._position = {s.name: int(position[s.name]) for s in self._layout.sliders}
        if self._viewport is not None:
            self._retile()
            if self._call_soon is None:
                self._send_status()

    def flush_now(self) -> None:
        """Sync mode: wait for the wanted chunks, then encode and send their tiles here."""
        if self._call_soon is not None:
            raise RuntimeError(
                "TileStreamer.flush_now(): this streamer is in async mode; tiles are sent "
                "from the loop as chunks arrive"
            )
        for job in list(self._wanted.values()):
            loc = self._locations.get((job.level, job.index))
            if loc is None or job.key in self._sent or (job.level, job.index) in self._failed:
                continue
            try:
                loc.wait()
            except Exception as exc:
                self._fail((job.level, job.index), exc)
                continue
            self._failures.succeeded((job.level, job.index))
            self._start(job, loc)
        self._send_status()

    async def wait_idle(self) -> None:
        """Async mode: return once no wanted tile is pending or being encoded."""
        if self._is_idle():
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        self._idle_callbacks.append(wake)
        await future

    def close(self, *, announce: bool = False) -> None:
        """Drop every chunk and forget the view; ``announce`` sends a ``drop`` for its tiles."""
        if self._closed:
            return
        self._closed = True
        self._failures.unregister(self)
        self._wanted = {}
        self._by_chunk = {}
        self._locations = {}
        self.drop_all()
        if announce and (self._sent or self._error_sent):
            self._safe_send(drop_message(self._view, sorted(self._sent | self._error_sent)), [])
        self._sent.clear()
        self._error_sent.clear()
        self._failed.clear()
        self._run_idle_callbacks()

    def release_failed(self, key: _Key) -> bool:
        """For a retry: drop the failed chunk ``key`` if this view holds it failed.

        Returns whether it did; then :meth:`reacquire` gets it again.
        """
        if self._closed or key not in self._failed or key not in self._locations:
            return False
        del self._failed[key]
        del self._locations[key]
        job = self._by_chunk.get(key)
        if job is not None:
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

    # -- ChunkManager handlers ----------------------------------------------------

    def on_load(self, chunk_location: ChunkLocation) -> None:
        """A chunk arrived: in async mode, start encoding its tile if still wanted."""
        if self._closed or self._call_soon is None:
            return  # sync mode: flush_now() does the work in the caller's thread
        key = (chunk_location.level, chunk_location.index)
        job = self._by_chunk.get(key)
        if job is not None and self._locations.get(key) is chunk_location:
            self._failures.succeeded(key)
            self._start(job, chunk_location)

    # -- internals ----------------------------------------------------------------

    def _retile(self, *, retry: bool = False) -> None:
        viewport = self._viewport
        assert viewport is not None
        level = choose_level(self._layout.levels, viewport)
        limit = self._budget.limit(level)
        jobs = plan_tiles(
            self._layout, viewport, level, self._position, margin=self._margin, limit=limit
        )
        if chunks_in_view(self._layout.levels[level], viewport, margin=self._margin) > limit:
            self.stats.cut += 1
            self._budget.warn_cut(level, self._view)
        wanted = {job.key: job for job in jobs}
        by_chunk = {(job.level, job.index): job for job in jobs}
        self._level = level
        self._wanted = wanted
        self._by_chunk = by_chunk

        # Drop what is no longer wanted: the pool cancels reads not yet started.
        locations = self._locations
        for k in [k for k in locations if k not in by_chunk]:
            del locations[k]
            self._failed.pop(k, None)
            self.drop_chunk(*k)
            self.stats.drops += 1
        gone = [k for k in self._sent | self._error_sent if k not in wanted]
        if gone:
            self._sent.difference_update(gone)
            self._error_sent.difference_update(gone)
            self._safe_send(drop_message(self._view, gone), [])

        # Failed chunks still wanted: retry those due (a later viewport message
        # only), announce the others' tiles (new keys after a plane change).
        if retry:
            due = [k for k in by_chunk if k in self._failed and self._failures.retry_due(k)]
            if due:
                self._failures.retry(due)
        for k, why in self._failed.items():
            self._announce_failure(by_chunk.get(k), why)

        # Get the new chunks, centre-out; encode the planes of loaded ones now.
        for k, job in by_chunk.items():
            loc = locations.get(k)
            if loc is None:
                self._get(k)
            elif self._call_soon is not None and job.key not in self._sent and _loaded(loc):
                self._start(job, loc)
        self._status_later()

    def _get(self, k: _Key) -> None:
        loc = self.get_chunk(*k)
        self._locations[k] = loc
        self.stats.gets += 1
        if self._call_soon is not None:
            loc.future.add_done_callback(self._read_done_callback(loc))

    def _read_done_callback(self, loc: ChunkLocation) -> Callable[[Future[Any]], None]:
        call_soon = self._call_soon
        assert call_soon is not None

        def done(future: Future[Any]) -> None:  # runs on a read thread
            if future.cancelled() or future.exception() is None:
                return
            try:
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
        # Log once per chunk, unless the pool (in async mode) has logged the failed read.
        why = self._failures.record(key, exc, self._view, log=not self.pool.async_load_handlers)
        self._failed[key] = why
        self.stats.failures += 1
        self._announce_failure(self._by_chunk.get(key), why)
        self._status_later()

    def _announce_failure(self, job: TileJob | None, why: str) -> None:
        """Send ``tile_error`` for a wanted tile, once per failure."""
        if job is None or job.key in self._error_sent:
            return
        self._error_sent.add(job.key)
        self.stats.errors += 1
        message = tile_error_message(
            view=self._view,
            key=job.key,
            level=job.level,
            chunk=job.chunk,
            plane=job.plane,
            bounds=job.bounds,
            error=why,
            seq=self._seq,
        )
        self._safe_send(message, [])

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
        with self.stats.lock:
            self.stats.encodes += 1
        try:
            data = loc.data
            plane = data[job.selection]
            if self._layout.y_axis > self._layout.x_axis:  # axes permuted: array order is (x, y)
                plane = plane.T
            plane = plane[: job.shape[0], : job.shape[1]]
            return encode_tile(plane)
        except Exception as exc:
            return exc

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
                if now is not None and _loaded(now):
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
            bounds=job.bounds,
            shape=result.shape,
            encoding=result.encoding,
            value_offset=result.value_offset,
            value_scale=result.value_scale,
            seq=self._seq,
        )
        self._sent.add(job.key)
        self.stats.tiles += 1
        self._safe_send(tile_message(header), [result.png])
        self._status_later()

    def _safe_send(self, message: dict[str, Any], buffers: list[bytes]) -> None:
        try:
            self._send(message, buffers)
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
            self._view, pending=self.pending, failed=self.failed, level=self._level, seq=self._seq
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
