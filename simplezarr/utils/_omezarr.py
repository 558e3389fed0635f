"""Reading zarr nodes into :class:`~simplezarr.utils.multiscale.MultiscaleInfo` (private).

The rules (layouts, axes guesses, the default translation) are documented in
:mod:`simplezarr.utils.multiscale`; the transform algebra in :mod:`._ngff`.
This module walks the node: which layout it is, where the images are, and
builds the dataclasses. Only metadata is read.
"""

from __future__ import annotations

import itertools
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import zarr

from simplezarr.utils._ngff import (
    FN,
    KNOWN_VERSIONS,
    SPACE_UNITS,
    AxisMap,
    guess_axes,
    normalize_unit,
    parse_transforms,
    type_from_name,
)
from simplezarr.utils.multiscale import AxisInfo, ChannelInfo, MultiscaleInfo, ScaleInfo

__all__ = ["read_node"]

_COLLECTION_KEYS = ("multiscales", "bioformats2raw.layout", "plate", "well")


@dataclass
class _Context:
    """State of one ``from_zarr_node`` call: warn once per unknown version."""

    warned: set[str] = field(default_factory=set)

    def check_version(self, version: str | None, where: str) -> None:
        if version is None or version in KNOWN_VERSIONS or version in self.warned:
            return
        self.warned.add(version)
        warnings.warn(
            f"{FN}: OME-NGFF version {version!r} ({where}) is not known to simplezarr; "
            "reading what can be read",
            stacklevel=6,  # the caller of from_zarr_node()
        )


def read_node(node: Any) -> list[MultiscaleInfo]:
    """The multiscale images of a zarr group or array (see ``MultiscaleInfo.from_zarr_node``)."""
    ctx = _Context()
    if isinstance(node, zarr.Array):
        return [_plain_image([(node, "")], node.basename or "image")]
    if isinstance(node, zarr.Group):
        infos = _read_group(node, "", node.basename or "image", 0, ctx)
        if not infos:
            raise ValueError(
                f"{FN}: no multiscale image found in {_where(node)}: no OME metadata "
                "(multiscales, bioformats2raw.layout, plate, well) and no arrays"
            )
        return infos
    raise TypeError(
        f"{FN}: expected a zarr.Group or zarr.Array, got {type(node).__name__}; "
        "use simplezarr.open() to open paths, URLs, stores and numpy arrays"
    )


def _where(node: Any) -> str:
    return str(node.store_path)


def _ome_meta(group: Any) -> tuple[dict[str, Any], str | None]:
    """The OME metadata dict of a group and its top-level version (0.5+), if any."""
    attrs = dict(group.attrs)
    ome = attrs.get("ome")
    if isinstance(ome, dict):
        meta = dict(ome)
        meta.setdefault("omero", attrs.get("omero"))
        version = ome.get("version")
        return meta, None if version is None else str(version)
    # 0.4 and earlier: bare attributes; some drafts wrote "ome": "<version>"
    return attrs, ome if isinstance(ome, str) else None


def _read_group(
    group: Any, prefix: str, default_name: str, depth: int, ctx: _Context
) -> list[MultiscaleInfo]:
    meta, version = _ome_meta(group)
    if "multiscales" in meta:
        ms_list = meta["multiscales"]
        if not isinstance(ms_list, list) or not ms_list:
            raise ValueError(
                f"{FN}: {_where(group)}: 'multiscales' must be a non-empty list, got {ms_list!r}"
            )
        channels = _parse_channels(meta.get("omero"))
        infos = []
        for i, ms in enumerate(ms_list):  # a loop, not a comprehension: fixed warning stacklevel
            infos.append(
                _read_multiscale(group, ms, i, version, prefix, default_name, channels, ctx)
            )
        return infos
    if isinstance(meta.get("plate"), dict):
        wells = meta["plate"].get("wells")
        paths = [w["path"] for w in wells or [] if isinstance(w, dict) and "path" in w]
        return _read_children(group, paths, prefix, depth, ctx)
    if isinstance(meta.get("well"), dict):
        images = meta["well"].get("images")
        paths = [m["path"] for m in images or [] if isinstance(m, dict) and "path" in m]
        return _read_children(group, paths, prefix, depth, ctx)
    if "bioformats2raw.layout" in meta:  # after "plate": a bf2raw plate lists its wells
        return _read_children(group, _bf2raw_series(group), prefix, depth, ctx)
    return _read_plain_group(group, prefix, default_name, depth, ctx)


