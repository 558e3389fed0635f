"""Where a layer's pixels come from, and how they line up with the base image.

A viewer shows a stack of layers (:mod:`.layers`); layer 0 is the image the
viewer was made with, every other layer is a multiscale image of its own,
read through a :class:`~simplezarr.utils.ChunkPool` of its own. This module
turns what ``Viewer.add_image`` / ``add_labels`` are given into a
:class:`LayerSource` (metadata, layout, pool), checks that it lines up with the
base image in world coordinates, and reads label metadata:

- **Alignment.** Layers are placed by their own OME coordinate transforms
  (scale and translation per level), in the base image's world units: the
  displayed axes must have the base's names (``y``, ``x``), and a layer in
  another spatial unit (``nm`` over ``micrometer``) is converted by the
  units' ratio; axes or units that cannot be matched are an error naming
  both images' (:func:`align_layout`). A label image must in addition lie
  on the base image's level-0 grid (same shape, scale and translation along
  the displayed axes): a misaligned one is an error naming the mismatch
  (:func:`check_same_grid`). A bare array has no transforms: it is given the
  base image's level-0 scale and translation (and axis names).
- **Sliders.** A layer's non-displayed axes follow the base image's sliders
  of the same name through world coordinates (a z step of 0.5 µm over a
  layer with 1 µm steps); an axis the base image lacks stays in its middle
  (:func:`slider_mapper`). Channels are each layer's own.
- **Labels.** The OME ``labels`` group of an image lists its label images
  (:func:`discover_labels`); ``image-label`` ``colors`` (at most
  :data:`MAX_LABEL_COLORS`) and ``properties`` are read tolerantly, with a
  warning naming what was skipped (:func:`label_metadata`).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import zarr

from simplezarr._open import numpy_node
from simplezarr._open import open as open_source
from simplezarr.utils._omezarr import _ome_meta
from simplezarr.utils.chunkpool import ChunkPool
from simplezarr.utils.multiscale import SPACE_UNITS, AxisInfo, MultiscaleInfo

from ._layout import ImageLayout, image_layout
from ._registry import shared_pool
from ._source import pick_image
from .geometry import LevelGeometry, map_index

__all__ = [
    "MAX_LABEL_COLORS",
    "LabelMetadata",
    "LayerSource",
    "align_layout",
    "check_same_grid",
    "discover_labels",
    "label_metadata",
    "open_layer_source",
    "slider_mapper",
]

logger = logging.getLogger("simplezarr")

MAX_LABEL_COLORS = 2048
"""Most ``image-label`` colours a label layer carries to the front end (the rest are hashed)."""
_MAX_PROPERTIES = 100_000  # labels whose properties are kept
_GRID_RTOL = 1e-6


@dataclass(frozen=True)
class LabelMetadata:
    """A label image's ``image-label`` metadata: ``colors`` id -> ``#rrggbbaa``, ``properties``."""

    colors: dict[int, str] = field(default_factory=dict)
    properties: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class LayerSource:
    """A layer's image: metadata, layout (in the base image's world units), pool, labels.

    ``owns_pool``: the pool is a lease from the viewers' registry
    (:mod:`._registry`: one pool per image per kernel), returned with
    ``release_pool`` when the viewer closes; a ``ChunkPool`` given is not.
    ``destroy_pool``: the pool is the layer's alone (a computed layer's),
    destroyed when the viewer closes.
    """

    info: MultiscaleInfo
    layout: ImageLayout
    pool: ChunkPool
    owns_pool: bool
    labels: LabelMetadata | None
    destroy_pool: bool = False


def _node_group(info: MultiscaleInfo) -> Any:
    """The zarr group holding the levels of ``info`` (None for a bare array)."""
    array = info.scales[0].array
    path = str(getattr(array, "path", "") or "").strip("/")
    if path == "":
        return None
    parent = path.rsplit("/", 1)[0] if "/" in path else ""
    try:
        return zarr.open_group(store=array.store, path=parent, mode="r")
    except Exception:
        return None


