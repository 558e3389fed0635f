"""One OME-NGFF ``multiscales`` entry to a :class:`~.multiscale.MultiscaleInfo` (private).

The rules (default translations, levels without transforms, axis order,
what is malformed) are documented in :mod:`simplezarr.utils.multiscale`;
the transform algebra is in :mod:`._ngff`; :mod:`._omezarr` finds the
entries (plates, wells, bioformats2raw) and calls :func:`read_multiscale`.

Order of the work for one entry: check the JSON shapes, open each level's
array (metadata only), reduce each level's transforms to an
:class:`~._ngff.AxisMap` (0.4/0.5 lists, or 0.6 coordinate systems), give
levels without transforms the scale their shape implies, sort finest
first, add default translations, compose with the multiscale-level
transforms, then check the geometry (:func:`check_geometry`) before
anything leaves this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import zarr

from simplezarr.utils._ngff import (
    FN,
    KNOWN_VERSIONS,
    SPACE_UNITS,
    AxisMap,
    axes_from_names,
    guess_axes,
    normalize_unit,
    parse_transforms,
    shape_factor,
    short,
    type_from_name,
    warn,
)
from simplezarr.utils.multiscale import AxisInfo, ChannelInfo, MultiscaleInfo, ScaleInfo

__all__ = [
    "MAX_LEVELS",
    "WORLD_LIMIT",
    "ReadContext",
    "check_geometry",
    "child_node",
    "dimension_names",
    "node_where",
    "read_multiscale",
    "scale_info",
]

#: At most this many levels per image (2**64 : 1 is beyond any pyramid).
MAX_LEVELS = 64
#: Every world coordinate and scale is within +-WORLD_LIMIT (scales >= 1 / WORLD_LIMIT).
WORLD_LIMIT = 1e100

_OLD_VERSIONS = ("0.1", "0.2", "0.3")  # versions without coordinateTransformations


@dataclass
class ReadContext:
    """State of one ``from_zarr_node`` call: warn once per unknown version."""

    warned: set[str] = field(default_factory=set)

    def check_version(self, version: str | None, where: str) -> None:
        """Warn (once per call) about an OME-NGFF version simplezarr does not know."""
        if version is None or version in KNOWN_VERSIONS or version in self.warned:
            return
        self.warned.add(version)
        warn(
            f"{FN}: OME-NGFF version {short(version, 40)} ({where}) is not known to "
            "simplezarr; reading what can be read"
        )


def node_where(node: Any) -> str:
    """The node's location for messages (``file:///.../img.zarr/A/1``)."""
    return str(node.store_path)


def child_node(group: Any, path: Any, field_name: str, where: str) -> Any:
    """``group[path]`` for a path from the metadata, with errors that name the field.

    The path must be a non-empty string without ``.``/``..`` segments
    (``""`` and ``"/"`` would be the group itself: a loop).
    """
    text = path.strip("/") if isinstance(path, str) else ""
    if not text or any(part in (".", "..") for part in text.split("/")):
        raise ValueError(
            f"{FN}: {where}: {field_name} must be a non-empty relative path without '.' or "
            f"'..' segments, got {short(path, 80)}"
        )
    try:
        return group[text]
    except (KeyError, FileNotFoundError, ValueError):
        raise ValueError(f"{FN}: {where}: {field_name} {text!r} does not exist") from None


def dimension_names(array: Any) -> Any:
    """The array's dimension names: zarr v3 ``dimension_names``, else ``_ARRAY_DIMENSIONS``."""
    names = getattr(array.metadata, "dimension_names", None)
    if names is not None:
        return list(names)
    try:
        return array.attrs.get("_ARRAY_DIMENSIONS")
    except Exception:  # attributes that do not parse: no names
        return None


