"""Test helpers: the OME-NGFF example corpus and building zarr stores that match it.

The examples are the spec's metadata documents (see their README). Tests look
for them in ``tests/data/ngff-examples`` first, then in the shared copy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import zarr

_HERE = Path(__file__).resolve()
_CANDIDATES = [
    _HERE.parents[1] / "data" / "ngff-examples",
    _HERE.parents[3] / "shared" / "ngff-examples",
    Path("/work/shared/ngff-examples"),
]
#: Folder of the OME-NGFF example documents (0.4/, 0.5/, 0.6rc0/).
EXAMPLES = next((p for p in _CANDIDATES if p.is_dir()), _CANDIDATES[0])

#: Array sizes for non-spatial axes; spatial axes get ``base >> level``.
AXIS_SIZES = {"time": 3, "channel": 2}


def load_json_with_comments(path: Path) -> Any:
    """json.loads after removing ``//`` line comments outside strings."""
    text, out, i, in_str, escaped = path.read_text(), [], 0, False, False
    while i < len(text):
        ch = text[i]
        if in_str:
            escaped, in_str = (False, in_str) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            in_str = True
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        out.append(ch)
        i += 1
    return json.loads("".join(out))


def example_attrs(doc: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The group attributes of an example document and its zarr format.

    0.5+ documents are whole ``zarr.json`` files (attributes under
    ``attributes``); 0.4 documents are bare ``.zattrs`` (zarr v2). Bare 0.6
    documents are written as zarr v3 attributes.
    """
    if "zarr_format" in doc:
        return dict(doc.get("attributes", {})), int(doc["zarr_format"])
    version = _version(doc)
    return dict(doc), 2 if version is not None and version.startswith("0.4") else 3


def _version(attrs: dict[str, Any]) -> str | None:
    ome = attrs.get("ome")
    if isinstance(ome, dict):
        return str(ome.get("version"))
    for key in ("multiscales", "plate", "well"):
        value = attrs.get(key)
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return value[0].get("version") or (ome if isinstance(ome, str) else None)
        if isinstance(value, dict):
            return value.get("version")
    return ome if isinstance(ome, str) else None


def multiscales_of(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``multiscales`` list of group attributes (any version), or []."""
    ome = attrs.get("ome")
    meta = ome if isinstance(ome, dict) else attrs
    return list(meta.get("multiscales", []))


def dataset_axes(ms: dict[str, Any]) -> list[dict[str, Any]]:
    """The axes of a multiscale's arrays (0.6: those of the datasets' coordinate system)."""
    if "axes" in ms:
        return list(ms["axes"])
    systems = {cs["name"]: cs for cs in ms["coordinateSystems"]}
    out = ms["datasets"][0]["coordinateTransformations"][-1].get("output", {}).get("name")
    return list(systems.get(out, ms["coordinateSystems"][0])["axes"])


def level_shape(axes: list[dict[str, Any]], level: int, base: int = 16) -> tuple[int, ...]:
    """A small array shape for ``level`` of an image with these axes."""
    return tuple(AXIS_SIZES.get(str(a.get("type")), max(1, base >> level)) for a in axes)


def write_image_group(
    group: zarr.Group, attrs: dict[str, Any], dtype: str = "uint16", base: int = 16
) -> None:
    """Put ``attrs`` on ``group`` and create the arrays of every multiscale in it."""
    group.attrs.update(attrs)
    for ms in multiscales_of(attrs):
        axes = dataset_axes(ms)
        for level, ds in enumerate(ms["datasets"]):
            shape = level_shape(axes, level, base)
            group.create_array(ds["path"], shape=shape, chunks=shape, dtype=dtype, fill_value=0)


def example_group(
    path: Path, doc: dict[str, Any], zarr_format: int | None = None
) -> tuple[zarr.Group, dict[str, Any]]:
    """A zarr group on disk at ``path`` holding the example ``doc`` with matching arrays."""
    attrs, fmt = example_attrs(doc)
    group = zarr.open_group(path, mode="w", zarr_format=zarr_format or fmt)  # type: ignore[arg-type]
    write_image_group(group, attrs)
    return group, attrs