def _read_children(
    group: Any, paths: list[Any], prefix: str, depth: int, ctx: _Context
) -> list[MultiscaleInfo]:
    infos: list[MultiscaleInfo] = []
    for path in paths:
        path = str(path).strip("/")
        try:
            child = group[path]
        except (KeyError, FileNotFoundError):
            raise ValueError(
                f"{FN}: {_where(group)}: the listed image path {path!r} does not exist"
            ) from None
        if not isinstance(child, zarr.Group):
            raise ValueError(f"{FN}: {_where(group)}: {path!r} is an array, expected a group")
        infos.extend(_read_group(child, f"{prefix}{path}/", prefix + path, depth + 1, ctx))
    return infos


def _bf2raw_series(group: Any) -> list[str]:
    """Series paths of a bioformats2raw layout: ``OME/`` ``series``, else 0, 1, 2, ..."""
    try:
        ome = group["OME"]
    except (KeyError, FileNotFoundError):
        ome = None
    if isinstance(ome, zarr.Group):
        series = _ome_meta(ome)[0].get("series")
        if isinstance(series, list):
            return [str(s) for s in series]
    paths: list[str] = []
    while True:
        try:
            child = group[str(len(paths))]
        except (KeyError, FileNotFoundError):
            break
        if not isinstance(child, zarr.Group):
            break
        paths.append(str(len(paths)))
    return paths


def _read_plain_group(
    group: Any, prefix: str, default_name: str, depth: int, ctx: _Context
) -> list[MultiscaleInfo]:
    try:
        arrays = sorted(group.arrays(), key=lambda kv: kv[0])
        groups = sorted(group.groups(), key=lambda kv: kv[0]) if not arrays else []
    except (NotImplementedError, OSError):  # stores that cannot list (plain HTTP)
        arrays, groups = [], []
    if arrays:
        levels = _as_pyramid(arrays)
        if levels is not None:
            return [_plain_image([(a, prefix + n) for n, a in levels], default_name)]
        return [_plain_image([(a, prefix + n)], prefix + n) for n, a in arrays]
    infos: list[MultiscaleInfo] = []
    if depth == 0:  # look one level down for OME images
        for name, child in groups:
            meta, _ = _ome_meta(child)
            if any(k in meta for k in _COLLECTION_KEYS):
                infos.extend(_read_group(child, f"{prefix}{name}/", prefix + name, depth + 1, ctx))
    return infos


def _as_pyramid(arrays: list[tuple[str, Any]]) -> list[tuple[str, Any]] | None:
    """The arrays in level order if they look like a pyramid (see the module docs), else None."""
    if len(arrays) < 2:
        return None
    keyed = []
    for name, a in arrays:
        m = re.fullmatch(r"(\D*)(\d+)", name)
        if m is None:
            return None
        keyed.append((m.group(1), int(m.group(2)), name, a))
    if len({k[0] for k in keyed}) != 1 or len({k[1] for k in keyed}) != len(keyed):
        return None
    keyed.sort(key=lambda k: k[1])
    shapes = [tuple(k[3].shape) for k in keyed]
    if len({len(s) for s in shapes}) != 1:
        return None
    for fine, coarse in itertools.pairwise(shapes):
        if any(c > f for f, c in zip(fine, coarse, strict=True)) or coarse == fine:
            return None
    return [(k[2], k[3]) for k in keyed]


