"""A virtual OME-Zarr image: a read-only Zarr v3 store that computes each chunk when read.

Design
------
`ProceduralStore` answers the keys of a 2D multiscale OME-Zarr 0.5 group
(``zarr.json``, ``<level>/zarr.json``, ``<level>/c/<iy>/<ix>``) without
storing anything (the read-only store skeleton, keys, byte ranges and
listing are :class:`simplezarr._computed_store.ComputedStore`'s, shared with
:class:`simplezarr.ComputedImage`): metadata documents are made once at construction, and a
chunk's bytes are made on request by ``render(level, y0, x0, h, w)``
(a numpy array), encoded with the ``bytes`` codec only (little-endian, no
compression: making the bytes is the cost, there is no transfer to save).
Edge chunks are padded with the fill value, as Zarr expects.

Rendering runs in a worker thread (``asyncio.to_thread``), so zarr's event
loop keeps serving other keys and several chunks compute in parallel
(numpy releases the GIL). The store counts the chunks it made
(`ProceduralStore.chunks_rendered`), which tests use to check that nothing is
computed before it is read.

Anything that reads Zarr v3 reads it: ``zarr.open_group(store, mode="r")``,
``simplezarr.open(store)``, ``MultiscaleInfo.from_zarr_node``. Listing works
(lazily: a 1e12-pixel image has millions of chunk keys). It passes the read
part of zarr-python's own store contract (``zarr.testing.store.StoreTests``,
see ``tests/data/test_virtual.py``): it is always read-only
(``with_read_only(False)`` raises ``NotImplementedError`` as zarr's stores
do), an unknown byte-range type raises ``TypeError``, and it pickles (with
a picklable ``render``).

`virtual_fractal` builds one on the tissue generator of
`simplezarr.data._tissue`, band-limited per level so that every level is
about as cheap as any other and looks like the mean of the level below.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import zarr

from simplezarr._computed_store import ComputedStore, array_doc
from simplezarr.data._blas import one_blas_thread
from simplezarr.data._tissue import render_tissue
from simplezarr.utils._pyramid_meta import multiscales_metadata, normalize_axes

__all__ = ["ProceduralStore", "virtual_fractal"]

Render = Callable[[int, int, int, int, int], np.ndarray]


class ProceduralStore(ComputedStore):
    """A read-only Zarr v3 store serving a 2D multiscale OME-Zarr image computed on read.

    Parameters
    ----------
    render : callable
        ``render(level, y0, x0, h, w)`` returns the (h, w) block at rows
        ``y0..`` and columns ``x0..`` of ``level`` (pixels 2**level level-0
        pixels wide), castable to ``dtype``.
    shape : (int, int)
        Level-0 shape (y, x). Each next level halves it (rounding up) until
        both sides fit in one chunk.
    chunk : int
        Chunk side in pixels.
    dtype : numpy dtype
        Pixel type.
    scale : (float, float)
        Level-0 pixel size (y, x); ``unit`` its unit.
    name : str
        The multiscale's name.
    omero : mapping, optional
        ``omero`` metadata to publish (channels with windows).
    read_only : bool
        Must be True (the default): the store cannot be written.
    """

    def __init__(
        self,
        render: Render,
        shape: tuple[int, int],
        *,
        chunk: int = 512,
        dtype: Any = np.uint16,
        scale: tuple[float, float] = (1.0, 1.0),
        unit: str | None = None,
        name: str = "procedural",
        omero: Mapping[str, Any] | None = None,
        read_only: bool = True,
    ) -> None:
        if not read_only:
            raise ValueError("ProceduralStore(): the store is always read-only (read_only=False)")
        if len(shape) != 2 or min(shape) < 1 or chunk < 1:
            raise ValueError(f"ProceduralStore(): bad shape {shape!r} or chunk {chunk!r}")
        self._render = render
        self._dtype = np.dtype(dtype).newbyteorder("<")
        self._chunk = int(chunk)
        shapes = [(int(shape[0]), int(shape[1]))]
        while max(shapes[-1]) > self._chunk:
            shapes.append((-(-shapes[-1][0] // 2), -(-shapes[-1][1] // 2)))
        self.level_shapes: tuple[tuple[int, int], ...] = tuple(shapes)
        self.chunks_rendered = 0
        axes = normalize_axes("yx", 2, unit, "ProceduralStore()")
        factors: list[tuple[int, ...]] = [(2**lvl, 2**lvl) for lvl in range(len(shapes))]
        ome: dict[str, Any] = {
            "version": "0.5",
            "multiscales": multiscales_metadata(
                axes, factors, list(scale), [0.0, 0.0], name, "procedural", "0.5"
            ),
        }
        if omero is not None:
            ome["omero"] = dict(omero)
        docs: dict[str, Any] = {
            "zarr.json": {"zarr_format": 3, "node_type": "group", "attributes": {"ome": ome}}
        }
        for lvl, s in enumerate(shapes):
            docs[f"{lvl}/zarr.json"] = array_doc(s, (self._chunk,) * 2, self._dtype, ["y", "x"])
        super().__init__(docs, [(s, (self._chunk, self._chunk)) for s in shapes])

    # -- identity -----------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ProceduralStore)
            and other._render is self._render
            and other.level_shapes == self.level_shapes
            and other._chunk == self._chunk
            and other._dtype == self._dtype
        )

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        h, w = self.level_shapes[0]
        return f"ProceduralStore({h}x{w}, chunk={self._chunk}, levels={len(self.level_shapes)})"

    # -- reading ------------------------------------------------------------

    def chunk_bytes(self, level: int, iy: int, ix: int) -> bytes:
        """The encoded bytes of one chunk (computed now, in the calling thread)."""
        h, w = self.level_shapes[level]
        c = self._chunk
        y0, x0 = iy * c, ix * c
        bh, bw = min(c, h - y0), min(c, w - x0)
        block = np.asarray(self._render(level, y0, x0, bh, bw))
        if block.shape != (bh, bw):
            raise ValueError(
                f"ProceduralStore: render({level}, {y0}, {x0}, {bh}, {bw}) "
                f"returned shape {block.shape!r}"
            )
        out = np.zeros((c, c), dtype=self._dtype)
        out[:bh, :bw] = block
        with self._lock:
            self.chunks_rendered += 1
        return out.tobytes()

    async def _chunk_bytes(self, level: int, index: tuple[int, ...]) -> bytes:
        return await asyncio.to_thread(self.chunk_bytes, level, *index)


def virtual_fractal(
    size: int = 2**20,
    *,
    seed: int = 0,
    chunk: int = 512,
    dtype: Any = "uint16",
) -> zarr.Group:
    """A virtual tissue section of ``size`` x ``size`` pixels, computed chunk by chunk on read.

    The default is 2**20 x 2**20 (1.1e12 pixels, 12 levels of 512 x 512
    chunks): a fractal outline, fibrous stroma and nuclei (the generator of
    `large_2d`, scaled to ``size``). ``size=10_000`` gives a 1e8-pixel version.
    Nothing is stored: each chunk is computed when read (about 10-40 ms).

    Parameters
    ----------
    size : int
        Width and height of level 0.
    seed : int
        Picks the section.
    chunk : int
        Chunk side.
    dtype : {"uint16", "uint8"}
        Pixel type.

    Returns
    -------
    zarr.Group
        The image group, read-only; its store is a `ProceduralStore`.
    """
    top = float(np.iinfo(np.dtype(dtype)).max)

    def render(level: int, y0: int, x0: int, h: int, w: int) -> np.ndarray:
        with one_blas_thread():
            tile = render_tissue(y0, x0, h, w, step=2**level, size=size, seed=seed)
        return np.rint(tile * top)

    # contrast window from the coarsest level, computed like any other chunk
    n = 0
    while -(-size // 2**n) > chunk:
        n += 1
    side = -(-size // 2**n)
    coarse = render(n, 0, 0, side, side)
    lo, hi = (float(v) for v in np.percentile(coarse, [0.1, 99.9]))
    omero = {
        "channels": [
            {
                "label": "tissue",
                "color": "FFFFFF",
                "active": True,
                "window": {"min": 0.0, "max": top, "start": lo, "end": max(hi, lo + 1)},
            }
        ],
        "rdefs": {"model": "greyscale"},
    }
    store = ProceduralStore(
        render,
        (size, size),
        chunk=chunk,
        dtype=dtype,
        scale=(0.25, 0.25),
        unit="micrometer",
        name=f"virtual tissue {size}x{size}",
        omero=omero,
    )
    return zarr.open_group(store, mode="r")
