"""Message types of the viewer's custom-message protocol (kernel side).

KEEP IN SYNC: ``js/protocol.ts`` defines the same messages for the front end.
Any change here (a type, a field, a key format) must be made there too, and in
the "Viewport protocol" section of ``docs/architecture.md``.

Front end -> kernel (JSON, no buffers):

- ``ready``    ``{type, view}``: a view was rendered; the kernel sends nothing
  to a view before it.
- ``viewport`` ``{type, view, seq, center: [y, x], scale, size: [h, w], dpr}``:
  the camera or the size changed (``scale`` is world units per CSS pixel).
- ``close``    ``{type, view}``: the view was removed.

Kernel -> front end:

- ``tile``   ``{type, view, key, level, chunk: [iy, ix], plane, bounds:
  [y0, x0, y1, x1], shape: [h, w], encoding, value_offset, value_scale, seq}``
  with one buffer, the PNG.
- ``drop``   ``{type, view, keys}``: tile keys this view no longer needs.
- ``status`` ``{type, view, pending, level, seq}``.

Keys (opaque to the front end, but built only here):

- plane key: the non-displayed axes in the order of the ``sliders`` trait as
  ``name=index`` (level-0 indices, as the view asked) joined by ``","``, e.g.
  ``"z=3,t=0,c=1"``; ``""`` when there are no sliders.
- tile key: ``"{level}/{iy}/{ix}/{plane}"``, unique per level, chunk and plane.

Parsing is strict: :func:`parse_message` raises :class:`ProtocolError` naming
the message and the bad field, and the widget logs and ignores it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .geometry import TileHeader, Viewport

__all__ = [
    "CLOSE",
    "DROP",
    "READY",
    "STATUS",
    "TILE",
    "VIEWPORT",
    "CloseMessage",
    "ProtocolError",
    "ReadyMessage",
    "ViewportMessage",
    "drop_message",
    "parse_message",
    "plane_key",
    "status_message",
    "tile_key",
    "tile_message",
]

READY: Final = "ready"
VIEWPORT: Final = "viewport"
CLOSE: Final = "close"
TILE: Final = "tile"
DROP: Final = "drop"
STATUS: Final = "status"


class ProtocolError(ValueError):
    """A front-end message that does not follow the protocol."""


@dataclass(frozen=True)
class ReadyMessage:
    """A view was rendered and may now receive messages."""

    view: str


@dataclass(frozen=True)
class CloseMessage:
    """A view was removed."""

    view: str


@dataclass(frozen=True)
class ViewportMessage:
    """The camera of ``view`` changed; ``seq`` increases per view."""

    view: str
    seq: int
    viewport: Viewport


FrontEndMessage = ReadyMessage | CloseMessage | ViewportMessage


def _field(msg: Mapping[str, Any], name: str) -> Any:
    if name not in msg:
        raise ProtocolError(f"{msg.get('type')!r} message lacks field {name!r}: {msg!r}")
    return msg[name]


def _view(msg: Mapping[str, Any]) -> str:
    view = _field(msg, "view")
    if not isinstance(view, str) or not view:
        raise ProtocolError(
            f"{msg.get('type')!r} message: 'view' must be a non-empty string, got {view!r}"
        )
    return view


def _number(msg: Mapping[str, Any], name: str, value: Any, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProtocolError(f"'viewport' message: {name!r} must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise ProtocolError(f"'viewport' message: {name!r} must be > 0, got {value!r}")
    return float(value)


def _pair(msg: Mapping[str, Any], name: str, *, positive: bool = False) -> tuple[float, float]:
    value = _field(msg, name)
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        raise ProtocolError(
            f"'viewport' message: {name!r} must be a list of 2 numbers, got {value!r}"
        )
    a = _number(msg, name, value[0], positive=positive)
    b = _number(msg, name, value[1], positive=positive)
    return (a, b)


def parse_message(msg: Any) -> FrontEndMessage:
    """Validate one front-end message and return it as a typed value.

    Raises
    ------
    ProtocolError
        When the message is not a dict, has an unknown ``type`` or a missing or
        malformed field.
    """
    if not isinstance(msg, Mapping):
        raise ProtocolError(f"front-end message must be a JSON object, got {msg!r}")
    kind = msg.get("type")
    if kind == READY:
        return ReadyMessage(_view(msg))
    if kind == CLOSE:
        return CloseMessage(_view(msg))
    if kind == VIEWPORT:
        view = _view(msg)
        seq = _field(msg, "seq")
        if isinstance(seq, bool) or not isinstance(seq, int):
            raise ProtocolError(f"'viewport' message: 'seq' must be an integer, got {seq!r}")
        center = _pair(msg, "center")
        size = _pair(msg, "size")
        if size[0] < 0 or size[1] < 0:
            raise ProtocolError(f"'viewport' message: 'size' must be >= 0, got {size!r}")
        scale = _number(msg, "scale", _field(msg, "scale"), positive=True)
        dpr = _number(msg, "dpr", _field(msg, "dpr"), positive=True)
        return ViewportMessage(view, seq, Viewport(center=center, scale=scale, size=size, dpr=dpr))
    raise ProtocolError(f"front-end message has unknown type {kind!r}: {msg!r}")


def plane_key(names: Sequence[str], position: Mapping[str, int]) -> str:
    """Key of a plane: ``"z=3,t=0,c=1"`` in the order of ``names`` (the sliders)."""
    return ",".join(f"{name}={int(position[name])}" for name in names)


def tile_key(level: int, chunk: tuple[int, int], plane: str) -> str:
    """Key of a tile, unique per level, displayed-chunk index and plane."""
    return f"{level}/{chunk[0]}/{chunk[1]}/{plane}"


def tile_message(header: TileHeader) -> dict[str, Any]:
    """The ``tile`` message for ``header`` (the PNG travels as its one buffer)."""
    return {
        "type": TILE,
        "view": header.view,
        "key": header.key,
        "level": header.level,
        "chunk": list(header.chunk),
        "plane": header.plane,
        "bounds": list(header.bounds),
        "shape": list(header.shape),
        "encoding": header.encoding,
        "value_offset": header.value_offset,
        "value_scale": header.value_scale,
        "seq": header.seq,
    }


def drop_message(view: str, keys: Sequence[str]) -> dict[str, Any]:
    """The ``drop`` message: ``view`` no longer needs the tiles ``keys``."""
    return {"type": DROP, "view": view, "keys": list(keys)}


def status_message(view: str, *, pending: int, level: int, seq: int) -> dict[str, Any]:
    """The ``status`` message of one view."""
    return {"type": STATUS, "view": view, "pending": pending, "level": level, "seq": seq}
