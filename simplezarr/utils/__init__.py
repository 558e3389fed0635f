"""The chunk core: multiscale metadata, a chunk pool, a pyramid writer. Needs no Jupyter."""

from __future__ import annotations

from simplezarr.utils._chunkread import ChunkReadError, ChunkReadTimeout
from simplezarr.utils._pyramid import write_labels, write_multiscale
from simplezarr.utils.chunkpool import ChunkLocation, ChunkManager, ChunkPool
from simplezarr.utils.multiscale import MultiscaleInfo, ScaleInfo

__all__ = [
    "ChunkLocation",
    "ChunkManager",
    "ChunkPool",
    "ChunkReadError",
    "ChunkReadTimeout",
    "MultiscaleInfo",
    "ScaleInfo",
    "write_labels",
    "write_multiscale",
]
