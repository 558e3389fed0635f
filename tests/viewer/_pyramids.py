"""A small real pyramid behind a wrapper store that counts (and may fail) reads."""

from __future__ import annotations

import numpy as np
from zarr.storage import MemoryStore

from simplezarr.utils._pyramid import write_multiscale
from tests._stores import FailingStore


def pyramid_store(fail: set[str] | None = None) -> FailingStore:
    """A 2-level uint8 512 x 768 OME-Zarr pyramid in 128 x 128 chunks (level 0: 4 x 6 chunks).

    Written into a MemoryStore, then wrapped: the wrapper counts only the
    reads made after, and fails the keys in ``fail`` (e.g. ``"0/c/1/2"``).
    """
    rng = np.random.default_rng(11)
    data = rng.integers(0, 255, (512, 768), dtype=np.uint8)
    inner = MemoryStore()
    write_multiscale(data, inner, axes="yx", chunks=128, levels=2)
    return FailingStore(inner, fail)