def scale_info(
    array: Any,
    level: int,
    path: str,
    axes: tuple[AxisInfo, ...],
    scale: tuple[float, ...],
    offset: tuple[float, ...],
    axis_order: tuple[int, ...] | None = None,
) -> ScaleInfo:
    """The ScaleInfo of one level's array."""
    shards = getattr(array, "shards", None)
    return ScaleInfo(
        array=array,
        level=level,
        path=path,
        axes=axes,
        shape=tuple(int(s) for s in array.shape),
        chunk_shape=tuple(int(c) for c in array.chunks),
        dtype=np.dtype(array.dtype),
        scale=scale,
        offset=offset,
        shard_shape=None if shards is None else tuple(int(s) for s in shards),
        axis_order=axis_order,
    )


def check_geometry(info: MultiscaleInfo, where: str) -> None:
    """Raise ``ValueError`` unless every level's geometry is finite and bounded.

    Bounds (see the module docstring of :mod:`simplezarr.utils.multiscale`):
    scales in ``[1 / WORLD_LIMIT, WORLD_LIMIT]``, offsets and the far edge
    ``offset + shape * scale`` within ``+-WORLD_LIMIT``; no empty level.
    Also warns when a level has more pixels than the finer level before it.
    """
    for s in info.scales:
        name = f"level {s.level} ({s.path!r})"
        if any(n <= 0 for n in s.shape):
            raise ValueError(f"{FN}: {where}: {name} has an empty shape {s.shape}")
        for axis, n, k, o in zip(s.axes, s.shape, s.scale, s.offset, strict=True):
            far = o + n * k if math.isfinite(o) and math.isfinite(k) else math.inf
            if (
                not 1 / WORLD_LIMIT <= k <= WORLD_LIMIT
                or not abs(o) <= WORLD_LIMIT
                or not abs(far) <= WORLD_LIMIT
            ):
                raise ValueError(
                    f"{FN}: {where}: {name}, axis {axis.name!r}: scale {k:g} and translation "
                    f"{o:g} over {n} pixels put the image beyond the finite range (scales "
                    f"{1 / WORLD_LIMIT:g}..{WORLD_LIMIT:g}, coordinates within "
                    f"+-{WORLD_LIMIT:g})"
                )
    for fine, coarse in zip(info.scales, info.scales[1:], strict=False):
        grown = [
            f"{fine.axes[i].name!r} {fine.shape[i]} -> {coarse.shape[i]}"
            for i in fine.spatial_axes
            if coarse.shape[i] > fine.shape[i]
        ]
        if grown:
            warn(
                f"{FN}: {where}: level {coarse.level} ({coarse.path!r}) has larger pixels but "
                f"more of them than level {fine.level} ({fine.path!r}): {', '.join(grown)}; "
                "the scales or the datasets look wrong, read as given"
            )


def _parse_axes(
    raw: Any, shape: tuple[int, ...] | None, names: Any, where: str
) -> tuple[AxisInfo, ...]:
    if raw is None:
        if shape is None:
            raise ValueError(f"{FN}: {where}: a coordinate system has no 'axes'")
        named = axes_from_names(names, len(shape))  # 0.1/0.2: no axes
        return tuple(AxisInfo(n, t) for n, t in (named or guess_axes(shape)))
    if not isinstance(raw, list):
        raise ValueError(f"{FN}: {where}: 'axes' must be a list, got {short(raw)}")
    axes = []
    for i, a in enumerate(raw):
        if isinstance(a, str) and a:  # 0.3: a list of names
            axes.append(AxisInfo(a, type_from_name(a)))
            continue
        name = a.get("name") if isinstance(a, dict) else None
        if not isinstance(name, str) or not name:
            raise ValueError(f"{FN}: {where}: axis {i} has no name: {short(a)}")
        kind = a.get("type")
        if kind is not None and not isinstance(kind, str):
            raise ValueError(f"{FN}: {where}: axis {name!r}: 'type' must be a string: {short(a)}")
        kind = type_from_name(name) if kind is None else kind.lower()
        unit = a.get("unit")
        if unit is not None and not isinstance(unit, str):
            raise ValueError(f"{FN}: {where}: axis {name!r}: 'unit' must be a string: {short(a)}")
        unit = normalize_unit(unit) if kind == "space" else (unit or None)
        axes.append(AxisInfo(name, kind, unit))
    names_seen = [a.name for a in axes]
    if len(set(names_seen)) != len(names_seen):
        raise ValueError(f"{FN}: {where}: axis names must be unique, got {names_seen!r}")
    return tuple(axes)


