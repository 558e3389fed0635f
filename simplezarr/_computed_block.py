"""One computed chunk of a :class:`simplezarr.ComputedImage`: its source block, ``fn``, checks.

Design
------
A computed chunk covers exactly the region of the source chunk with the same
level and index (the computed image has the source's chunk grid). Making it
is three steps, the same in this process and on a dask worker:

1. :func:`read_block` reads that region from a :class:`ChunkPool` of the
   source, grown by ``halo`` pixels on each side of every *spatial* axis
   (y/x, and z if present). The pixels inside the image come from the
   source chunks the grown region touches (up to 3**d of them when ``halo``
   is smaller than a chunk), each got with a ref of its own and dropped
   afterwards; pixels outside the image repeat the nearest edge pixel
   (``numpy.pad(mode="edge")``). Every wait is bounded by the deadline and
   also ends when the computation is cancelled (``stop``).
2. :func:`apply_fn` calls ``fn(block)`` on that (writable, fresh) array.
3. The *shape rule*: ``fn`` may return the grown shape (its halo is then
   cropped away) or the chunk's own shape; anything else is an error naming
   ``fn``, the level, the chunk and both shapes. The result is cast to the
   image's dtype.

Errors carry the image's name, ``fn``'s name, level and chunk index
(:class:`ComputeError`, chained to the original exception; it pickles with
its cause, so an error raised on a dask worker keeps it too).

On a dask worker, :func:`compute_on_worker` opens the source from the
description it is sent once (a cloudpickled :class:`MultiscaleInfo`: a path
or URL is re-opened there, an in-memory store arrives with its data) and
keeps a small pool per source (at most ``_WORKER_SOURCES`` sources per
process), so a worker reads a chunk's source data where it computes it.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from simplezarr.utils.chunkpool import ChunkLocation, ChunkPool
from simplezarr.utils.multiscale import MultiscaleInfo, ScaleInfo

__all__ = [
    "ComputeError",
    "Stopped",
    "apply_fn",
    "compute_on_worker",
    "fn_name",
    "read_block",
    "source_pool",
]

SOURCE_CACHE = 64
"""Source chunks a computed image keeps cached (halos of neighbouring chunks overlap)."""

SOURCE_BUDGET = 256 << 20
"""Bytes of source chunk data a computed image's source pool aims to stay under."""

_WORKER_SOURCES = 4
"""Sources (each with its pool) a dask worker process keeps open at most."""


class ComputeError(RuntimeError):
    """Computing one chunk failed; the message names the image, ``fn``, level and chunk."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the cause across pickling (a dask worker sends the error back).
        return (_rebuild_error, (type(self), self.args, self.__cause__))


def _rebuild_error(
    cls: type[ComputeError], args: tuple[Any, ...], cause: BaseException | None
) -> ComputeError:
    exc = cls(*args)
    exc.__cause__ = cause
    return exc


class Stopped(Exception):
    """The computation was cancelled (nobody wants the chunk any more)."""


def fn_name(fn: Any) -> str:
    """How messages name ``fn``: its ``__name__``, else its repr."""
    name = getattr(fn, "__name__", None)
    return str(name) if name else repr(fn)


def source_pool(info: MultiscaleInfo, timeout: float) -> ChunkPool:
    """The bounded pool a computed image reads its source through."""
    return ChunkPool(
        info, cache_size=SOURCE_CACHE, read_timeout=timeout, memory_budget=SOURCE_BUDGET
    )


def _grown(scale: ScaleInfo, index: tuple[int, ...], halo: int) -> tuple[list[int], list[int]]:
    """Start and stop per axis of the chunk's region grown by ``halo`` on spatial axes."""
    spatial = set(scale.spatial_axes)
    starts, stops = [], []
    for axis, (i, c, n) in enumerate(zip(index, scale.chunk_shape, scale.shape, strict=True)):
        h = halo if axis in spatial else 0
        starts.append(i * c - h)
        stops.append(min((i + 1) * c, n) + h)
    return starts, stops


