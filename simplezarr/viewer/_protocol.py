"""The viewer's custom-message protocol, version 3: the kernel side's one declaration.

KEEP IN SYNC: ``js/protocol.ts`` declares the same messages for the front
end; ``tests/protocol/golden.json`` (``python -m tests.protocol.make_golden``
makes it from this module) holds examples both sides check. A change here
must be made there too, and in ``docs/architecture.md`` ("Viewport protocol").

:data:`PROTOCOL_VERSION` is the ``protocol_version`` trait of the viewer and
the ``version`` of a front end's ``ready``; a front end of another version
is warned about and not served.

Front end -> kernel (JSON, no buffers), parsed into frozen dataclasses:

- ``ready``     ``{type, view, version}`` (:class:`ReadyMessage`).
- ``viewport``  ``{type, view, seq, center: [y, x], scale, size: [h, w], dpr,
  channels: [int, ...], layers: [{layer, channels}, ...]}``
  (:class:`ViewportMessage`): the camera, the size or the channels wanted
  changed (``scale`` is world units per CSS pixel; ``channels`` the channel
  indices of the base image, layer 0, the view wants tiles of; ``layers``
  the other layers it shows, each with its channels; optional, default
  ``[]``; a layer not listed is hidden and its tiles dropped).
- ``close``     ``{type, view}`` (:class:`CloseMessage`).
- ``histogram`` ``{type, view}`` (:class:`HistogramRequest`): recompute the
  histograms of the view's channels (answered in the ``channels`` trait).
- ``probe``     ``{type, view, id, world: [y, x]}`` (:class:`ProbeRequest`):
  the values under the cursor; ``id`` increases per view.

They are untrusted input, parsed with bounds (else malformed: logged and
ignored): ``view`` a string of 1 to :data:`MAX_VIEW_ID` characters; ``seq``,
``id`` and ``version`` integers in ``0 ..`` :data:`MAX_SEQ`; ``center``,
``world`` and ``scale`` finite numbers (``scale > 0``); ``size`` in ``0 ..``
:data:`MAX_SIZE` CSS pixels; ``dpr`` in ``(0,`` :data:`MAX_DPR` ``]``;
``channels`` unique integers ``0 <= c < n_channels`` (the image's channel
count, given to :func:`parse_message`); ``layers`` at most :data:`MAX_LAYERS`
entries of known, unique layer ids (not 0), each with its own channels. A
``ready`` without ``version`` is a version-1 front end (which had none). The
geometry is then clamped to the image by :func:`~.geometry.clamp_viewport`.

Kernel -> front end, typed as :class:`typing.TypedDict` and made only by the
builders here:

- ``tile`` (:class:`TileMessage`, :func:`tile_message`) ``{type, view, layer,
  key, level, chunk: [iy, ix], plane, channel, bounds: [y0, x0, y1, x1],
  shape: [h, w], encoding, value_offset, value_scale, seq}`` with one buffer,
  the PNG (:mod:`.encode`: ``u8`` gray, code = R; ``u16`` RGB, code = 256 R
  + G, B = 255 marks a NaN pixel, else 0; ``label`` RGBA, id = R + 256 G +
  65536 B + 2**24 (255 - A), exact). ``layer`` is the layer id (0: the base
  image); ``level`` and ``bounds`` are that layer's own.
- ``tile_error`` (:func:`tile_error_message`) ``{type, view, layer, key, level,
  chunk, plane, channel, bounds, error, seq}``: the tile ``key`` could not be
  made; ``error`` is a short text for people (at most
  :data:`MAX_ERROR_TEXT` characters, e.g. ``"read timed out after 30 s"``).
  Sent once per failure per view; the tile is no longer pending. A later
  ``tile`` with the same key replaces the failure; a ``drop`` naming it means
  the view no longer wants it (retries: :mod:`._failures`).
- ``drop`` (:func:`drop_message`) ``{type, view, keys}``: tile keys this view
  no longer needs (tiles sent, or announced failed).
- ``status`` (:func:`status_message`) ``{type, view, layer, pending, failed,
  level, seq}``: of one layer of the view: ``pending`` tiles wanted but
  neither sent nor failed; ``failed`` tiles wanted whose chunk failed.
- ``probe`` (:func:`probe_message`) ``{type, view, layer, id, world: [y, x],
  index: [iy, ix] | null, values: [{channel, value, text}], properties}``:
  the exact values at level 0 of one layer's channels under ``world``
  (``index`` that layer's level-0 pixel); one answer per layer the view
  shows (layer 0 always). Outside the image ``index`` is null and ``values``
  empty. ``value`` is null when not finite; ``text`` is for people
  (:func:`._texts.value_text`). ``properties``: for a label layer whose
  metadata has ``image-label.properties``, those of the label under the
  cursor (at most :data:`MAX_PROPERTIES` entries, texts of at most 64
  characters), else null.

Keys (opaque to the front end, but built only here):

- plane key: the sliders except the channel axis, in array order, as
  ``name=index`` (level-0 indices) joined by ``","``, e.g. ``"t=0,z=3"``;
  ``""`` when there are none.
- tile key: ``"{level}/{iy}/{ix}/{plane}/{channel}"``; ``channel`` is 0
  without a channel axis; for a layer other than 0, prefixed ``"{layer}:"``.
  Every layer's tiles are keyed by the *base image's* plane (the front end
  knows only that one): a slider move re-sends a layer's tiles even when the
  layer has no such slider (from the pool: nothing is read again).

:func:`parse_message` raises :class:`ProtocolError` naming the message and
the bad field (values shown shortened, so a huge message makes a short log
line), and nothing else, whatever JSON-like value it is given.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypedDict

import numpy as np

from ._texts import MAX_ERROR_TEXT, value_text
from .geometry import TileHeader, Viewport

__all__ = [
    "CLOSE",
    "DROP",
    "HISTOGRAM",
    "MAX_DPR",
    "MAX_ERROR_TEXT",
    "MAX_LAYERS",
    "MAX_PROPERTIES",
    "MAX_SEQ",
    "MAX_SIZE",
    "MAX_VIEW_ID",
    "PROBE",
    "PROTOCOL_VERSION",
    "READY",
    "STATUS",
    "TILE",
    "TILE_ERROR",
    "VIEWPORT",
    "CloseMessage",
    "DropMessage",
    "FrontEndMessage",
    "HistogramRequest",
    "LayerChannels",
    "ProbeMessage",
    "ProbeRequest",
    "ProbeValue",
    "ProtocolError",
    "ReadyMessage",
    "StatusMessage",
    "TileErrorMessage",
    "TileMessage",
    "ViewportMessage",
    "drop_message",
    "parse_message",
    "plane_key",
    "probe_message",
    "probe_value",
    "status_message",
    "tile_error_message",
    "tile_key",
    "tile_message",
]

PROTOCOL_VERSION: Final = 3
"""The protocol this kernel speaks (the ``protocol_version`` trait)."""

READY: Final = "ready"
VIEWPORT: Final = "viewport"
CLOSE: Final = "close"
HISTOGRAM: Final = "histogram"
PROBE: Final = "probe"
TILE: Final = "tile"
TILE_ERROR: Final = "tile_error"
DROP: Final = "drop"
STATUS: Final = "status"

MAX_VIEW_ID: Final = 128
"""Longest accepted view id, in characters (the front end sends a 36-character UUID)."""
MAX_SEQ: Final = 2**53 - 1
"""Largest accepted ``seq``, ``id`` and ``version``: JavaScript's largest safe integer."""
MAX_SIZE: Final = 16384.0
"""Largest accepted view height or width, in CSS pixels."""
MAX_DPR: Final = 16.0
"""Largest accepted device pixel ratio."""
MAX_LAYERS: Final = 16
"""Most layers of a viewer (the base image included), and of a viewport's ``layers``."""
MAX_PROPERTIES: Final = 16
"""Most ``image-label.properties`` entries a probe answer carries for one label."""