def _get_array(group: Any, path: Any, field_name: str, where: str) -> Any:
    node = child_node(group, path, field_name, where)
    if not isinstance(node, zarr.Array):
        raise ValueError(f"{FN}: {where}: {field_name} {path!r} is a group, not an array")
    return node


def _ref_name(ref: Any) -> str | None:
    if isinstance(ref, str):
        return ref
    if isinstance(ref, dict) and isinstance(ref.get("name"), str) and "path" not in ref:
        return str(ref["name"])
    return None


def read_multiscale(
    group: Any,
    ms: Any,
    index: int,
    version: str | None,
    path: str,
    default_name: str,
    channels: tuple[ChannelInfo, ...] | None,
    is_labels: bool,
    ctx: ReadContext,
) -> MultiscaleInfo:
    """Read ``multiscales[index]`` of ``group`` (at ``path`` in the node being read)."""
    where = f"multiscales[{index}] at {node_where(group)}"
    if not isinstance(ms, dict):
        raise ValueError(f"{FN}: {where}: expected a dict, got {short(ms)}")
    v = ms.get("version", version)
    v = None if v is None else str(v)
    ctx.check_version(v, where)
    name = ms.get("name")
    if name is not None and not isinstance(name, str):
        warn(f"{FN}: {where}: 'name' must be a string, got {short(name, 60)}; using the path")
        name = None
    datasets = ms.get("datasets")
    if not isinstance(datasets, list) or not datasets:
        raise ValueError(f"{FN}: {where}: 'datasets' is missing or empty: {short(datasets)}")
    if len(datasets) > MAX_LEVELS:
        raise ValueError(
            f"{FN}: {where}: 'datasets' lists {len(datasets)} levels, more than {MAX_LEVELS}"
        )
    for i, ds in enumerate(datasets):
        if not isinstance(ds, dict):
            raise ValueError(f"{FN}: {where}: datasets[{i}] must be a dict, got {short(ds)}")
    paths = [ds.get("path") for ds in datasets]
    arrays = [_get_array(group, p, f"datasets[{i}].path", where) for i, p in enumerate(paths)]
    ds_ts = [ds.get("coordinateTransformations") for ds in datasets]
    shape0 = tuple(arrays[0].shape)

    if "coordinateSystems" in ms:
        maps, ds_axes, gmap, axes = _transforms_06(ms, arrays, paths, ds_ts, where)
    else:
        axes = ds_axes = _parse_axes(ms.get("axes"), shape0, dimension_names(arrays[0]), where)
        for a, p in zip(arrays, paths, strict=True):
            if a.ndim != len(axes):
                raise ValueError(
                    f"{FN}: {where}: {len(axes)} axes {[x.name for x in axes]!r} but dataset "
                    f"{p!r} has {a.ndim} dimensions (shape {tuple(a.shape)})"
                )
        maps = [
            parse_transforms(ts, a.ndim, f"{where}, dataset {p!r}")
            for ts, a, p in zip(ds_ts, arrays, paths, strict=True)
        ]
        gmap = parse_transforms(ms.get("coordinateTransformations"), len(axes), where)

    spatial = [i for i, ax in enumerate(ds_axes) if ax.type == "space"]
    maps = _fill_missing(maps, ds_ts, arrays, paths, spatial, v, where)

    # Finest first; levels without translation get scale/2 - scale_finest/2 (module docs).
    def mean_scale(m: AxisMap) -> float:
        return sum(m.scale[i] for i in spatial) / len(spatial) if spatial else 1.0

    order = sorted(range(len(maps)), key=lambda k: mean_scale(maps[k]))
    finest = maps[order[0]]
    scales = []
    for level, k in enumerate(order):
        m = maps[k]
        if not m.has_translation:
            default = tuple(
                m.scale[i] / 2 - finest.scale[i] / 2 if i in spatial else 0.0
                for i in range(m.ndim_out)
            )
            m = AxisMap(m.source, m.scale, default)
        full = m.then(gmap)
        ndim = arrays[k].ndim
        out_of = full.array_order(ndim, f"{where}, dataset {paths[k]!r}")
        scales.append(
            scale_info(
                arrays[k],
                level,
                _join(path, str(paths[k]).strip("/")),
                tuple(axes[out_of[j]] for j in range(ndim)),
                tuple(full.scale[out_of[j]] for j in range(ndim)),
                tuple(full.translation[out_of[j]] for j in range(ndim)),
                None if full.source == tuple(range(ndim)) else full.source,
            )
        )
    info = MultiscaleInfo(
        name=name or default_name,
        axes=scales[0].axes,
        scales=tuple(scales),
        channels=channels,
        version=v,
        path=path,
        is_labels=is_labels,
    )
    check_geometry(info, where)
    _check_channels(info, where)
    _check_units(info, where)
    return info


