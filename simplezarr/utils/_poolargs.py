"""Argument checks of :class:`~simplezarr.utils.chunkpool.ChunkPool`: options, keys, a loop.

Kept apart so the pool's module holds only its behaviour. Each check raises
with a message that names the method and shows the value, and returns the
value normalised (plain ints) where the pool keeps it.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from simplezarr.utils.multiscale import MultiscaleInfo

__all__ = ["check_call_soon", "check_key", "check_options"]


def check_options(
    multiscale_info: Any, cache_size: Any, read_timeout: Any, memory_budget: Any
) -> None:
    """Raise unless the ``ChunkPool(...)`` arguments are usable."""
    if not isinstance(multiscale_info, MultiscaleInfo):
        raise TypeError(
            f"ChunkPool(): multiscale_info must be a MultiscaleInfo, not {multiscale_info!r}"
        )
    if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 0:
        raise ValueError(f"ChunkPool(): cache_size must be a non-negative int, not {cache_size!r}")
    if (
        isinstance(read_timeout, bool)
        or not isinstance(read_timeout, int | float)
        or not math.isfinite(read_timeout)
        or read_timeout <= 0
    ):
        raise ValueError(
            f"ChunkPool(): read_timeout must be a positive number of seconds, not {read_timeout!r}"
        )
    if memory_budget is not None and (
        isinstance(memory_budget, bool) or not isinstance(memory_budget, int) or memory_budget < 0
    ):
        raise ValueError(
            "ChunkPool(): memory_budget must be None or a non-negative int (bytes), "
            f"not {memory_budget!r}"
        )


def check_key(grids: list[tuple[int, ...]], level: Any, index: Any) -> tuple[int, tuple[int, ...]]:
    """Validate a (level, index) pair against the levels' chunk grids; return plain ints."""
    if isinstance(level, bool) or not isinstance(level, int | np.integer):
        raise TypeError(f"ChunkPool.get_chunk(): level must be an int, not {level!r}")
    if not 0 <= level < len(grids):
        raise IndexError(
            f"ChunkPool.get_chunk(): level {level!r} is out of range (0..{len(grids) - 1})"
        )
    grid = grids[level]
    try:
        norm = tuple(int(i) for i in index)
    except (TypeError, ValueError):
        raise TypeError(
            f"ChunkPool.get_chunk(): index must be a tuple of ints, not {index!r}"
        ) from None
    if len(norm) != len(grid) or not all(0 <= i < n for i, n in zip(norm, grid, strict=True)):
        raise IndexError(
            f"ChunkPool.get_chunk(): index {index!r} is out of range for level {level} "
            f"(chunk grid {grid})"
        )
    return int(level), norm


def check_call_soon(call_soon_threadsafe: Any) -> Callable[..., Any] | None:
    """The function ``enable_async_load_handlers(call_soon_threadsafe)`` means (None: "none")."""
    if call_soon_threadsafe == "none":
        return None
    if call_soon_threadsafe == "asyncio":
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "ChunkPool.enable_async_load_handlers('asyncio'): no asyncio loop is "
                "running in this thread; call it from a coroutine or a notebook cell, or "
                "pass loop.call_soon_threadsafe"
            ) from None
        return loop.call_soon_threadsafe
    if callable(call_soon_threadsafe):
        return call_soon_threadsafe
    raise ValueError(
        "ChunkPool.enable_async_load_handlers(): expected a callable, 'asyncio' or "
        f"'none', not {call_soon_threadsafe!r}"
    )