def _plain_image(levels: list[tuple[Any, str]], name: str) -> MultiscaleInfo:
    """A (multi)scale image without metadata: guessed axes, scales from the shape ratios."""
    shape0 = tuple(levels[0][0].shape)
    axes = tuple(AxisInfo(n, t) for n, t in guess_axes(shape0))
    scales = []
    for level, (array, path) in enumerate(levels):
        scale = []
        for i, ax in enumerate(axes):
            f = shape0[i] / max(1, array.shape[i]) if ax.type == "space" else 1.0
            r = round(f)
            if r >= 1 and -(-shape0[i] // r) == array.shape[i]:
                f = float(r)  # an integer factor (with ceil rounding) explains the shape
            scale.append(f)
        offset = tuple(
            s / 2 - 0.5 if ax.type == "space" else 0.0 for s, ax in zip(scale, axes, strict=True)
        )
        scales.append(_scale_info(array, level, path, axes, tuple(scale), offset))
    return MultiscaleInfo(name=name, axes=axes, scales=tuple(scales))


def _scale_info(
    array: Any,
    level: int,
    path: str,
    axes: tuple[AxisInfo, ...],
    scale: tuple[float, ...],
    offset: tuple[float, ...],
) -> ScaleInfo:
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
    )


def _parse_axes(raw: Any, shape: tuple[int, ...] | None, where: str) -> tuple[AxisInfo, ...]:
    if raw is None:
        if shape is None:
            raise ValueError(f"{FN}: {where}: a coordinate system has no 'axes'")
        return tuple(AxisInfo(n, t) for n, t in guess_axes(shape))  # 0.1/0.2: no axes
    if not isinstance(raw, list):
        raise ValueError(f"{FN}: {where}: 'axes' must be a list, got {raw!r}")
    axes = []
    for i, a in enumerate(raw):
        if isinstance(a, str):  # 0.3: a list of names
            axes.append(AxisInfo(a, type_from_name(a)))
            continue
        name = a.get("name") if isinstance(a, dict) else None
        if not isinstance(name, str) or not name:
            raise ValueError(f"{FN}: {where}: axis {i} has no name: {a!r}")
        kind = a.get("type")
        kind = type_from_name(name) if kind is None else str(kind).lower()
        unit = a.get("unit")
        unit = normalize_unit(unit) if kind == "space" else (None if unit is None else str(unit))
        axes.append(AxisInfo(name, kind, unit))
    return tuple(axes)


def _get_array(group: Any, path: Any, where: str) -> Any:
    if not isinstance(path, str) or not path.strip("/"):
        raise ValueError(f"{FN}: {where}: dataset path must be a non-empty string, got {path!r}")
    try:
        node = group[path.strip("/")]
    except (KeyError, FileNotFoundError):
        raise ValueError(f"{FN}: {where}: dataset path {path!r} does not exist") from None
    if not isinstance(node, zarr.Array):
        raise ValueError(f"{FN}: {where}: dataset path {path!r} is a group, not an array")
    return node


def _ref_name(ref: Any) -> str | None:
    if isinstance(ref, str):
        return ref
    if isinstance(ref, dict) and isinstance(ref.get("name"), str) and "path" not in ref:
        return str(ref["name"])
    return None


def _read_multiscale(
    group: Any,
    ms: Any,
    index: int,
    version: str | None,
    prefix: str,
    default_name: str,
    channels: tuple[ChannelInfo, ...] | None,
    ctx: _Context,
) -> MultiscaleInfo:
    where = f"multiscales[{index}] at {_where(group)}"
    if not isinstance(ms, dict):
        raise ValueError(f"{FN}: {where}: expected a dict, got {ms!r}")
    v = ms.get("version", version)
    v = None if v is None else str(v)
    ctx.check_version(v, where)
    name = str(ms.get("name") or default_name)
    datasets = ms.get("datasets")
    if not isinstance(datasets, list) or not datasets:
        raise ValueError(f"{FN}: {where}: 'datasets' is missing or empty: {datasets!r}")
    paths = [ds.get("path") if isinstance(ds, dict) else None for ds in datasets]
    arrays = [_get_array(group, p, where) for p in paths]
    ds_ts = [ds.get("coordinateTransformations") for ds in datasets]
    shape0 = tuple(arrays[0].shape)

    if "coordinateSystems" in ms:
        maps, ds_axes, gmap, axes = _transforms_06(ms, arrays, paths, ds_ts, where)
    else:
        axes = ds_axes = _parse_axes(ms.get("axes"), shape0, where)
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

    # Finest first; levels without translation get scale/2 - scale_finest/2 (module docs).
    spatial = [i for i, ax in enumerate(ds_axes) if ax.type == "space"]

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
            _scale_info(
                arrays[k],
                level,
                prefix + str(paths[k]).strip("/"),
                tuple(axes[out_of[j]] for j in range(ndim)),
                tuple(full.scale[out_of[j]] for j in range(ndim)),
                tuple(full.translation[out_of[j]] for j in range(ndim)),
            )
        )
    info = MultiscaleInfo(
        name=name, axes=scales[0].axes, scales=tuple(scales), channels=channels, version=v
    )
    _check_units(info, where)
    return info