def discover_labels(info: MultiscaleInfo) -> list[MultiscaleInfo]:
    """The label images listed in the ``labels`` group of ``info``'s image (``[]`` without).

    An entry that cannot be read is skipped with a warning naming it.
    """
    group = _node_group(info)
    if group is None:
        return []
    try:
        labels_group = group["labels"]
    except (KeyError, FileNotFoundError, ValueError, TypeError):
        return []
    except Exception as exc:  # a store that fails: say so, show the image anyway
        warnings.warn(
            f"Viewer(): cannot read the 'labels' group of {info.name!r}: {exc}", stacklevel=3
        )
        return []
    if not isinstance(labels_group, zarr.Group):
        return []
    meta, _ = _ome_meta(labels_group)
    names = meta.get("labels")
    if not isinstance(names, list):
        return []
    found: list[MultiscaleInfo] = []
    for name in names[:64]:
        if not isinstance(name, str):
            warnings.warn(
                f"Viewer(): label entry {name!r} of {info.name!r} is not a name; skipped",
                stacklevel=3,
            )
            continue
        try:
            node = labels_group[name]
            infos = MultiscaleInfo.from_zarr_node(node)
            found.append(dataclasses.replace(infos[0], name=name))
        except Exception as exc:
            warnings.warn(
                f"Viewer(): label image {name!r} of {info.name!r} cannot be read ({exc}); skipped",
                stacklevel=3,
            )
    return found


def _rgba_hex(value: Any) -> str | None:
    if not isinstance(value, list | tuple) or len(value) not in (3, 4):
        return None
    try:
        parts = [int(v) for v in value]
    except (TypeError, ValueError, OverflowError):
        return None
    if len(parts) == 3:
        parts.append(255)
    if not all(0 <= p <= 255 for p in parts):
        return None
    return "#" + "".join(f"{p:02x}" for p in parts)