def read_block(
    pool: ChunkPool,
    level: int,
    index: tuple[int, ...],
    halo: int,
    *,
    deadline: float,
    stop: concurrent.futures.Future[None],
    ref: str,
    where: str,
) -> np.ndarray:
    """The source region of chunk ``index`` of ``level``, grown by ``halo`` (edge-replicated).

    Raises
    ------
    Stopped
        ``stop`` was set while waiting.
    TimeoutError
        The source chunks did not arrive by ``deadline`` (``time.monotonic``).
    ComputeError
        A source chunk failed to read (chained to its ``ChunkReadError``).
    """
    scale = pool.multiscale_info.scales[level]
    starts, stops = _grown(scale, index, halo)
    lo = [max(0, s) for s in starts]
    hi = [min(n, s) for s, n in zip(stops, scale.shape, strict=True)]
    ranges = [
        range(a // c, (b - 1) // c + 1) for a, b, c in zip(lo, hi, scale.chunk_shape, strict=True)
    ]
    got: list[ChunkLocation] = []
    try:
        for src in itertools.product(*ranges):
            got.append(pool.get_chunk(level, src, ref))
        _wait(got, deadline, stop, where)
        out = np.empty([b - a for a, b in zip(lo, hi, strict=True)], dtype=scale.dtype)
        for chunk in got:
            try:
                data = chunk.future.result(timeout=0)
            except concurrent.futures.CancelledError:
                raise ComputeError(
                    f"{where}: source chunk {chunk.index} was destroyed before it was read"
                ) from None
            except Exception as exc:
                raise ComputeError(f"{where}: reading the source failed: {exc}") from exc
            first = [i * c for i, c in zip(chunk.index, scale.chunk_shape, strict=True)]
            src_sel, out_sel = [], []
            for f, n, a, b in zip(first, data.shape, lo, hi, strict=True):
                s0, s1 = max(a, f), min(b, f + n)
                src_sel.append(slice(s0 - f, s1 - f))
                out_sel.append(slice(s0 - a, s1 - a))
            out[tuple(out_sel)] = data[tuple(src_sel)]
    finally:
        for chunk in got:
            pool.drop_chunk(level, chunk.index, ref)
    pads = [(a - s, e - b) for s, e, a, b in zip(starts, stops, lo, hi, strict=True)]
    if any(p != (0, 0) for p in pads):
        out = np.pad(out, pads, mode="edge")
    return out


def _wait(
    chunks: list[ChunkLocation],
    deadline: float,
    stop: concurrent.futures.Future[None],
    where: str,
) -> None:
    pending: set[concurrent.futures.Future[Any]] = {c.future for c in chunks}
    while pending:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"{where}: its source chunks did not arrive in time")
        done, pending = concurrent.futures.wait(
            pending | {stop}, remaining, concurrent.futures.FIRST_COMPLETED
        )
        if stop in done:
            raise Stopped(where)
        pending.discard(stop)


def apply_fn(
    fn: Callable[[np.ndarray], Any],
    block: np.ndarray,
    scale: ScaleInfo,
    index: tuple[int, ...],
    halo: int,
    dtype: np.dtype[Any] | None,
    where: str,
) -> np.ndarray:
    """``fn(block)`` under the shape rule (see the module docstring), cast to ``dtype``."""
    try:
        out = np.asarray(fn(block))
    except Exception as exc:
        raise ComputeError(f"{where}: {fn_name(fn)} raised {type(exc).__name__}: {exc}") from exc
    starts, stops = _grown(scale, index, 0)
    own = tuple(b - a for a, b in zip(starts, stops, strict=True))
    if out.shape == block.shape and halo:
        spatial = set(scale.spatial_axes)
        out = out[
            tuple(
                slice(halo, n - halo) if axis in spatial else slice(None)
                for axis, n in enumerate(out.shape)
            )
        ]
    elif out.shape != own:
        raise ComputeError(
            f"{where}: {fn_name(fn)} returned shape {out.shape}; expected the block's shape "
            f"{block.shape} (halo included) or the chunk's shape {own}"
        )
    if dtype is not None and out.dtype != dtype:
        out = out.astype(dtype)
    return out


# -- on a dask worker -------------------------------------------------------------------

_worker_pools: OrderedDict[str, ChunkPool] = OrderedDict()
_worker_lock = threading.Lock()
_worker_refs = itertools.count()  # one ref per computation: two may share a source chunk


def compute_on_worker(
    source: bytes,
    token: str,
    level: int,
    index: tuple[int, ...],
    halo: int,
    fn: Callable[[np.ndarray], Any],
    dtype: np.dtype[Any],
    timeout: float,
    where: str,
) -> np.ndarray:
    """One computed chunk, on a dask worker: its source opened there (once per process).

    ``source`` is the cloudpickled source ``MultiscaleInfo`` (scattered once),
    ``token`` names it.
    """
    with _worker_lock:
        pool = _worker_pools.get(token)
        if pool is None:
            info = pickle.loads(source)  # our own description, sent by our client
            pool = _worker_pools[token] = source_pool(info, timeout)
            while len(_worker_pools) > _WORKER_SOURCES:
                _worker_pools.popitem(last=False)[1].destroy()
        else:
            _worker_pools.move_to_end(token)
    never: concurrent.futures.Future[None] = concurrent.futures.Future()
    block = read_block(
        pool,
        level,
        index,
        halo,
        deadline=time.monotonic() + timeout,
        stop=never,
        ref=f"computed-{next(_worker_refs)}",
        where=where,
    )
    return apply_fn(fn, block, pool.multiscale_info.scales[level], index, halo, dtype, where)
