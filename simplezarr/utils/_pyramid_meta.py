"""OME-Zarr metadata for `write_multiscale`: axes, per-axis options, multiscales, omero.

Pure functions from the writer's arguments to JSON-ready dicts (and back, for
`write_labels`, which copies an existing image's geometry). Translations
follow the pixel-centre convention described in `simplezarr.utils._pyramid`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import zarr

__all__ = [
    "channels_metadata",
    "multiscales_metadata",
    "normalize_axes",
    "per_axis",
    "read_image_metadata",
]

# ---------------------------------------------------------------------------

_AXIS_TYPES = {"t": "time", "time": "time", "c": "channel", "channel": "channel"}
_AXIS_TYPES.update({k: "space" for k in ("x", "y", "z")})
_COLORS = ("FFFFFF", "00FF00", "FF00FF", "00FFFF", "FFFF00", "FF0000", "0000FF")


@dataclass(frozen=True)
class _Axis:
    name: str
    type: str | None
    unit: str | None


@dataclass(frozen=True)
class _ImageMeta:
    """What `write_labels` copies from an existing image."""

    axes: list[_Axis]
    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    scale: list[float]
    translation: list[float]
    downscale: list[int]
    levels: int


def normalize_axes(axes: Any, ndim: int, units: Any, fn: str) -> list[_Axis]:
    """Axis names, types and units from the user's loose forms."""
    if axes is None:
        if not 2 <= ndim <= 5:
            raise ValueError(f"{fn}: cannot guess axes for {ndim}-d data; pass axes=")
        axes = "tczyx"[5 - ndim :]
    out = []
    for a in axes:
        if isinstance(a, Mapping):
            out.append(_Axis(str(a["name"]), a.get("type"), a.get("unit")))
        else:
            out.append(_Axis(str(a), _AXIS_TYPES.get(str(a).lower()), None))
    if len(out) != ndim:
        raise ValueError(f"{fn}: axes {axes!r} has {len(out)} names for {ndim}-d data")
    if len({a.name for a in out}) != len(out):
        raise ValueError(f"{fn}: axes {axes!r} repeats a name")
    if not 2 <= sum(a.type == "space" for a in out) <= 3:
        raise ValueError(f"{fn}: axes {axes!r} must have 2 or 3 space axes")
    if units is not None:
        names = [a.name for a in out]
        space = [i for i, a in enumerate(out) if a.type == "space"]
        u = per_axis(units, names, None, fn, "units", space)
        out = [
            _Axis(a.name, a.type, u[i] if u[i] is not None else a.unit) for i, a in enumerate(out)
        ]
    return out


def per_axis(
    value: Any,
    names: list[str],
    default: Any,
    fn: str,
    what: str,
    only: Sequence[int] | None = None,
) -> list[Any]:
    """A per-axis list from None, a scalar (on ``only`` axes, else all), a sequence or mapping."""
    if value is None:
        return [default] * len(names)
    if isinstance(value, Mapping):
        unknown = set(value) - set(names)
        if unknown:
            raise ValueError(f"{fn}: {what}={value!r} names unknown axes {sorted(unknown)!r}")
        return [value.get(n, default) for n in names]
    if isinstance(value, str | int | float | np.integer | np.floating):
        return [value if only is None or i in only else default for i in range(len(names))]
    seq = list(value)
    if len(seq) != len(names):
        raise ValueError(f"{fn}: {what}={value!r} needs {len(names)} values (axes {names!r})")
    return seq


def multiscales_metadata(
    axes: list[_Axis],
    factors: list[tuple[int, ...]],
    scale0: list[float],
    offset0: list[float],
    name: str | None,
    method: str,
    version: str,
) -> list[dict[str, Any]]:
    """The ``multiscales`` list, pixel-centre translations included."""
    datasets = []
    for lvl, f in enumerate(factors):
        s = [float(s0 * k) for s0, k in zip(scale0, f, strict=True)]
        t = [float(t0 + (k - 1) / 2 * s0) for t0, k, s0 in zip(offset0, f, scale0, strict=True)]
        datasets.append(
            {
                "path": str(lvl),
                "coordinateTransformations": [
                    {"type": "scale", "scale": s},
                    {"type": "translation", "translation": t},
                ],
            }
        )
    axes_json = []
    for a in axes:
        entry: dict[str, Any] = {"name": a.name}
        if a.type is not None:
            entry["type"] = a.type
        if a.unit is not None:
            entry["unit"] = a.unit
        axes_json.append(entry)
    ms: dict[str, Any] = {"axes": axes_json, "datasets": datasets, "type": method}
    if name is not None:
        ms["name"] = name
    ms["metadata"] = {"method": "simplezarr.utils.write_multiscale", "downsampling": method}
    if version == "0.4":
        ms["version"] = "0.4"
    return [ms]


