"""Reading OME ``omero`` channel metadata into :class:`~.multiscale.ChannelInfo` (private).

``omero`` is display metadata (labels, colours, contrast windows), so it is
read tolerantly: a value of the wrong type never stops an image from
opening. It is ignored instead, with one warning per document that lists
what was ignored (the first few fields, then a count). The rules:

* ``omero`` or ``omero.channels`` of the wrong type: no channels.
* a channel that is not a dict: an unnamed channel (its index as label).
* ``window`` values (``start``, ``end``, ``min``, ``max``) must be finite
  numbers: ``NaN``, ``-Infinity``, ``1e999``, an integer of 400 digits, a
  string or a bool is dropped (``None``), so the viewer falls back to the
  data's percentiles as for a channel without a window.
* ``color``: an integer (RGBA, also OMERO's signed 32-bit RGBA, or RGB)
  or a hex string (``"F00"``,
  ``"#ff0000"``, ``"FF0000FF"``); anything else is dropped.
* ``active`` must be a bool, else ``True``.
* ``window.start >= window.end`` is kept but reported (the viewer ignores
  such a window).
"""

from __future__ import annotations

import math
from typing import Any

from simplezarr.utils._ngff import FN, short, warn
from simplezarr.utils.multiscale import ChannelInfo

__all__ = ["parse_channels"]

_SHOWN = 5  # problems listed by name in the warning


def parse_channels(omero: Any, where: str) -> tuple[ChannelInfo, ...] | None:
    """The channels of an ``omero`` dict, ``None`` without any (see the module docstring)."""
    problems: list[str] = []
    channels = _channels(omero, problems)
    if problems:
        listed = "; ".join(problems[:_SHOWN])
        more = f"; and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
        warn(f"{FN}: {where}: ignored malformed omero metadata: {listed}{more}")
    return channels


def _channels(omero: Any, problems: list[str]) -> tuple[ChannelInfo, ...] | None:
    if omero is None:
        return None
    if not isinstance(omero, dict):
        problems.append(f"'omero' must be a dict, got {short(omero, 60)}")
        return None
    chans = omero.get("channels")
    if chans is None:
        return None
    if not isinstance(chans, list):
        problems.append(f"'omero.channels' must be a list, got {short(chans, 60)}")
        return None
    return tuple(_channel(i, ch, problems) for i, ch in enumerate(chans))


def _channel(i: int, ch: Any, problems: list[str]) -> ChannelInfo:
    field = f"omero.channels[{i}]"
    if not isinstance(ch, dict):
        problems.append(f"{field} must be a dict, got {short(ch, 60)}")
        return ChannelInfo(label=str(i))
    label = ch.get("label")
    if isinstance(label, dict | list):
        problems.append(f"{field}.label must be a string, got {short(label, 60)}")
        label = None
    raw_window = ch.get("window")
    window: dict[str, Any] = raw_window if isinstance(raw_window, dict) else {}
    if raw_window is not None and not isinstance(raw_window, dict):
        problems.append(f"{field}.window must be a dict, got {short(raw_window, 60)}")
    values = {
        key: _finite(window.get(key), f"{field}.window.{key}", problems)
        for key in ("start", "end", "min", "max")
    }
    start, end = values["start"], values["end"]
    if start is not None and end is not None and not start < end:
        problems.append(f"{field}.window start {start:g} is not below end {end:g}")
    raw_color = ch.get("color")
    color = _color(raw_color)
    if raw_color is not None and color is None:
        problems.append(f"{field}.color {short(raw_color, 60)} is not a colour")
    active = ch.get("active", True)
    if not isinstance(active, bool):
        problems.append(f"{field}.active must be true or false, got {short(active, 60)}")
        active = True
    return ChannelInfo(
        label=str(i) if label is None or label == "" else str(label),
        color=color,
        window_start=start,
        window_end=end,
        window_min=values["min"],
        window_max=values["max"],
        active=active,
    )


def _finite(value: Any, field: str, problems: list[str]) -> float | None:
    """``value`` as a finite float, else ``None`` (and a problem unless it is absent)."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond the float range
            number = math.inf
        if math.isfinite(number):
            return number
    problems.append(f"{field} {short(value, 40)} is not a finite number")
    return None


def _color(value: Any) -> str | None:
    """Six lowercase hex digits from an RGB(A) integer or hex string, else ``None``."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:  # OMERO writes RGBA as a signed 32-bit integer
            value &= 0xFFFFFFFF
        return f"{(value >> 8 if value > 0xFFFFFF else value) & 0xFFFFFF:06x}"
    if not isinstance(value, str):
        return None
    text = value.strip().lstrip("#").lower()
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    if len(text) in (6, 8) and all(c in "0123456789abcdef" for c in text):
        return text[:6]
    return None