def _join(prefix: str, path: str) -> str:
    return f"{prefix}/{path}" if prefix else path


def _fill_missing(
    maps: list[AxisMap],
    ds_ts: list[Any],
    arrays: list[Any],
    paths: list[Any],
    spatial: list[int],
    version: str | None,
    where: str,
) -> list[AxisMap]:
    """Levels without transforms get the scale their shape implies (module docs)."""
    missing = [k for k, ts in enumerate(ds_ts) if ts is None]
    if not missing:
        return maps
    given = [k for k in range(len(maps)) if k not in missing]
    # the reference: the largest level that has transforms, else the largest level at scale 1
    ref = max(given or range(len(maps)), key=lambda k: math.prod(arrays[k].shape))
    ref_map = maps[ref] if given else AxisMap.identity(maps[ref].ndim_out)
    shape_ref = arrays[ref].shape
    out = list(maps)
    for k in missing:
        if k == ref:
            continue
        scale = tuple(
            ref_map.scale[i] * shape_factor(shape_ref[i], arrays[k].shape[i])
            if i in spatial
            else ref_map.scale[i]
            for i in range(ref_map.ndim_out)
        )
        out[k] = AxisMap(tuple(range(len(scale))), scale, (0.0,) * len(scale))
    if version is not None and version not in _OLD_VERSIONS and len(maps) > 1:
        listed = ", ".join(repr(paths[k]) for k in missing)
        warn(
            f"{FN}: {where}: datasets {listed} have no coordinateTransformations (required "
            f"since OME-NGFF 0.4); their scales are derived from the shape ratios to "
            f"{paths[ref]!r}"
        )
    return out


