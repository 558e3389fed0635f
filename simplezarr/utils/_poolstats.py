"""What a :class:`~simplezarr.utils.ChunkPool` did and holds: :class:`PoolStats`.

Public as :class:`simplezarr.utils.chunkpool.PoolStats`, the result of
:meth:`ChunkPool.stats() <simplezarr.utils.ChunkPool.stats>`; it lives here
to keep the pool's module small.

Design
------
The counters are kept where the work happens, once: the pool counts gets,
reads and failures under its own lock (:class:`PoolCounters`, a plain record
the pool changes at each step of a chunk's life, so the per-level numbers of
held and cached chunks are always up to date and never recounted by walking
the tables); each level's :class:`~._chunkread.ChunkReader` counts the bytes
it fetched from the store; the pool's read lanes
(:mod:`~simplezarr.utils._readthreads`) know the reads running and queued.
:meth:`ChunkPool.stats` reads them all at once into a frozen
:class:`PoolStats`: O(levels) work, safe from any thread.

A chunk's state for the chunk grid of a viewer (:data:`CHUNK_STATES`) is
derived from the same bookkeeping: *held* (at least one ref, data loaded),
*loading* (held, read queued or running), *failed* (held, read failed) and
*cached* (no ref, data kept).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from simplezarr.utils._chunkread import ChunkReader
    from simplezarr.utils._location import ChunkLocation
    from simplezarr.utils._readthreads import ReadLane

__all__ = [
    "CHUNK_STATES",
    "ChunkState",
    "PoolCounters",
    "PoolStats",
    "check_level",
    "snapshot",
    "states_of",
]

_Key = tuple[int, tuple[int, ...]]

ChunkState = Literal["held", "cached", "loading", "failed"]
"""The state of a chunk in its pool (see the module docstring)."""

CHUNK_STATES: tuple[ChunkState, ...] = ("held", "cached", "loading", "failed")
"""Every :data:`ChunkState`, in a fixed order (the chunk grid's legend)."""


@dataclass(frozen=True)
class PoolStats:
    """A snapshot of a pool's chunks and of the work it did since it was made.

    Counts marked *total* only grow; the others are the state at the moment
    :meth:`ChunkPool.stats` was called.

    Attributes
    ----------
    held_per_level : tuple[int, ...]
        Chunks with at least one ref (loading, loaded or failed), per level.
    cached_per_level : tuple[int, ...]
        Chunks without refs kept in the cache (data loaded), per level.
    memory : int
        Bytes of decoded chunk data in memory, held and cached
        (``ChunkPool.memory_usage``).
    memory_budget : int or None
        The pool's ``memory_budget`` (None: no budget).
    cache_hits : int
        Total gets of a chunk that nobody held and the cache still had (no read).
    cache_misses : int
        Total gets of a chunk that nobody held and the cache did not have: each
        queued a read. (Gets of a chunk already held count as neither.)
    reads : int
        Total reads that delivered their chunk's data.
    read_failures : int
        Total reads that failed: the store or decoder failed, the read passed
        ``read_timeout``, or it was refused (queue full, store hung).
    read_seconds : float
        Total seconds the successful reads took (store IO and decode, on the
        read threads, from start to end).
    reads_in_flight : int
        This pool's reads running now (stuck ones included), until their
        chunk settles: a chunk whose data arrived is no longer in flight,
        even while its read thread is still winding down.
    reads_queued : int
        Reads waiting for a read thread.
    bytes_read : int
        Total bytes fetched from the store for chunks: chunk and inner-chunk
        bytes and shard indexes, as stored (compressed). Reads that fall back
        to zarr's ``array[...]`` (codecs the pool does not decode itself) are
        not counted.
    """

    held_per_level: tuple[int, ...]
    cached_per_level: tuple[int, ...]
    memory: int
    memory_budget: int | None
    cache_hits: int
    cache_misses: int
    reads: int
    read_failures: int
    read_seconds: float
    reads_in_flight: int
    reads_queued: int
    bytes_read: int

    @property
    def held(self) -> int:
        """Chunks with at least one ref, all levels."""
        return sum(self.held_per_level)

    @property
    def cached(self) -> int:
        """Chunks in the cache, all levels."""
        return sum(self.cached_per_level)

    @property
    def hit_rate(self) -> float | None:
        """``cache_hits / (cache_hits + cache_misses)``; None before any such get."""
        n = self.cache_hits + self.cache_misses
        return None if n == 0 else self.cache_hits / n

    @property
    def mean_read_seconds(self) -> float | None:
        """Mean seconds of a successful read; None before the first."""
        return None if self.reads == 0 else self.read_seconds / self.reads


class PoolCounters:
    """The pool's running counts; changed only under the pool's lock.

    Parameters
    ----------
    levels : int
        Number of levels of the pool's image.
    """

    __slots__ = (
        "cache_hits",
        "cache_misses",
        "cached",
        "held",
        "read_failures",
        "read_seconds",
        "reads",
    )

    def __init__(self, levels: int) -> None:
        self.held = [0] * levels
        self.cached = [0] * levels
        self.cache_hits = 0
        self.cache_misses = 0
        self.reads = 0
        self.read_failures = 0
        self.read_seconds = 0.0

    def forget_chunks(self) -> None:
        """Every chunk left the tables (the pool was destroyed)."""
        self.held = [0] * len(self.held)
        self.cached = [0] * len(self.cached)


def snapshot(
    counts: PoolCounters,
    memory: int,
    budget: int | None,
    lanes: Sequence[ReadLane],
    readers: Sequence[ChunkReader],
    reading: int,
) -> PoolStats:
    """The pool's :class:`PoolStats` (called with the pool's lock held)."""
    unique = list({id(lane): lane for lane in lanes}.values())
    return PoolStats(
        held_per_level=tuple(counts.held),
        cached_per_level=tuple(counts.cached),
        memory=memory,
        memory_budget=budget,
        cache_hits=counts.cache_hits,
        cache_misses=counts.cache_misses,
        reads=counts.reads,
        read_failures=counts.read_failures,
        read_seconds=counts.read_seconds,
        reads_in_flight=reading,
        reads_queued=sum(lane.queued for lane in unique),
        bytes_read=sum(r.bytes_read for r in readers),
    )


def states_of(
    held: Mapping[_Key, ChunkLocation], cached: Mapping[_Key, ChunkLocation], level: int
) -> dict[tuple[int, ...], ChunkState]:
    """The state of each chunk of ``level`` in the pool's tables (pool's lock held)."""
    out: dict[tuple[int, ...], ChunkState] = {k[1]: "cached" for k in cached if k[0] == level}
    for (lv, index), chunk in held.items():
        if lv == level:
            phase = chunk._phase
            out[index] = (
                "held" if phase == "loaded" else "failed" if phase == "failed" else "loading"
            )
    return out


def check_level(where: str, levels: int, level: Any) -> int:
    """``level`` as an int in ``0..levels-1``, else a ``ValueError`` naming ``where``."""
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level < levels:
        raise ValueError(f"{where}: level {level!r} is out of range (0..{levels - 1})")
    return int(level)


PoolStats.__module__ = "simplezarr.utils.chunkpool"
