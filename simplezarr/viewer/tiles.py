"""Viewport -> wanted chunks -> PNG tiles: the :class:`TileStreamer`.

One :class:`TileStreamer` serves one view (one rendered copy of a widget). It
is a :class:`~simplezarr.utils.ChunkManager` with its own ref, so several views
share one :class:`~simplezarr.utils.ChunkPool` and its chunks, ref-counted.

On each viewport (:meth:`TileStreamer.update_viewport`) it:

1. picks the level (:func:`~.geometry.choose_level`) and the chunks that
   intersect the view plus a margin, centre-out (:func:`~.geometry.wanted_chunks`);
   the chunk index along the non-displayed axes (z, t) comes from the
   current level-0 position mapped to that level, along the channel axis
   from each channel the viewport asks for (``channel // chunk_c``);
2. drops the chunks it held that are no longer wanted (the pool cancels their
   reads if they have not started) and announces their tiles in one ``drop``
   message (a channel leaving the viewport's list drops its tiles only);
3. gets the new chunks; each chunk, once loaded, becomes one tile per wanted
   channel it holds: the 2D plane at the current position, encoded as PNG
   (:mod:`.encode`). A chunk holding several channels is read once.

Moving along z (or t) inside one chunk's depth re-encodes from the pooled
data and reads nothing; a channel entering the list gets its tiles (from the
pool when its chunk is there), and no other channel's tile is sent again.

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

Layers: a viewer draws several images over each other (:mod:`.layers`);
each view has one streamer per layer it shows, each a user of its layer's
own pool. A streamer of a layer other than 0 is given the base image's
layout (``base``): viewports are clamped to the base image, positions are
the base image's (mapped onto the layer's sliders by ``to_layer``), and tile
keys carry the layer id and the base image's plane key. A label layer's
tiles are encoded exactly as ids (:func:`~.encode.encode_labels`).

The streamer's halves live beside it: encoding, sending and ``status`` in
:mod:`._tilesend` (:class:`~._tilesend.TileSending`), failures and retries in
:mod:`._failures` (:class:`~._failures.FailedTiles`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy.typing as npt

from simplezarr.utils.chunkpool import ChunkLocation, ChunkManager, ChunkPool

from ._failures import FailedTiles, FailureLog
from ._layout import ImageLayout, TileJob, ViewBudget, image_layout, plan_tiles
from ._protocol import drop_message, plane_key
from ._tilesend import SendFn, StreamerStats, TileSending, loaded
from .geometry import (
    Viewport,
    choose_level,
    chunks_in_view,
    clamp_viewport,
)

__all__ = ["SendFn", "StreamerStats", "TileStreamer", "image_layout"]

logger = logging.getLogger("simplezarr")

_Key = tuple[int, tuple[int, ...]]


class TileStreamer(FailedTiles, TileSending, ChunkManager):
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
    channels : sequence of int, optional
        The channels wanted until a viewport says (default: the channel at
        ``position``, 0 without a channel axis).
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
    layer : int
        The layer id its tiles carry (0: the base image).
    labels : bool
        Encode tiles as exact label ids (``label`` encoding).
    base : ImageLayout, optional
        The base image's layout, for a layer other than 0: viewports are
        clamped to it and ``position`` is in its sliders (see the module
        docstring). Default: ``layout``.
    to_layer : callable, optional
        Maps a base-image position to this layer's (default: the identity).
    totals : StreamerStats, optional
        Counters shared by the viewer's streamers: tiles and bytes sent,
        encodes and their time are counted there too (``stats`` counts this
        view's alone).
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
        channels: Sequence[int] | None = None,
        margin: float = 0.1,
        max_chunks: int = 1024,
        max_bytes: int | None = None,
        failures: FailureLog | None = None,
        layer: int = 0,
        labels: bool = False,
        base: ImageLayout | None = None,
        to_layer: Callable[[Mapping[str, int]], dict[str, int]] | None = None,
        totals: StreamerStats | None = None,
    ) -> None:
        super().__init__(pool)
        self._layout = layout
        self._view = view
        self._send = send
        self._call_soon = call_soon_threadsafe
        self._executor = executor
        self._layer = layer
        self._labels = labels
        self._base = base if base is not None else layout
        self._to_layer = to_layer
        base_position = dict(position) if position is not None else self._base.default_position()
        self._plane = plane_key(self._base.plane_names, base_position)
        self._position = to_layer(base_position) if to_layer is not None else base_position
        if channels is None:
            name = layout.channel_slider
            channels = [self._position.get(name, 0) if name is not None else 0]
        self._channels = tuple(channels)
        self._margin = margin
        self._budget = ViewBudget(pool.multiscale_info, max_chunks, max_bytes)
        self._failures = failures if failures is not None else FailureLog()
        self._failures.register(self)
        self.stats = StreamerStats()
        self._totals = totals
        self._viewport: Viewport | None = None
        self._seq = -1
        self._level = 0
        self._closed = False
        # Replaced, never mutated, so that encode workers may read them.
        self._wanted: dict[str, TileJob] = {}
        self._by_chunk: dict[_Key, list[TileJob]] = {}
        self._locations: dict[_Key, ChunkLocation] = {}
        self._sent: set[str] = set()
        self._inflight: set[str] = set()
        self._failed: dict[_Key, str] = {}  # chunk -> why, for tile_error
        self._error_sent: set[str] = set()  # tile keys announced with tile_error
        self._status_due = False
        self._idle_callbacks: list[Callable[[], Any]] = []
        self._failed_unseen: set[_Key] = set()

    # -- public -----------------------------------------------------------------

    @property
    def view(self) -> str:
        """The view id."""
        return self._view

    @property
    def layer(self) -> int:
        """The layer id its tiles carry."""
        return self._layer

    @property
    def level(self) -> int:
        """The level the last viewport uses."""
        return self._level

    @property
    def viewport(self) -> Viewport | None:
        """The last viewport, clamped (None before the first)."""
        return self._viewport

    @property
    def seq(self) -> int:
        """The seq of the last viewport (-1 before the first)."""
        return self._seq

    @property
    def channels(self) -> tuple[int, ...]:
        """The channels the view wants tiles of (those of its last viewport)."""
        return self._channels

    @property
    def position(self) -> dict[str, int]:
        """The level-0 slider position the view shows (a copy)."""
        return dict(self._position)

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

    def update_viewport(
        self, viewport: Viewport, seq: int, channels: Sequence[int] | None = None
    ) -> None:
        """Serve a new viewport; a ``seq`` older than the last one is ignored.

        ``channels``: the channel indices wanted (``None``: as before). The
        viewport is clamped (:func:`~.geometry.clamp_viewport`) first. Failed
        chunks it still wants are read again when their retry is due (see
        :mod:`._failures`).
        """
        if self._closed or seq < self._seq:
            return
        self._viewport = clamp_viewport(self._base.levels, viewport)
        self._seq = seq
        if channels is not None:
            self._channels = tuple(channels)
        self._retile(retry=True)
        if self._call_soon is None:
            self._send_status()

    def set_position(self, position: Mapping[str, int]) -> None:
        """Move the non-displayed axes to a new level-0 ``position`` and re-tile.

        ``position``: of the base image's sliders (see ``base``).
        """
        if self._closed:
            return
        base_position = {s.name: int(position[s.name]) for s in self._base.sliders}
        self._plane = plane_key(self._base.plane_names, base_position)
        to_layer = self._to_layer
        self._position = to_layer(base_position) if to_layer is not None else base_position
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
        for key, jobs in list(self._by_chunk.items()):
            loc = self._locations.get(key)
            if loc is None or key in self._failed or all(j.key in self._sent for j in jobs):
                continue
            try:
                loc.wait()
            except Exception as exc:
                self._fail(key, exc)
                continue
            self._failures.succeeded(key)
            for job in jobs:
                self._start(job, loc)
        self._send_status()

    def channel_data(self, channel: int) -> list[npt.NDArray[Any]]:
        """The planes of ``channel`` in the wanted tiles whose chunk is loaded (views, no copy)."""
        out = []
        for job in self._wanted.values():
            loc = self._locations.get((job.level, job.index))
            if job.channel == channel and loc is not None and loaded(loc):
                out.append(loc.data[job.selection])  # (edge chunks are cut to the image)
        return out

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

    # -- ChunkManager handlers ----------------------------------------------------

    def on_load(self, chunk_location: ChunkLocation) -> None:
        """A chunk arrived: in async mode, start encoding its tile if still wanted."""
        if self._closed or self._call_soon is None:
            return  # sync mode: flush_now() does the work in the caller's thread
        key = (chunk_location.level, chunk_location.index)
        jobs = self._by_chunk.get(key)
        if jobs and self._locations.get(key) is chunk_location:
            self._failures.succeeded(key)
            for job in jobs:
                self._start(job, chunk_location)

    # -- internals ----------------------------------------------------------------

    def _retile(self, *, retry: bool = False) -> None:
        viewport = self._viewport
        assert viewport is not None
        layout = self._layout
        level = choose_level(layout.levels, viewport)
        reads = len({c // layout.channel_chunk(level) for c in self._channels})
        limit = self._budget.limit(level, tiles=len(self._channels), reads=reads)
        jobs = plan_tiles(
            layout,
            viewport,
            level,
            self._position,
            self._channels,
            margin=self._margin,
            limit=limit,
            plane=self._plane,
            layer=self._layer,
        )
        if chunks_in_view(layout.levels[level], viewport, margin=self._margin) > limit:
            self.stats.cut += 1
            self._budget.warn_cut(level, self._view, limit)
        wanted = {job.key: job for job in jobs}
        by_chunk: dict[_Key, list[TileJob]] = {}
        for job in jobs:
            by_chunk.setdefault((job.level, job.index), []).append(job)
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
            for job in by_chunk.get(k, ()):
                self._announce_failure(job, why)

        # Get the new chunks, centre-out; encode the planes of loaded ones now.
        for k, chunk_jobs in by_chunk.items():
            loc = locations.get(k)
            if loc is None:
                self._get(k)
            elif self._call_soon is not None and loaded(loc):
                for job in chunk_jobs:
                    if job.key not in self._sent:
                        self._start(job, loc)
        self._status_later()

    def _get(self, k: _Key) -> None:
        loc = self.get_chunk(*k)
        self._locations[k] = loc
        self.stats.gets += 1
        if loc.failed:
            # Failed before this view held it: the pool logged it (or not) for its
            # holders then, so this view's failure log says it.
            self._failed_unseen.add(k)
        if self._call_soon is not None:
            loc.future.add_done_callback(self._read_done_callback(loc))