def _transforms_06(
    ms: dict[str, Any], arrays: list[Any], paths: list[Any], ds_ts: list[Any], where: str
) -> tuple[list[AxisMap], tuple[AxisInfo, ...], AxisMap, tuple[AxisInfo, ...]]:
    """RFC-5 (0.6): datasets map to a coordinate system, global transforms chain onwards."""
    raw = ms["coordinateSystems"]
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{FN}: {where}: 'coordinateSystems' must be a non-empty list: {raw!r}")
    systems = {cs["name"]: cs for cs in raw if isinstance(cs, dict) and "name" in cs}

    def system_axes(name: str) -> tuple[AxisInfo, ...]:
        return _parse_axes(systems[name].get("axes"), None, f"{where}, coordinate system {name!r}")

    maps: list[AxisMap] = []
    outs: list[str] = []
    for ts, a, p in zip(ds_ts, arrays, paths, strict=True):
        m = parse_transforms(ts, a.ndim, f"{where}, dataset {p!r}")
        out: str | None = (
            _ref_name(ts[-1].get("output")) if ts and isinstance(ts[-1], dict) else None
        )
        if out is None:  # not said: the only system, or the first with the right axis count
            fits = [n for n, cs in systems.items() if len(cs.get("axes") or []) == m.ndim_out]
            out = next(iter(systems)) if len(systems) == 1 else (fits[0] if fits else None)
        if out is None or out not in systems:
            raise ValueError(
                f"{FN}: {where}: dataset {p!r} maps to coordinate system {out!r}, "
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
        raise ValueError(f"{FN}: {where}: coordinateTransformations must be a list: {gts!r}")
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


def _check_units(info: MultiscaleInfo, where: str) -> None:
    units = {a.unit for a in info.axes if a.type == "space" and a.unit}
    if len(units) > 1:
        warnings.warn(
            f"{FN}: {where}: spatial axes have different units {sorted(units)!r}; "
            f"using {info.unit!r}",
            stacklevel=6,  # the caller of from_zarr_node()
        )
    if info.unit is not None and info.unit not in SPACE_UNITS:
        warnings.warn(
            f"{FN}: {where}: unknown spatial unit {info.unit!r}; unit_factor is 1.0",
            stacklevel=6,  # the caller of from_zarr_node()
        )


def _color(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{(value >> 8 if value > 0xFFFFFF else value) & 0xFFFFFF:06x}"
    if not isinstance(value, str):
        return None
    text = value.strip().lstrip("#").lower()
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    if len(text) in (6, 8) and all(c in "0123456789abcdef" for c in text):
        return text[:6]
    return None


def _opt_float(value: Any) -> float | None:
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def _parse_channels(omero: Any) -> tuple[ChannelInfo, ...] | None:
    chans = omero.get("channels") if isinstance(omero, dict) else None
    if not isinstance(chans, list):
        return None
    out = []
    for i, ch in enumerate(chans):
        ch = ch if isinstance(ch, dict) else {}
        label = ch.get("label")
        window: dict[str, Any] = ch["window"] if isinstance(ch.get("window"), dict) else {}
        out.append(
            ChannelInfo(
                label=str(i) if label is None or label == "" else str(label),
                color=_color(ch.get("color")),
                window_start=_opt_float(window.get("start")),
                window_end=_opt_float(window.get("end")),
                window_min=_opt_float(window.get("min")),
                window_max=_opt_float(window.get("max")),
                active=bool(ch.get("active", True)),
            )
        )
    return tuple(out)
