"""``simplezarr info SOURCE``: a text report of the multiscale images in a source.

:func:`format_info` builds the report (one block per image: name, path
inside the source (what ``Viewer(source, image=...)`` selects), version,
whether it is a label image, axes with units, a table of levels, the
channels); :func:`main_info` is the
command-line entry that ``python -m simplezarr info`` calls. Only metadata
is read, never a chunk.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import zarr

from simplezarr._open import open as open_source
from simplezarr.utils.multiscale import ChannelInfo, MultiscaleInfo, ScaleInfo

__all__ = ["format_info", "main_info"]


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _shape(values: Sequence[int] | None) -> str:
    return "-" if values is None else " x ".join(str(v) for v in values)


def _floats(values: Sequence[float]) -> str:
    return "(" + ", ".join(_num(v) for v in values) + ")"


def _table(header: list[str], rows: list[list[str]], indent: str = "  ") -> list[str]:
    """Left-aligned columns separated by two spaces."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        (indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))).rstrip()
        for r in [header, *rows]
    ]


def _level_rows(scales: Sequence[ScaleInfo]) -> tuple[list[str], list[list[str]]]:
    sharded = any(s.shard_shape is not None for s in scales)
    header = ["level", "path", "shape", "chunks"]
    header += ["shards"] if sharded else []
    header += ["dtype", "scale", "offset"]
    rows = []
    for s in scales:
        row = [str(s.level), s.path or ".", _shape(s.shape), _shape(s.chunk_shape)]
        row += [_shape(s.shard_shape)] if sharded else []
        row += [str(s.dtype), _floats(s.scale), _floats(s.offset)]
        rows.append(row)
    return header, rows


def _channel_rows(channels: Sequence[ChannelInfo]) -> tuple[list[str], list[list[str]]]:
    header = ["#", "label", "color", "window", "range", "active"]
    rows = [
        [
            str(i),
            c.label,
            "-" if c.color is None else "#" + c.color,
            f"{_num(c.window_start)} .. {_num(c.window_end)}",
            f"{_num(c.window_min)} .. {_num(c.window_max)}",
            "yes" if c.active else "no",
        ]
        for i, c in enumerate(channels)
    ]
    return header, rows


def format_image(info: MultiscaleInfo) -> str:
    """The report block of one multiscale image."""
    version = "no OME metadata" if info.version is None else f"OME-NGFF {info.version}"
    kind = "label image" if info.is_labels else "image"
    lines = [f"{kind} {info.name!r} ({version}, {info.nlevels} level(s))"]
    lines.append(f"  path: {info.path or '.'}")
    axes = []
    for a in info.axes:
        detail = ", ".join(x for x in (a.type, a.unit) if x)
        axes.append(f"{a.name} [{detail}]" if detail else a.name)
    lines.append("  axes: " + ", ".join(axes))
    unit = info.unit
    if unit is not None:
        lines.append(f"  unit: {unit} (1 {unit} = {info.unit_factor:g} m)")
    lines.append("")
    lines += _table(*_level_rows(info.scales))
    if info.channels:
        lines.append("")
        lines.append("  channels:")
        lines += _table(*_channel_rows(info.channels), indent="    ")
    return "\n".join(lines)


def format_info(source: Any) -> str:
    """A readable report of every multiscale image in ``source``.

    Parameters
    ----------
    source : anything :func:`simplezarr.open` accepts
        Path, URL, zarr store, zarr node or numpy array.

    Returns
    -------
    str
        The source, then per image: name, path, version, axes with types and
        units, a table of levels (path, shape, chunk shape, shard shape if
        sharded, dtype, scale and offset per axis) and the channels (label,
        colour, window, range) when the metadata has them.
    """
    node = open_source(source)
    infos = MultiscaleInfo.from_zarr_node(node)
    kind = "group" if isinstance(node, zarr.Group) else "array"
    label = source if isinstance(source, str) else str(node.store_path)
    head = f"{label}: zarr v{node.metadata.zarr_format} {kind}, {len(infos)} image(s)"
    return "\n\n".join([head, *(format_image(info) for info in infos)]) + "\n"


def main_info(argv: Sequence[str] | None = None) -> int:
    """Command line ``simplezarr info SOURCE``; ``argv`` are the arguments after ``info``.

    Prints the report and returns 0; on a bad source prints one line
    ``simplezarr info: error: ...`` to stderr and returns 2.
    """
    parser = argparse.ArgumentParser(
        prog="simplezarr info",
        description="Print the multiscale images of a zarr source: levels, chunks, scales, "
        "channels. Reads metadata only.",
    )
    parser.add_argument("source", help="local path (directory, .zip or TIFF) or http(s)/s3 URL")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage error
        return exc.code if isinstance(exc.code, int) else 2
    try:
        text = format_info(args.source)
    except (OSError, ValueError, TypeError, ImportError) as exc:
        message = " ".join(str(exc).split())
        print(f"simplezarr info: error: {message}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0
