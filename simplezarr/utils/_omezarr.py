"""Reading zarr nodes into :class:`~simplezarr.utils.multiscale.MultiscaleInfo` (private).

The rules (layouts, axes guesses, the default translation, what is
malformed) are documented in :mod:`simplezarr.utils.multiscale`. This module
walks the node: which layout it is (``multiscales``, ``plate``, ``well``,
``bioformats2raw.layout``, plain arrays), where the images are, and the
image paths; one ``multiscales`` entry is read by :mod:`._ome_image`, the
``omero`` channels by :mod:`._omero`. Only metadata is read.

Bounds: a walk follows at most :data:`MAX_DEPTH` nested groups (a plate of
wells of fields is 2 deep; a path of ``""``, ``"/"`` or ``".."`` is refused,
so no listed path can lead back to its own group). As a last line of
defence, a ``TypeError``, ``KeyError``, ``IndexError``, ``AttributeError``,
``OverflowError`` or ``RecursionError`` raised while interpreting metadata
becomes a ``ValueError`` naming the node: the reader's contract is that
malformed metadata gives a ``ValueError`` or a warning, never those.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import zarr

from simplezarr.utils._ngff import FN, axes_from_names, guess_axes, shape_factor, short, warn
from simplezarr.utils._ome_image import (
    ReadContext,
    check_geometry,
    child_node,
    dimension_names,
    node_where,
    read_multiscale,
    scale_info,
)
from simplezarr.utils._omero import parse_channels
from simplezarr.utils.multiscale import AxisInfo, MultiscaleInfo

__all__ = ["MAX_DEPTH", "read_node"]

#: Groups followed below the node at most (bioformats2raw -> plate -> well -> field is 3).
MAX_DEPTH = 8

_COLLECTION_KEYS = ("multiscales", "bioformats2raw.layout", "plate", "well")
# Raised by Python itself on values of the wrong shape; never by a store.
_RAW_ERRORS = (TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError)


def read_node(node: Any) -> list[MultiscaleInfo]:
    """The multiscale images of a zarr group or array (see ``MultiscaleInfo.from_zarr_node``)."""
    if not isinstance(node, zarr.Array | zarr.Group):
        raise TypeError(
            f"{FN}: expected a zarr.Group or zarr.Array, got {type(node).__name__}; "
            "use simplezarr.open() to open paths, URLs, stores and numpy arrays"
        )
    try:
        if isinstance(node, zarr.Array):
            return [_plain_image([(node, "")], node.basename or "image", "")]
        infos = _read_group(node, "", node.basename or "image", 0, ReadContext())
    except _RAW_ERRORS as exc:
        raise ValueError(
            f"{FN}: {node_where(node)}: malformed metadata ({type(exc).__name__}: "
            f"{short(str(exc), 200)})"
        ) from exc
    if not infos:
        raise ValueError(
            f"{FN}: no multiscale image found in {node_where(node)}: no OME metadata "
            "(multiscales, bioformats2raw.layout, plate, well) and no arrays"
        )
    return infos


def _ome_meta(group: Any) -> tuple[dict[str, Any], str | None]:
    """The OME metadata dict of a group and its top-level version (0.5+), if any."""
    attrs = dict(group.attrs)
    ome = attrs.get("ome")
    if isinstance(ome, dict):
        meta = dict(ome)
        meta.setdefault("omero", attrs.get("omero"))
        version = ome.get("version")
        return meta, None if version is None else str(version)
    if ome is not None and not isinstance(ome, str):
        warn(
            f"{FN}: {node_where(group)}: attribute 'ome' must be a dict, got "
            f"{short(ome, 60)}; reading the other attributes"
        )
    # 0.4 and earlier: bare attributes; some drafts wrote "ome": "<version>"
    return attrs, ome if isinstance(ome, str) else None


def _read_group(
    group: Any, path: str, default_name: str, depth: int, ctx: ReadContext
) -> list[MultiscaleInfo]:
    where = node_where(group)
    if depth > MAX_DEPTH:
        raise ValueError(
            f"{FN}: {where}: images are nested more than {MAX_DEPTH} groups deep "
            "(a plate's fields are 2 deep)"
        )
    meta, version = _ome_meta(group)
    if "multiscales" in meta:
        ms_list = meta["multiscales"]
        if not isinstance(ms_list, list) or not ms_list:
            raise ValueError(
                f"{FN}: {where}: 'multiscales' must be a non-empty list, got {short(ms_list)}"
            )
        channels = parse_channels(meta.get("omero"), where)
        is_labels = "image-label" in meta
        return [
            read_multiscale(group, ms, i, version, path, default_name, channels, is_labels, ctx)
            for i, ms in enumerate(ms_list)
        ]
    for key, entries in (("plate", "wells"), ("well", "images")):
        if key in meta:
            paths = _listed_paths(meta[key], key, entries, where)
            return _read_children(group, paths, f"{key}.{entries}", path, depth, ctx)
    if "bioformats2raw.layout" in meta:  # after "plate": a bf2raw plate lists its wells
        series = _bf2raw_series(group)
        return _read_children(group, series, "OME series", path, depth, ctx)
    return _read_plain_group(group, path, default_name, depth, ctx)


def _listed_paths(value: Any, key: str, entries: str, where: str) -> list[str]:
    """The ``path`` of each entry of ``plate.wells`` / ``well.images``; bad entries are skipped."""
    if not isinstance(value, dict):
        raise ValueError(f"{FN}: {where}: '{key}' must be a dict, got {short(value)}")
    items = value.get(entries)
    if not isinstance(items, list):
        raise ValueError(
            f"{FN}: {where}: '{key}.{entries}' must be a list of dicts with a 'path', "
            f"got {short(items)}"
        )
    paths: list[str] = []
    for i, item in enumerate(items):
        p = item.get("path") if isinstance(item, dict) else None
        text = p.strip("/") if isinstance(p, str) else ""
        if not text or any(part in (".", "..") for part in text.split("/")) or text in paths:
            problem = "is listed twice" if text in paths else "is not a usable path"
            warn(
                f"{FN}: {where}: {key}.{entries}[{i}] {short(item, 80)}: its 'path' "
                f"{problem}; skipped"
            )
            continue
        paths.append(text)
    return paths


def _read_children(
    group: Any, paths: list[str], field: str, path: str, depth: int, ctx: ReadContext
) -> list[MultiscaleInfo]:
    infos: list[MultiscaleInfo] = []
    for p in paths:
        child = child_node(group, p, f"the {field} path", node_where(group))
        if not isinstance(child, zarr.Group):
            raise ValueError(
                f"{FN}: {node_where(group)}: the {field} path {p!r} is an array, expected a group"
            )
        child_path = _join(path, p)
        infos.extend(_read_group(child, child_path, child_path, depth + 1, ctx))
    return infos


def _join(prefix: str, path: str) -> str:
    return f"{prefix}/{path}" if prefix else path


def _bf2raw_series(group: Any) -> list[str]:
    """Series paths of a bioformats2raw layout: ``OME/`` ``series``, else 0, 1, 2, ..."""
    try:
        ome = group["OME"]
    except (KeyError, FileNotFoundError):
        ome = None
    if isinstance(ome, zarr.Group):
        series = _ome_meta(ome)[0].get("series")
        if isinstance(series, list):
            good = [s for s in series if isinstance(s, str) and s.strip("/")]
            if len(good) != len(series):
                warn(
                    f"{FN}: {node_where(ome)}: 'series' entries must be non-empty strings, "
                    f"got {short(series, 80)}; the others are skipped"
                )
            return good
        if series is not None:
            warn(
                f"{FN}: {node_where(ome)}: 'series' must be a list, got {short(series, 60)}; "
                "looking for groups 0, 1, 2, ..."
            )
    paths: list[str] = []
    while len(paths) < 10_000:  # bound: a series per group, listed one by one
        try:
            child = group[str(len(paths))]
        except (KeyError, FileNotFoundError):
            break
        if not isinstance(child, zarr.Group):
            break
        paths.append(str(len(paths)))
    return paths


def _read_plain_group(
    group: Any, path: str, default_name: str, depth: int, ctx: ReadContext
) -> list[MultiscaleInfo]:
    try:
        arrays = sorted(group.arrays(), key=lambda kv: kv[0])
        groups = sorted(group.groups(), key=lambda kv: kv[0]) if not arrays else []
    except (NotImplementedError, OSError):  # stores that cannot list (plain HTTP)
        arrays, groups = [], []
    if arrays:
        levels = _as_pyramid(arrays)
        if levels is not None:
            return [_plain_image([(a, _join(path, n)) for n, a in levels], default_name, path)]
        return [_plain_image([(a, _join(path, n))], _join(path, n), _join(path, n))
                for n, a in arrays]  # fmt: skip
    infos: list[MultiscaleInfo] = []
    if depth == 0:  # look one level down for OME images
        for name, child in groups:
            meta, _ = _ome_meta(child)
            if any(k in meta for k in _COLLECTION_KEYS):
                child_path = _join(path, name)
                infos.extend(_read_group(child, child_path, child_path, depth + 1, ctx))
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


def _plain_image(levels: list[tuple[Any, str]], name: str, path: str) -> MultiscaleInfo:
    """A (multi)scale image without metadata: named or guessed axes, scales from shape ratios."""
    first = levels[0][0]
    shape0 = tuple(first.shape)
    named = axes_from_names(dimension_names(first), len(shape0))
    axes = tuple(AxisInfo(n, t) for n, t in (named or guess_axes(shape0)))
    scales = []
    for level, (array, array_path) in enumerate(levels):
        scale = tuple(
            shape_factor(shape0[i], array.shape[i]) if ax.type == "space" else 1.0
            for i, ax in enumerate(axes)
        )
        offset = tuple(
            s / 2 - 0.5 if ax.type == "space" else 0.0 for s, ax in zip(scale, axes, strict=True)
        )
        scales.append(scale_info(array, level, array_path, axes, scale, offset))
    info = MultiscaleInfo(name=name, axes=axes, scales=tuple(scales), path=path)
    check_geometry(info, f"{node_where(first)}")
    return info
