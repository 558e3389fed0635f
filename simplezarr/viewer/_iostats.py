"""The pool made visible: a viewer's ``stats`` trait and its chunk grid, throttled.

``Viewer.stats`` is a read-only synced dict (:func:`stats_dict`) that the
front end's I/O panel shows (``show_stats``): chunks held and cached per
level, memory against the budget, cache hits, reads running and queued,
bytes read, tiles and bytes sent, mean read and encode times. Every number
comes from where the work happens, counted once: the pool
(:meth:`~simplezarr.utils.ChunkPool.stats`) and the viewer's streamers
(their shared :class:`~._tilesend.StreamerStats` totals). This module only
reads and assembles them.

The chunk grid (``show_chunks``) is the private synced trait
``_chunk_states`` (:func:`chunk_grid`): for each level in use by a live view,
the chunks of that level in the pool that intersect the view (its last
viewport) in the view's plane (the non-displayed chunk indices of the chunks
it holds), as ``[iy, ix, state]``
with ``state`` an index into ``states`` (``held``, ``cached``, ``loading``,
``failed``: :data:`~simplezarr.utils.chunkpool.CHUNK_STATES`). Where chunks
of several planes or channel chunks meet at one ``(iy, ix)``, the most
telling state wins (failed, then loading, then held, then cached). At most
:data:`MAX_GRID_ENTRIES` entries in all.

Throttle (:class:`IoStatsPublisher`): with a running loop, a timer on the
loop recomputes both at most every :data:`INTERVAL` seconds while at least
one view is live, and writes a trait only when its value changed. The timer
starts on a front-end message (``poke``) and stops by itself when no view
is left; closing the viewer cancels it, so nothing outlives the viewer.
Without a loop (sync mode) nothing runs by itself:
:meth:`IoStatsPublisher.publish_now` is called by ``Viewer.flush_now()``
and ``Viewer.refresh_stats()``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from simplezarr.utils.chunkpool import CHUNK_STATES, ChunkPool, ChunkState, PoolStats

from ._tilesend import StreamerStats
from .geometry import chunk_range

if TYPE_CHECKING:
    from ._layout import ImageLayout
    from .tiles import TileStreamer

__all__ = ["INTERVAL", "MAX_GRID_ENTRIES", "IoStatsPublisher", "chunk_grid", "stats_dict"]

logger = logging.getLogger("simplezarr")

INTERVAL = 0.25
"""Seconds between two updates of ``stats`` / ``_chunk_states`` at most."""

MAX_GRID_ENTRIES = 4096
"""Most chunk entries ``_chunk_states`` carries (all levels together)."""

_RANK: dict[ChunkState, int] = {"cached": 0, "held": 1, "loading": 2, "failed": 3}
_CODE = {state: i for i, state in enumerate(CHUNK_STATES)}


def _mean_ms(seconds: float, n: int) -> float | None:
    return None if n == 0 else round(1000.0 * seconds / n, 3)


def stats_dict(pool: PoolStats, tiles: StreamerStats, views: int) -> dict[str, Any]:
    """The ``Viewer.stats`` dict from the pool's and the streamers' counters.

    Keys: ``views`` (live views); ``levels`` (per level: ``level``, ``held``,
    ``cached`` chunks); ``held``, ``cached`` (all levels); ``memory`` and
    ``memory_budget`` (bytes; the budget may be None); ``cache_hits``,
    ``cache_misses``, ``hit_rate`` (0..1, None before any); ``reads``
    (chunks read), ``read_failures``, ``reads_in_flight``, ``reads_queued``,
    ``bytes_read`` (as stored), ``read_ms`` (mean, None before any);
    ``tiles_sent``, ``bytes_sent`` (PNG bytes), ``encodes``, ``encode_ms``
    (mean, None before any). See :class:`~simplezarr.utils.chunkpool.PoolStats`.
    """
    with tiles.lock:
        sent, sent_bytes = tiles.tiles, tiles.bytes_sent
        encodes, encode_seconds = tiles.encodes, tiles.encode_seconds
    hit_rate = pool.hit_rate
    return {
        "views": views,
        "levels": [
            {"level": i, "held": h, "cached": c}
            for i, (h, c) in enumerate(
                zip(pool.held_per_level, pool.cached_per_level, strict=True)
            )
        ],
        "held": pool.held,
        "cached": pool.cached,
        "memory": pool.memory,
        "memory_budget": pool.memory_budget,
        "cache_hits": pool.cache_hits,
        "cache_misses": pool.cache_misses,
        "hit_rate": None if hit_rate is None else round(hit_rate, 4),
        "reads": pool.reads,
        "read_failures": pool.read_failures,
        "reads_in_flight": pool.reads_in_flight,
        "reads_queued": pool.reads_queued,
        "bytes_read": pool.bytes_read,
        "read_ms": _mean_ms(pool.read_seconds, pool.reads),
        "tiles_sent": sent,
        "bytes_sent": sent_bytes,
        "encodes": encodes,
        "encode_ms": _mean_ms(encode_seconds, encodes),
    }


def chunk_grid(
    pool: ChunkPool,
    layout: ImageLayout,
    streamers: Iterable[TileStreamer],
    *,
    max_entries: int = MAX_GRID_ENTRIES,
) -> dict[str, Any]:
    """The ``_chunk_states`` value: per level in use, the pool's chunks in the views' regions.

    Returns ``{"states": [...], "levels": {"<level>": [[iy, ix, code], ...]}}``
    (see the module docstring); the work is bounded by the chunks the views
    hold and the pool's held and cached chunks of those levels.
    """
    y, x = layout.y_axis, layout.x_axis
    others = [a for a in range(layout.ndim) if a not in (y, x)]
    cells: dict[int, dict[tuple[int, int], ChunkState]] = {}
    states_by_level: dict[int, dict[tuple[int, ...], ChunkState]] = {}
    total = 0
    for streamer in streamers:
        level, viewport = streamer.level, streamer.viewport
        planes = {tuple(index[a] for a in others) for lv, index in streamer.held if lv == level}
        if viewport is None or not planes:
            continue
        ry, rx = chunk_range(layout.levels[level], viewport.bounds)
        states = states_by_level.get(level)
        if states is None:
            states = states_by_level[level] = pool.chunk_states(level)
        out = cells.setdefault(level, {})
        for index, state in states.items():
            iy, ix = index[y], index[x]
            if iy not in ry or ix not in rx:
                continue
            if tuple(index[a] for a in others) not in planes:
                continue
            now = out.get((iy, ix))
            if now is None:
                if total >= max_entries:
                    continue
                total += 1
            elif _RANK[now] >= _RANK[state]:
                continue
            out[(iy, ix)] = state
    return {
        "states": list(CHUNK_STATES),
        "levels": {
            str(level): [[iy, ix, _CODE[s]] for (iy, ix), s in sorted(out.items())]
            for level, out in sorted(cells.items())
        },
    }


class _Host(Protocol):
    """What the publisher needs of its ``Viewer``."""

    _closed: bool
    _pool: ChunkPool
    _layout: ImageLayout
    show_chunks: bool

    @property
    def views(self) -> Mapping[str, TileStreamer]: ...

    def set_trait(self, name: str, value: Any) -> None: ...


class IoStatsPublisher:
    """Writes a viewer's ``stats`` and ``_chunk_states`` traits (see the module docstring).

    Parameters
    ----------
    host : Viewer
        The viewer whose traits it writes.
    loop : asyncio.AbstractEventLoop, optional
        The viewer's loop (the timer runs there); None: sync mode, no timer.
    interval : float
        Seconds between two updates at most.
    """

    def __init__(
        self,
        host: _Host,
        loop: asyncio.AbstractEventLoop | None,
        *,
        interval: float = INTERVAL,
    ) -> None:
        self._host = host
        self._loop = loop
        self._interval = interval
        self._timer: asyncio.TimerHandle | None = None
        self._last: dict[str, Any] = {}
        self.totals = StreamerStats()
        """Tiles, bytes and encodes of every streamer of the viewer (closed ones included)."""

    @property
    def running(self) -> bool:
        """Whether the timer is scheduled."""
        return self._timer is not None

    def poke(self, *_: Any) -> None:
        """On the loop: start the timer if a view is live and it is not running."""
        host = self._host
        if self._loop is None or self._timer is not None or host._closed or not host.views:
            return
        self._timer = self._loop.call_later(self._interval, self._tick)

    def publish_now(self) -> None:
        """Recompute both traits now and write those that changed."""
        host = self._host
        if host._closed:
            return
        views = host.views
        values = {"stats": stats_dict(host._pool.stats(), self.totals, len(views))}
        values["_chunk_states"] = (
            chunk_grid(host._pool, host._layout, views.values()) if host.show_chunks else {}
        )
        for name, value in values.items():
            if self._last.get(name) != value:
                self._last[name] = value
                try:
                    host.set_trait(name, value)
                except Exception:
                    logger.exception("simplezarr Viewer: an observer of %r raised", name)

    def close(self) -> None:
        """Stop the timer (the viewer is closing)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _tick(self) -> None:
        self._timer = None
        try:
            self.publish_now()
        except Exception:
            logger.exception("simplezarr Viewer: updating the stats failed")
        self.poke()  # again while a view is live
