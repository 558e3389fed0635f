"""Which image of a source the viewer shows, and the pool that reads it.

``Viewer(source, image=...)`` accepts a path, URL, store, zarr node, numpy
array, :class:`~simplezarr.utils.MultiscaleInfo` or a shared
:class:`~simplezarr.utils.ChunkPool`; :func:`open_pool` turns any of them
into the pool the viewer reads through (and says whether the viewer holds a
lease on it: by default viewers of one image share one pool, see
:mod:`._registry`), :func:`pick_image` chooses one image of a source that
holds several.
"""

from __future__ import annotations

import ast
import math
import os
from typing import Any

import numpy as np

from simplezarr._open import open as open_source
from simplezarr.computed import ComputedImage
from simplezarr.utils.chunkpool import ChunkPool
from simplezarr.utils.multiscale import MultiscaleInfo

from ._registry import shared_pool

__all__ = ["code_source", "open_pool", "pick_image"]

# Default pool cache, in bytes of level-0 chunks.
_CACHE_BYTES = 256 << 20


def open_pool(
    source: Any,
    *,
    image: int | str,
    storage_options: dict[str, Any] | None,
    level_cache: int | None,
    memory: int,
    share: bool = True,
) -> tuple[ChunkPool, bool]:
    """The pool of ``Viewer(source, ...)``, and whether the viewer holds a lease on it.

    A ``ChunkPool`` source is used as is (no lease: the viewer never destroys
    it). Otherwise the source is opened read-only and the image picked; with
    ``share`` the pool already open for that image in this process is leased
    (:mod:`._registry`), else a pool is made with ``cache_size=level_cache``
    (default: as many level-0 chunks as fit in 256 MB, at least 16) and
    ``memory_budget=memory``. A leased pool is given back with
    :func:`~._registry.release_pool`.
    """
    if isinstance(source, ChunkPool):
        return source, False
    if isinstance(source, ComputedImage):
        # Its own tracked pool: replacing fn destroys it, so nothing stale is served.
        return source.pool(cache_size=level_cache or 16, memory_budget=memory), True
    if isinstance(source, MultiscaleInfo):
        info = source
    else:
        node = open_source(source, storage_options=storage_options)
        info = pick_image(MultiscaleInfo.from_zarr_node(node), image, source)

    def make(info: MultiscaleInfo) -> ChunkPool:
        cache = level_cache
        if cache is None:
            first = info.scales[0]
            nbytes = math.prod(first.chunk_shape) * np.dtype(first.dtype).itemsize
            cache = max(16, _CACHE_BYTES // max(1, nbytes))
        return ChunkPool(info, cache_size=cache, memory_budget=memory)

    if share:
        return shared_pool(info, make), True
    return make(info), True


def pick_image(infos: list[MultiscaleInfo], image: int | str, source: Any) -> MultiscaleInfo:
    """The image to show: by index, or by path inside the source (``"A/1/0"``), else by name.

    Paths are unique (``MultiscaleInfo.path``); names often are not (every
    field of an iohub plate is called ``"0"``): the first image of a name.
    """
    if isinstance(image, str):
        for info in infos:
            if info.path == image.strip("/"):
                return info
        for info in infos:
            if info.name == image:
                return info
        names = [i.name for i in infos]
        paths = [i.path for i in infos]
        raise ValueError(
            f"Viewer(): no image named {image!r} (nor at that path) in {source!r}; "
            f"images: {names!r} at paths {paths!r}"
        )
    if not -len(infos) <= image < len(infos):
        raise IndexError(
            f"Viewer(): image {image!r} is out of range: {source!r} has {len(infos)} image(s)"
        )
    return infos[image]


def code_source(
    source: Any,
    *,
    image: int | str,
    storage_options: dict[str, Any] | None,
    plane: str | None,
) -> dict[str, Any]:
    """How the viewer was opened, as Python: the ``_code_source`` trait of "Copy view as code".

    ``args`` are the expressions of the fixed ``Viewer`` arguments (the
    source first); a path or URL is a literal, anything else (an array, a
    zarr node, a store, a pool) is the name ``source`` with a ``note``
    saying so. Storage options are written out only when they are plain
    literals (no credentials objects).
    """
    note = ""
    if isinstance(source, (str, os.PathLike)):
        args = [repr(os.fspath(source))]
    else:
        kind = type(source).__name__
        args = ["source"]
        note = f"# source: the {kind} you viewed (not a path or URL, so not written here)"
    if image != 0:
        args.append(f"image={image!r}")
    if storage_options:
        try:
            literal = repr(storage_options)
            if ast.literal_eval(literal) == storage_options:  # plain literals only
                args.append(f"storage_options={literal}")
        except Exception:
            note = note or "# storage_options: as you gave them"
    if plane:
        args.append(f"plane={plane!r}")
    return {"args": args, "note": note}