_short = reprlib.Repr()
_short.maxstring = 60
_short.maxother = 60
_short.maxlist = _short.maxtuple = _short.maxdict = 6
_short.maxlevel = 3


class ProtocolError(ValueError):
    """A front-end message that does not follow the protocol."""


# -- front end -> kernel ------------------------------------------------------------------


@dataclass(frozen=True)
class ReadyMessage:
    """A view was rendered and may now receive messages; it speaks protocol ``version``."""

    view: str
    version: int


@dataclass(frozen=True)
class CloseMessage:
    """A view was removed."""

    view: str


@dataclass(frozen=True)
class LayerChannels:
    """One layer a viewport shows (not the base image), and the channels it wants of it."""

    layer: int
    channels: tuple[int, ...]


@dataclass(frozen=True)
class ViewportMessage:
    """The camera of ``view`` or the channels it wants changed; ``seq`` increases per view.

    ``channels``: of the base image (layer 0); ``layers``: the other layers shown.
    """

    view: str
    seq: int
    viewport: Viewport
    channels: tuple[int, ...]
    layers: tuple[LayerChannels, ...] = ()


@dataclass(frozen=True)
class HistogramRequest:
    """Recompute the histograms of the channels of ``view``."""

    view: str


@dataclass(frozen=True)
class ProbeRequest:
    """The values under the world point ``world`` ``(y, x)``; ``id`` increases per view."""

    view: str
    id: int
    world: tuple[float, float]


