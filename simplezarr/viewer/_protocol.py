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

Front-end messages are untrusted input and parsed with bounds (a message
outside them is malformed: logged and ignored): ``view`` is a string of 1 to
:data:`MAX_VIEW_ID` characters; ``seq`` an integer in ``0 ..``
:data:`MAX_SEQ` (JavaScript's safe integers); ``center`` and ``scale``
finite numbers (``scale > 0``); ``size`` two numbers in ``0 ..``
:data:`MAX_SIZE` CSS pixels; ``dpr`` in ``(0,`` :data:`MAX_DPR` ``]``. What
depends on the image (the centre kept on the image, the scale kept in a sane
range of it) is clamped by :func:`~.geometry.clamp_viewport`, so every
accepted viewport has finite, bounded geometry.

Kernel -> front end:

- ``tile``   ``{type, view, key, level, chunk: [iy, ix], plane, bounds:
  [y0, x0, y1, x1], shape: [h, w], encoding, value_offset, value_scale, seq}``
  with one buffer, the PNG.
- ``tile_error`` ``{type, view, key, level, chunk: [iy, ix], plane, bounds:
  [y0, x0, y1, x1], error, seq}``: the tile ``key`` could not be made (its
  chunk's read or its encode failed); ``error`` is a short text for people
  (at most :data:`MAX_ERROR_TEXT` characters, e.g. ``"read timed out after
  30 s"``, ``"OSError: HTTP 500"``). Sent once per failure per view; the other
  fields are those the ``tile`` would have had. The tile is no longer pending.
  A later ``tile`` with the same key replaces the failure (a retry worked); a
  ``drop`` naming it means the view no longer wants it. Retries: see
  :mod:`.tiles` (a failed chunk is read again only on a later ``viewport``
  message that still wants it, and at most once per ``retry_after`` seconds).
- ``drop``   ``{type, view, keys}``: tile keys this view no longer needs
  (tiles sent, or announced failed with ``tile_error``).
- ``status`` ``{type, view, pending, failed, level, seq}``: ``pending`` tiles
  wanted but neither sent nor failed; ``failed`` tiles wanted whose chunk
  failed (each announced by a ``tile_error``).

Keys (opaque to the front end, but built only here):

- plane key: the non-displayed axes in the order of the ``sliders`` trait as
  ``name=index`` (level-0 indices, as the view asked) joined by ``","``, e.g.
  ``"z=3,t=0,c=1"``; ``""`` when there are no sliders.
- tile key: ``"{level}/{iy}/{ix}/{plane}"``, unique per level, chunk and plane.

Parsing is strict: :func:`parse_message` raises :class:`ProtocolError` naming
the message and the bad field (values shown shortened, so a huge message
makes a short log line), and the widget logs and ignores it. It raises
nothing else, whatever JSON-like value it is given.
"""

from __future__ import annotations

import math
import re
import reprlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .geometry import TileHeader, Viewport

__all__ = [
    "CLOSE",
    "DROP",
    "MAX_DPR",
    "MAX_ERROR_TEXT",
    "MAX_SEQ",
    "MAX_SIZE",
    "MAX_VIEW_ID",
    "READY",
    "STATUS",
    "TILE",
    "TILE_ERROR",
    "VIEWPORT",
    "CloseMessage",
    "ProtocolError",
    "ReadyMessage",
    "ViewportMessage",
    "drop_message",
    "error_text",
    "parse_message",
    "plane_key",
    "status_message",
    "tile_error_message",
    "tile_key",
    "tile_message",
]

READY: Final = "ready"
VIEWPORT: Final = "viewport"
CLOSE: Final = "close"
TILE: Final = "tile"
DROP: Final = "drop"
STATUS: Final = "status"
TILE_ERROR: Final = "tile_error"

MAX_VIEW_ID: Final = 128
"""Longest accepted view id, in characters (the front end sends a 36-character UUID)."""
MAX_SEQ: Final = 2**53 - 1
"""Largest accepted ``seq``: JavaScript's largest safe integer."""
MAX_SIZE: Final = 16384.0
"""Largest accepted view height or width, in CSS pixels."""
MAX_DPR: Final = 16.0
"""Largest accepted device pixel ratio."""
MAX_ERROR_TEXT: Final = 200
"""Longest ``error`` text of a ``tile_error`` message, in characters."""

_short = reprlib.Repr()
_short.maxstring = 60
_short.maxother = 60
_short.maxlist = _short.maxtuple = _short.maxdict = 6
_short.maxlevel = 3


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
        raise ProtocolError(
            f"{_short.repr(msg.get('type'))} message lacks field {name!r}: {_short.repr(msg)}"
        )
    return msg[name]


def _view(msg: Mapping[str, Any]) -> str:
    view = _field(msg, "view")
    if not isinstance(view, str) or not 0 < len(view) <= MAX_VIEW_ID:
        raise ProtocolError(
            f"{_short.repr(msg.get('type'))} message: 'view' must be a string of 1 to "
            f"{MAX_VIEW_ID} characters, got {_short.repr(view)}"
        )
    return view


def _number(name: str, value: Any, lo: float, hi: float, *, open_lo: bool = False) -> float:
    """``value`` as a finite float in ``[lo, hi]`` (``(lo, hi]`` with ``open_lo``)."""
    number: float | None = None
    if not isinstance(value, bool) and isinstance(value, int | float):
        try:
            number = float(value)  # an int beyond the float range raises OverflowError
        except OverflowError:
            number = None
    if number is None or not math.isfinite(number):
        raise ProtocolError(
            f"'viewport' message: {name!r} must be a finite number, got {_short.repr(value)}"
        )
    if number < lo or number > hi or (open_lo and number == lo):
        raise ProtocolError(
            f"'viewport' message: {name!r} must be in {'(' if open_lo else '['}{lo:g}, "
            f"{hi:g}], got {_short.repr(value)}"
        )
    return number


def _pair(
    msg: Mapping[str, Any], name: str, lo: float, hi: float, *, open_lo: bool = False
) -> tuple[float, float]:
    value = _field(msg, name)
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ProtocolError(
            f"'viewport' message: {name!r} must be a list of 2 numbers, got {_short.repr(value)}"
        )
    return (
        _number(name, value[0], lo, hi, open_lo=open_lo),
        _number(name, value[1], lo, hi, open_lo=open_lo),
    )


def parse_message(msg: Any) -> FrontEndMessage:
    """Validate one front-end message and return it as a typed value.

    Every bound of the module docstring is checked; image-dependent bounds
    (the centre on the image, the scale range) are applied afterwards by
    :func:`~.geometry.clamp_viewport`.

    Raises
    ------
    ProtocolError
        When the message is not a dict, has an unknown ``type`` or a missing,
        malformed or out-of-bounds field. Nothing else is raised.
    """
    if not isinstance(msg, Mapping):
        raise ProtocolError(f"front-end message must be a JSON object, got {_short.repr(msg)}")
    kind = msg.get("type")
    if kind == READY:
        return ReadyMessage(_view(msg))
    if kind == CLOSE:
        return CloseMessage(_view(msg))
    if kind == VIEWPORT:
        view = _view(msg)
        seq = _field(msg, "seq")
        if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_SEQ:
            raise ProtocolError(
                f"'viewport' message: 'seq' must be an integer in [0, {MAX_SEQ}], "
                f"got {_short.repr(seq)}"
            )
        center = _pair(msg, "center", -math.inf, math.inf)
        size = _pair(msg, "size", 0.0, MAX_SIZE)
        scale = _number("scale", _field(msg, "scale"), 0.0, math.inf, open_lo=True)
        dpr = _number("dpr", _field(msg, "dpr"), 0.0, MAX_DPR, open_lo=True)
        return ViewportMessage(view, seq, Viewport(center=center, scale=scale, size=size, dpr=dpr))
    raise ProtocolError(
        f"front-end message has unknown type {_short.repr(kind)}: {_short.repr(msg)}"
    )


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


def tile_error_message(
    *,
    view: str,
    key: str,
    level: int,
    chunk: tuple[int, int],
    plane: str,
    bounds: tuple[float, float, float, float],
    error: str,
    seq: int,
) -> dict[str, Any]:
    """The ``tile_error`` message: the tile ``key`` of ``view`` failed; ``error`` says why."""
    return {
        "type": TILE_ERROR,
        "view": view,
        "key": key,
        "level": level,
        "chunk": list(chunk),
        "plane": plane,
        "bounds": list(bounds),
        "error": error[:MAX_ERROR_TEXT],
        "seq": seq,
    }


def error_text(exc: BaseException | None) -> str:
    """A short text for people saying why a tile failed (``error`` of ``tile_error``).

    The root cause when the exception wraps one (a chunk read error names
    level, index and store, which the message carries already), as
    ``"Type: message"``, on one line, at most :data:`MAX_ERROR_TEXT`
    characters.
    """
    if exc is None:
        return "failed"
    root = exc.__cause__ if exc.__cause__ is not None else exc
    text = str(root).strip()
    if isinstance(root, TimeoutError):  # e.g. the pool's "... took longer than 30 s"
        after = re.search(r"longer than (\S+ s)\b", text)
        return f"read timed out after {after.group(1)}" if after else "read timed out"
    text = f"{type(root).__name__}: {text}" if text else type(root).__name__
    text = " ".join(text.split())  # one line
    if len(text) > MAX_ERROR_TEXT:
        text = text[: MAX_ERROR_TEXT - 1] + "\u2026"
    return text


def status_message(
    view: str, *, pending: int, failed: int, level: int, seq: int
) -> dict[str, Any]:
    """The ``status`` message of one view."""
    return {
        "type": STATUS,
        "view": view,
        "pending": pending,
        "failed": failed,
        "level": level,
        "seq": seq,
    }