def _label_value(entry: Any) -> int | None:
    value = entry.get("label-value") if isinstance(entry, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value != int(value) or not 0 <= value < 2**32:
        return None
    return int(value)


def label_metadata(info: MultiscaleInfo) -> LabelMetadata:
    """``image-label`` ``colors`` and ``properties`` of a label image (tolerant, bounded)."""
    group = _node_group(info)
    if group is None:
        return LabelMetadata()
    meta, _ = _ome_meta(group)
    image_label = meta.get("image-label")
    if not isinstance(image_label, Mapping):
        return LabelMetadata()
    colors: dict[int, str] = {}
    bad = 0
    raw_colors = image_label.get("colors", [])
    for entry in raw_colors if isinstance(raw_colors, list) else []:
        value = _label_value(entry)
        color = _rgba_hex(entry.get("rgba")) if isinstance(entry, Mapping) else None
        if value is None or color is None:
            bad += 1
        elif len(colors) < MAX_LABEL_COLORS:
            colors[value] = color
    if bad:
        warnings.warn(
            f"Viewer(): {bad} 'image-label.colors' entries of {info.name!r} need an integer "
            "'label-value' in 0..2**32-1 and 'rgba' of 0..255; skipped (hashed colours instead)",
            stacklevel=3,
        )
    if isinstance(raw_colors, list) and len(raw_colors) > MAX_LABEL_COLORS:
        warnings.warn(
            f"Viewer(): {info.name!r} has {len(raw_colors)} label colours; the first "
            f"{MAX_LABEL_COLORS} are used, the others hashed",
            stacklevel=3,
        )
    properties: dict[int, dict[str, Any]] = {}
    raw_props = image_label.get("properties", [])
    for entry in (raw_props if isinstance(raw_props, list) else [])[:_MAX_PROPERTIES]:
        value = _label_value(entry)
        if value is not None:
            properties[value] = {k: v for k, v in entry.items() if k != "label-value"}
    return LabelMetadata(colors, properties)


def _names(layout: ImageLayout, info: MultiscaleInfo) -> tuple[str, str]:
    axes = info.scales[0].axes
    return axes[layout.y_axis].name, axes[layout.x_axis].name


def _displayed_unit(layout: ImageLayout, info: MultiscaleInfo) -> str | None:
    axes = info.scales[0].axes
    return axes[layout.x_axis].unit or axes[layout.y_axis].unit


def _scaled(layout: ImageLayout, factor: float) -> ImageLayout:
    """``layout`` with world units multiplied by ``factor`` (displayed and spatial slider axes)."""
    if factor == 1.0:
        return layout
    levels = tuple(
        LevelGeometry(
            shape=g.shape,
            chunk=g.chunk,
            scale=(g.scale[0] * factor, g.scale[1] * factor),
            offset=(g.offset[0] * factor, g.offset[1] * factor),
        )
        for g in layout.levels
    )
    spatial = [s.type == "space" for s in layout.sliders]
    sliders = tuple(
        dataclasses.replace(s, scale=s.scale * factor, offset=s.offset * factor) if sp else s
        for s, sp in zip(layout.sliders, spatial, strict=True)
    )
    slider_levels = tuple(
        tuple(
            (sc * factor, off * factor, n, ch) if sp else (sc, off, n, ch)
            for (sc, off, n, ch), sp in zip(per_level, spatial, strict=True)
        )
        for per_level in layout.slider_levels
    )
    return dataclasses.replace(layout, levels=levels, sliders=sliders, slider_levels=slider_levels)


def align_layout(
    fn: str,
    base: tuple[ImageLayout, MultiscaleInfo],
    layer: tuple[ImageLayout, MultiscaleInfo],
) -> ImageLayout:
    """The layer's layout in the base image's world units, or a ``ValueError`` naming both.

    The displayed axes must have the same names; a layer in another known
    spatial unit is converted by the units' ratio; a unit on one side only
    is taken as the other's.
    """
    base_layout, base_info = base
    layout, info = layer
    base_names, names = _names(base_layout, base_info), _names(layout, info)
    if base_names != names:
        raise ValueError(
            f"{fn}: the displayed axes of {info.name!r} are {names!r}, those of the base "
            f"image {base_info.name!r} are {base_names!r}: they cannot be lined up"
        )
    base_unit, unit = _displayed_unit(base_layout, base_info), _displayed_unit(layout, info)
    if base_unit is None or unit is None or base_unit == unit:
        return layout
    if base_unit not in SPACE_UNITS or unit not in SPACE_UNITS:
        raise ValueError(
            f"{fn}: {info.name!r} is in {unit!r}, the base image {base_info.name!r} in "
            f"{base_unit!r}: these units cannot be converted into each other"
        )
    return _scaled(layout, SPACE_UNITS[unit] / SPACE_UNITS[base_unit])


def _close(a: float, b: float, scale: float) -> bool:
    return abs(a - b) <= _GRID_RTOL * max(abs(scale), abs(a), abs(b))


def check_same_grid(fn: str, base: ImageLayout, layout: ImageLayout, name: str) -> None:
    """Raise ``ValueError`` unless ``layout``'s level 0 lies on ``base``'s level-0 grid."""
    b, g = base.levels[0], layout.levels[0]
    if g.shape != b.shape:
        raise ValueError(
            f"{fn}: labels {name!r} have shape {g.shape} (y, x) at level 0, the image "
            f"{b.shape}: they must lie on the image's pixel grid"
        )
    if not all(_close(s, t, t) for s, t in zip(g.scale, b.scale, strict=True)):
        raise ValueError(
            f"{fn}: labels {name!r} have scale {g.scale} (y, x) at level 0, the image "
            f"{b.scale}: they must lie on the image's pixel grid"
        )
    if not all(_close(o, p, s) for o, p, s in zip(g.offset, b.offset, b.scale, strict=True)):
        raise ValueError(
            f"{fn}: labels {name!r} have translation {g.offset} (y, x, pixel centre) at "
            f"level 0, the image {b.offset}: they must lie on the image's pixel grid"
        )


def _on_base_grid(info: MultiscaleInfo, base: MultiscaleInfo, name: str | None) -> MultiscaleInfo:
    """A bare array (no transforms) on the base image's level-0 grid, named like its axes."""
    base_axes = [a for a in base.scales[0].axes if a.type != "channel"]
    first = info.scales[0]
    if first.ndim > len(base_axes):
        raise ValueError(
            f"Viewer.add_labels(): an array of shape {first.shape} has more axes than the "
            f"image's non-channel axes {tuple(a.name for a in base_axes)!r}"
        )
    axes = tuple(base_axes[len(base_axes) - first.ndim :])
    by_name = {a.name: i for i, a in enumerate(base.scales[0].axes)}
    scale = tuple(float(base.scales[0].scale[by_name[a.name]]) for a in axes)
    offset = tuple(float(base.scales[0].offset[by_name[a.name]]) for a in axes)
    scales = tuple(
        dataclasses.replace(
            s,
            axes=axes,
            scale=tuple(sc * (first.shape[i] / max(1, s.shape[i])) for i, sc in enumerate(scale)),
            offset=tuple(
                o + (sc * (first.shape[i] / max(1, s.shape[i])) - sc) / 2
                for i, (o, sc) in enumerate(zip(offset, scale, strict=True))
            ),
        )
        for s in info.scales
    )
    return dataclasses.replace(
        info,
        axes=tuple(AxisInfo(a.name, a.type, a.unit) for a in axes),
        scales=scales,
        name=name or info.name,
        is_labels=True,
    )


def _has_transforms(info: MultiscaleInfo) -> bool:
    return info.version is not None


def open_layer_source(
    fn: str,
    source: Any,
    *,
    base: tuple[ImageLayout, MultiscaleInfo],
    labels: bool,
    name: str | None,
    image: int | str = 0,
    storage_options: dict[str, Any] | None = None,
    memory: int,
    plane: str | None = None,
) -> LayerSource:
    """Open what ``add_image`` / ``add_labels`` were given and line it up with the base image.

    ``source``: a path, URL, store, zarr node, numpy array, :class:`MultiscaleInfo`
    or a shared :class:`ChunkPool`. ``plane``: the base image's displayed
    axes (``Viewer(plane=...)``), shown for the layer too. Raises
    ``ValueError`` naming the mismatch (see the module docstring) and
    ``TypeError`` for labels that are not integers.
    """
    base_layout, base_info = base
    owns = True
    if isinstance(source, ChunkPool):
        info, pool, owns = source.multiscale_info, source, False
    else:
        if isinstance(source, MultiscaleInfo):
            info = source
        else:
            node = (
                numpy_node(source, labels=True)
                if labels and isinstance(source, np.ndarray)
                else open_source(source, storage_options=storage_options)
            )
            info = pick_image(MultiscaleInfo.from_zarr_node(node), image, source)
        if labels and not _has_transforms(info):
            info = _on_base_grid(info, base_info, name)
        pool = None
    dtype = np.dtype(info.scales[0].dtype)
    if labels and dtype.kind not in "uib":
        raise TypeError(f"{fn}: labels must be integers, {info.name!r} is {dtype}")
    try:
        own_layout = image_layout(info, plane)
    except ValueError as exc:
        raise ValueError(
            f"{fn}: {info.name!r} cannot be shown in the view's plane: {exc}"
        ) from exc
    layout = align_layout(fn, base, (own_layout, info))
    if labels:
        check_same_grid(fn, base_layout, layout, name or info.name)
        if layout.channel_count > 1:
            raise ValueError(
                f"{fn}: labels {info.name!r} have {layout.channel_count} channels; a label "
                "image has none (or one)"
            )
    if pool is None:
        nbytes = math.prod(info.scales[0].chunk_shape) * dtype.itemsize
        cache = max(16, (memory // 2) // max(1, nbytes))
        pool = shared_pool(info, lambda i: ChunkPool(i, cache_size=cache, memory_budget=memory))
    meta = label_metadata(info) if labels else None
    if name is not None and info.name != name:
        info = dataclasses.replace(info, name=name)
    return LayerSource(info, layout, pool, owns, meta)


def slider_mapper(
    base: ImageLayout, layout: ImageLayout
) -> Callable[[Mapping[str, int]], dict[str, int]]:
    """Map a base-image slider position to the layer's (see the module docstring)."""
    by_name = {s.name: s for s in base.sliders if s.type != "channel"}
    default = layout.default_position()

    def to_layer(position: Mapping[str, int]) -> dict[str, int]:
        out = dict(default)
        for slider in layout.sliders:
            src = by_name.get(slider.name)
            if src is None or slider.type == "channel" or src.name not in position:
                continue
            out[slider.name] = map_index(
                int(position[src.name]),
                (src.scale, src.offset),
                (slider.scale, slider.offset),
                slider.size,
            )
        return out

    return to_layer