def _transforms_06(
    ms: dict[str, Any], arrays: list[Any], paths: list[Any], ds_ts: list[Any], where: str
) -> tuple[list[AxisMap], tuple[AxisInfo, ...], AxisMap, tuple[AxisInfo, ...]]:
    """RFC-5 (0.6): datasets map to a coordinate system, global transforms chain onwards."""
    raw = ms["coordinateSystems"]
    if not isinstance(raw, list) or not raw:
        raise ValueError(
            f"{FN}: {where}: 'coordinateSystems' must be a non-empty list: {short(raw)}"
        )
    systems: dict[str, dict[str, Any]] = {}
    for i, cs in enumerate(raw):
        if not isinstance(cs, dict) or not isinstance(cs.get("name"), str) or not cs["name"]:
            raise ValueError(
                f"{FN}: {where}: coordinateSystems[{i}] must be a dict with a 'name' string, "
                f"got {short(cs)}"
            )
        if not isinstance(cs.get("axes"), list):
            raise ValueError(
                f"{FN}: {where}: coordinateSystems[{i}] ({cs['name']!r}): 'axes' must be a "
                f"list, got {short(cs.get('axes'))}"
            )
        if cs["name"] in systems:
            raise ValueError(f"{FN}: {where}: coordinate system name {cs['name']!r} is used twice")
        systems[cs["name"]] = cs

    def system_axes(name: str) -> tuple[AxisInfo, ...]:
        cs_where = f"{where}, coordinate system {name!r}"
        return _parse_axes(systems[name]["axes"], None, None, cs_where)

    maps: list[AxisMap] = []
    outs: list[str] = []
    for ts, a, p in zip(ds_ts, arrays, paths, strict=True):
        m = parse_transforms(ts, a.ndim, f"{where}, dataset {p!r}")
        out: str | None = (
            _ref_name(ts[-1].get("output")) if ts and isinstance(ts[-1], dict) else None
        )
        if out is None:  # not said: the only system, or the first with the right axis count
            fits = [n for n, cs in systems.items() if len(cs["axes"]) == m.ndim_out]
            out = next(iter(systems)) if len(systems) == 1 else (fits[0] if fits else None)
        if out is None or out not in systems:
            raise ValueError(
                f"{FN}: {where}: dataset {p!r} maps to coordinate system {short(out, 60)}, "
                f"which is not in coordinateSystems {list(systems)!r}"
            )
        maps.append(m)
        outs.append(out)
    if len(set(outs)) != 1:
        raise ValueError(f"{FN}: {where}: datasets map to different coordinate systems {outs!r}")
    current = outs[0]
    ds_axes = system_axes(current)
    for m, p in zip(maps, paths, strict=True):
        if m.ndim_out != len(ds_axes):
            raise ValueError(
                f"{FN}: {where}: dataset {p!r} has {m.ndim_out} output axes but coordinate "
                f"system {current!r} has {len(ds_axes)}"
            )
    gts = ms.get("coordinateTransformations") or []
    if not isinstance(gts, list):
        raise ValueError(f"{FN}: {where}: coordinateTransformations must be a list: {short(gts)}")
    if not any(isinstance(t, dict) and "input" in t for t in gts):  # 0.4 style, in order
        return maps, ds_axes, parse_transforms(gts, len(ds_axes), where), ds_axes
    gmap, seen = AxisMap.identity(len(ds_axes)), {current}
    while True:  # follow the chain of named systems onwards from the datasets' system
        nxt = next(
            (t for t in gts if isinstance(t, dict) and _ref_name(t.get("input")) == current), None
        )
        out = None if nxt is None else _ref_name(nxt.get("output"))
        if nxt is None or out is None or out in seen or out not in systems:
            break
        gmap = gmap.then(parse_transforms([nxt], gmap.ndim_out, where))
        current = out
        seen.add(out)
    axes = system_axes(current)
    if len(axes) != gmap.ndim_out:
        raise ValueError(
            f"{FN}: {where}: coordinate system {current!r} has {len(axes)} axes but the "
            f"transforms give {gmap.ndim_out}"
        )
    return maps, ds_axes, gmap, axes


def _check_channels(info: MultiscaleInfo, where: str) -> None:
    c = info.scales[0].channel_axis
    if info.channels is None or c is None:
        return
    size = info.scales[0].shape[c]
    if len(info.channels) != size:
        warn(
            f"{FN}: {where}: omero lists {len(info.channels)} channel(s) but axis "
            f"{info.axes[c].name!r} has {size}; the channel metadata may not match the channels"
        )


def _check_units(info: MultiscaleInfo, where: str) -> None:
    units = {a.unit for a in info.axes if a.type == "space" and a.unit}
    if len(units) > 1:
        warn(
            f"{FN}: {where}: spatial axes have different units {sorted(units)!r}; "
            f"using {info.unit!r}"
        )
    if info.unit is not None and info.unit not in SPACE_UNITS:
        warn(f"{FN}: {where}: unknown spatial unit {info.unit!r}; unit_factor is 1.0")