def channels_metadata(
    channels: Sequence[str | Mapping[str, Any]],
    coarsest: zarr.Array,
    caxis: int | None,
    version: str,
    fn: str,
) -> dict[str, Any]:
    """``omero`` metadata; missing windows come from the coarsest level's percentiles.

    Along axes other than channel, y and x, at most 8 evenly spaced planes are read.
    """
    nch = 1 if caxis is None else coarsest.shape[caxis]
    if len(channels) != nch:
        raise ValueError(f"{fn}: {len(channels)} channels given for {nch} in the data")
    values = np.asarray(coarsest.get_orthogonal_selection(_sample(coarsest.shape, caxis)))
    dtype = values.dtype
    out = []
    for i, ch in enumerate(channels):
        entry: dict[str, Any] = {"label": ch} if isinstance(ch, str) else dict(ch)
        entry.setdefault("label", f"channel {i}")
        entry.setdefault("color", _COLORS[i % len(_COLORS)] if nch > 1 else "FFFFFF")
        entry.setdefault("active", True)
        entry.setdefault("coefficient", 1.0)
        entry.setdefault("family", "linear")
        entry.setdefault("inverted", False)
        plane = values if caxis is None else np.take(values, i, axis=caxis)
        window = dict(entry.get("window", {}))
        if np.issubdtype(dtype, np.integer):
            lo, hi = float(np.iinfo(dtype).min), float(np.iinfo(dtype).max)
        else:
            lo, hi = float(np.nanmin(plane)), float(np.nanmax(plane))
        p0, p1 = (float(v) for v in np.nanpercentile(plane, [0.1, 99.9]))
        window.setdefault("min", lo)
        window.setdefault("max", hi)
        window.setdefault("start", p0)
        window.setdefault("end", p1 if p1 > p0 else p0 + 1)
        entry["window"] = window
        out.append(entry)
    omero: dict[str, Any] = {
        "channels": out,
        "rdefs": {"model": "color" if nch > 1 else "greyscale"},
    }
    if version == "0.4":
        omero["version"] = "0.4"
    return omero


def _sample(shape: tuple[int, ...], caxis: int | None) -> tuple[Any, ...]:
    """All of the last two axes and every channel; at most 8 planes along any other axis."""
    sel: list[Any] = []
    for i, n in enumerate(shape):
        if i >= len(shape) - 2 or i == caxis or n <= 8:
            sel.append(slice(None))
        else:
            sel.append(np.unique(np.linspace(0, n - 1, 8).round().astype(int)))
    return tuple(sel)


def read_image_metadata(group: zarr.Group, fn: str) -> _ImageMeta:
    """The first multiscale of an OME-Zarr image group (0.4 or 0.5)."""
    attrs: dict[str, Any] = dict(group.attrs)
    ms_list = attrs.get("ome", attrs).get("multiscales")
    if not ms_list:
        raise ValueError(f"{fn}: {group!r} has no OME 'multiscales' metadata")
    ms = ms_list[0]
    axes = [_Axis(a["name"], a.get("type"), a.get("unit")) for a in ms["axes"]]
    datasets = ms["datasets"]

    def transform(ds: Mapping[str, Any], kind: str, default: float) -> list[float]:
        for t in ds.get("coordinateTransformations", []):
            if t.get("type") == kind:
                return [float(v) for v in t[kind]]
        return [default] * len(axes)

    s0 = transform(datasets[0], "scale", 1.0)
    s1 = transform(datasets[1], "scale", 1.0) if len(datasets) > 1 else s0
    level0 = group[datasets[0]["path"]]
    assert isinstance(level0, zarr.Array)
    return _ImageMeta(
        axes=axes,
        shape=tuple(level0.shape),
        chunks=tuple(level0.chunks),
        scale=s0,
        translation=transform(datasets[0], "translation", 0.0),
        downscale=[max(1, round(b / a)) for a, b in zip(s0, s1, strict=True)],
        levels=len(datasets),
    )