FrontEndMessage = ReadyMessage | CloseMessage | ViewportMessage | HistogramRequest | ProbeRequest


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


def _integer(kind: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEQ:
        raise ProtocolError(
            f"{kind!r} message: {name!r} must be an integer in [0, {MAX_SEQ}], "
            f"got {_short.repr(value)}"
        )
    return value


def _number(
    kind: str, name: str, value: Any, lo: float, hi: float, *, open_lo: bool = False
) -> float:
    """``value`` as a finite float in ``[lo, hi]`` (``(lo, hi]`` with ``open_lo``)."""
    number: float | None = None
    if not isinstance(value, bool) and isinstance(value, int | float):
        try:
            number = float(value)  # an int beyond the float range raises OverflowError
        except OverflowError:
            number = None
    if number is None or not math.isfinite(number):
        raise ProtocolError(
            f"{kind!r} message: {name!r} must be a finite number, got {_short.repr(value)}"
        )
    if number < lo or number > hi or (open_lo and number == lo):
        raise ProtocolError(
            f"{kind!r} message: {name!r} must be in {'(' if open_lo else '['}{lo:g}, "
            f"{hi:g}], got {_short.repr(value)}"
        )
    return number


def _pair(
    kind: str, msg: Mapping[str, Any], name: str, lo: float, hi: float
) -> tuple[float, float]:
    value = _field(msg, name)
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ProtocolError(
            f"{kind!r} message: {name!r} must be a list of 2 numbers, got {_short.repr(value)}"
        )
    return (_number(kind, name, value[0], lo, hi), _number(kind, name, value[1], lo, hi))


def _channels(msg: Mapping[str, Any], n_channels: int) -> tuple[int, ...]:
    value = _field(msg, "channels")
    return _channel_list(value, n_channels)


def _channel_list(value: Any, n_channels: int, where: str = "'channels'") -> tuple[int, ...]:
    ok = isinstance(value, list | tuple) and len(value) <= n_channels
    if ok:
        ok = all(
            not isinstance(c, bool) and isinstance(c, int) and 0 <= c < n_channels for c in value
        ) and len(set(value)) == len(value)
    if not ok:
        raise ProtocolError(
            f"'viewport' message: {where} must be a list of unique channel indices in "
            f"[0, {n_channels - 1}], got {_short.repr(value)}"
        )
    return tuple(int(c) for c in value)


def _layers(
    msg: Mapping[str, Any], layer_channels: Mapping[int, int]
) -> tuple[LayerChannels, ...]:
    value = msg.get("layers", [])
    if not isinstance(value, list | tuple) or len(value) > MAX_LAYERS:
        raise ProtocolError(
            f"'viewport' message: 'layers' must be a list of at most {MAX_LAYERS} entries, "
            f"got {_short.repr(value)}"
        )
    out: list[LayerChannels] = []
    for entry in value:
        layer = entry.get("layer") if isinstance(entry, Mapping) else None
        if (
            isinstance(layer, bool)
            or not isinstance(layer, int)
            or layer not in layer_channels
            or any(e.layer == layer for e in out)
        ):
            raise ProtocolError(
                f"'viewport' message: 'layers' entries must be {{layer, channels}} of unique "
                f"layers among {sorted(layer_channels)!r}, got {_short.repr(entry)}"
            )
        where = f"the 'channels' of 'layers' entry {layer}"
        channels = _channel_list(_field(entry, "channels"), layer_channels[layer], where)
        out.append(LayerChannels(layer, channels))
    return tuple(out)


def parse_message(
    msg: Any, *, n_channels: int, layer_channels: Mapping[int, int] | None = None
) -> FrontEndMessage:
    """Validate one front-end message and return it as a typed value.

    Parameters
    ----------
    msg : Any
        The message's JSON content.
    n_channels : int
        The image's channel count: a viewport's ``channels`` are below it.
    layer_channels : mapping, optional
        The channel count of each layer but the base image, by layer id: the
        layers a viewport's ``layers`` may name (default: none).

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
        version = _integer(READY, "version", msg["version"]) if "version" in msg else 1
        return ReadyMessage(_view(msg), version)
    if kind == CLOSE:
        return CloseMessage(_view(msg))
    if kind == HISTOGRAM:
        return HistogramRequest(_view(msg))
    if kind == PROBE:
        view = _view(msg)
        probe_id = _integer(PROBE, "id", _field(msg, "id"))
        return ProbeRequest(view, probe_id, _pair(PROBE, msg, "world", -math.inf, math.inf))
    if kind == VIEWPORT:
        view = _view(msg)
        seq = _integer(VIEWPORT, "seq", _field(msg, "seq"))
        center = _pair(VIEWPORT, msg, "center", -math.inf, math.inf)
        size = _pair(VIEWPORT, msg, "size", 0.0, MAX_SIZE)
        scale = _number(VIEWPORT, "scale", _field(msg, "scale"), 0.0, math.inf, open_lo=True)
        dpr = _number(VIEWPORT, "dpr", _field(msg, "dpr"), 0.0, MAX_DPR, open_lo=True)
        channels = _channels(msg, n_channels)
        layers = _layers(msg, layer_channels or {})
        viewport = Viewport(center=center, scale=scale, size=size, dpr=dpr)
        return ViewportMessage(view, seq, viewport, channels, layers)
    raise ProtocolError(
        f"front-end message has unknown type {_short.repr(kind)}: {_short.repr(msg)}"
    )


# -- keys -----------------------------------------------------------------------------------


def plane_key(names: Sequence[str], position: Mapping[str, int]) -> str:
    """Key of a plane: ``"t=0,z=3"`` in the order of ``names`` (sliders but the channel's)."""
    return ",".join(f"{name}={int(position[name])}" for name in names)


def tile_key(level: int, chunk: tuple[int, int], plane: str, channel: int, layer: int = 0) -> str:
    """Key of a tile, unique per layer, level, displayed-chunk index, plane and channel."""
    key = f"{level}/{chunk[0]}/{chunk[1]}/{plane}/{channel}"
    return key if layer == 0 else f"{layer}:{key}"


# -- kernel -> front end -----------------------------------------------------------------


class TileMessage(TypedDict):
    """``tile``: a PNG (the one buffer) of one channel of one chunk's plane of one layer."""

    type: str
    view: str
    layer: int
    key: str
    level: int
    chunk: list[int]
    plane: str
    channel: int
    bounds: list[float]
    shape: list[int]
    encoding: str
    value_offset: float
    value_scale: float
    seq: int


class TileErrorMessage(TypedDict):
    """``tile_error``: the tile ``key`` could not be made; ``error`` says why."""

    type: str
    view: str
    layer: int
    key: str
    level: int
    chunk: list[int]
    plane: str
    channel: int
    bounds: list[float]
    error: str
    seq: int


class DropMessage(TypedDict):
    """``drop``: tiles the view no longer needs."""

    type: str
    view: str
    keys: list[str]


class StatusMessage(TypedDict):
    """``status``: how many wanted tiles of one layer are pending and failed, at which level."""

    type: str
    view: str
    layer: int
    pending: int
    failed: int
    level: int
    seq: int


class ProbeValue(TypedDict):
    """One channel's value in a ``probe`` answer: ``value`` null when not finite."""

    channel: int
    value: float | int | None
    text: str


class ProbeMessage(TypedDict):
    """``probe`` answer of one layer: its level-0 pixel under ``world``, each channel's value."""

    type: str
    view: str
    layer: int
    id: int
    world: list[float]
    index: list[int] | None
    values: list[ProbeValue]
    properties: dict[str, str | float | int | bool | None] | None


def tile_message(header: TileHeader) -> TileMessage:
    """The ``tile`` message for ``header`` (the PNG travels as its one buffer)."""
    return {
        "type": TILE,
        "view": header.view,
        "layer": header.layer,
        "key": header.key,
        "level": header.level,
        "chunk": list(header.chunk),
        "plane": header.plane,
        "channel": header.channel,
        "bounds": list(header.bounds),
        "shape": list(header.shape),
        "encoding": header.encoding,
        "value_offset": header.value_offset,
        "value_scale": header.value_scale,
        "seq": header.seq,
    }


def tile_error_message(
    *,
    view: str,
    key: str,
    level: int,
    chunk: tuple[int, int],
    plane: str,
    channel: int,
    bounds: tuple[float, float, float, float],
    error: str,
    seq: int,
    layer: int = 0,
) -> TileErrorMessage:
    """The ``tile_error`` message: the tile ``key`` of ``view`` failed; ``error`` says why."""
    return {
        "type": TILE_ERROR,
        "view": view,
        "layer": layer,
        "key": key,
        "level": level,
        "chunk": list(chunk),
        "plane": plane,
        "channel": channel,
        "bounds": list(bounds),
        "error": error[:MAX_ERROR_TEXT],
        "seq": seq,
    }


def drop_message(view: str, keys: Sequence[str]) -> DropMessage:
    """The ``drop`` message: ``view`` no longer needs the tiles ``keys``."""
    return {"type": DROP, "view": view, "keys": list(keys)}


def status_message(
    view: str, *, pending: int, failed: int, level: int, seq: int, layer: int = 0
) -> StatusMessage:
    """The ``status`` message of one layer of one view."""
    return {
        "type": STATUS,
        "view": view,
        "layer": layer,
        "pending": pending,
        "failed": failed,
        "level": level,
        "seq": seq,
    }


def probe_value(channel: int, value: Any) -> ProbeValue:
    """One entry of a ``probe`` answer's ``values``: the number (null unless finite), its text."""
    number: float | int | None
    if isinstance(value, bool | np.bool_ | int | np.integer):
        number = int(value)
    else:
        v = float(value)
        number = v if math.isfinite(v) else None
    return {"channel": int(channel), "value": number, "text": value_text(value)}


def probe_message(
    view: str,
    probe_id: int,
    world: Sequence[float],
    index: tuple[int, int] | None,
    values: Sequence[ProbeValue],
    *,
    layer: int = 0,
    properties: Mapping[str, Any] | None = None,
) -> ProbeMessage:
    """The ``probe`` answer of one layer: ``index`` None (and no values) outside the image.

    ``properties``: of the label under the cursor (label layers), at most
    :data:`MAX_PROPERTIES` entries; numbers, booleans and None as they are,
    anything else as text of at most 64 characters.
    """
    props: dict[str, str | float | int | bool | None] | None = None
    if properties is not None and index is not None:
        props = {}
        for name, value in list(properties.items())[:MAX_PROPERTIES]:
            ok = value is None or isinstance(value, bool | int | float)
            if isinstance(value, float) and not math.isfinite(value):
                ok = False
            props[str(name)[:64]] = value if ok else str(value)[:64]
    return {
        "type": PROBE,
        "view": view,
        "layer": layer,
        "id": probe_id,
        "world": [float(world[0]), float(world[1])],
        "index": None if index is None else [int(index[0]), int(index[1])],
        "values": list(values) if index is not None else [],
        "properties": props,
    }
