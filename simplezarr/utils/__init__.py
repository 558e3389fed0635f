"""The chunk core: multiscale metadata and a pool of chunks. Needs no Jupyter."""

from __future__ import annotations

from simplezarr.utils.chunkpool import ChunkLocation, ChunkManager, ChunkPool
from simplezarr.utils.multiscale import MultiscaleInfo, ScaleInfo

__all__ = ["ChunkLocation", "ChunkManager", "ChunkPool", "MultiscaleInfo", "ScaleInfo"]
