"""The channels of a viewer: one observable :class:`Channel` per channel of the image.

``viewer.channels`` is a list of :class:`Channel` objects, one per index of
the image's channel axis (exactly one, named by the image, when it has no
channel axis). Each is a :class:`traitlets.HasTraits` with ``name``,
``color`` (``"#rrggbb"``), ``contrast_limits`` (``[lo, hi]`` in data units),
``gamma`` and ``visible``, so it can be observed and linked with ipywidgets::

    slider = widgets.FloatRangeSlider(min=0, max=4095)
    widgets.link((slider, "value"), (viewer.channels[0], "contrast_limits"))
    viewer.channels[1].color = "magenta"        # or "#ff00ff"
    viewer.channels[2].visible = False

Read-only, set by the viewer: ``range`` (the span the contrast slider
offers: the dtype's for integers of at most 16 bits, else the values seen in
the coarsest level) and ``histogram`` (counts in 64 equal bins over
``range``, ``[]`` until computed).

Syncing: the viewer's ``channels`` trait travels to the front end as a list
of dicts (:func:`channels_to_json`: ``name``, ``color``,
``contrast_limits``, ``gamma``, ``visible``, ``range``, ``histogram``). A
change of any channel (from Python, :meth:`Viewer.auto_contrast
<simplezarr.viewer.Viewer.auto_contrast>`, the statistics) sends the list;
the front end's panel writes the whole list back, and
:func:`apply_channel_state` applies its ``color``, ``contrast_limits``,
``gamma`` and ``visible`` to the same objects (values that fail validation
are reported and left as they were). None of this sends a tile: colour,
contrast, gamma and visibility are drawn by the browser.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import traitlets

from ._defaults import COLOR_NAMES, normalize_color

__all__ = ["FRONT_END_FIELDS", "Channel", "apply_channel_state", "channels_to_json"]

FRONT_END_FIELDS = ("color", "contrast_limits", "gamma", "visible")
"""The fields of a channel the front end may write."""


class Channel(traitlets.HasTraits):
    """How one channel of a viewer's image is drawn (see the module docstring).

    Parameters
    ----------
    index : int
        The channel's index along the channel axis (0 without one).
    name : str
        Its name (the ``omero`` label, ``"channel 3"``, ``"red"``, ...).
    color : str
        ``"#rrggbb"`` or a colour name (red, green, blue, cyan, magenta,
        yellow); composite mode draws the channel as a black-to-colour ramp.
    contrast_limits : (float, float)
        ``[lo, hi]`` in data units: ``lo`` is drawn black, ``hi`` full colour.
    gamma : float
        Display gamma (> 0) applied between the limits.
    visible : bool
        Whether composite mode draws it (and the front end asks for its tiles).
    range : (float, float)
        The data range the contrast slider spans.
    """

    name = traitlets.Unicode(read_only=True)
    color = traitlets.Unicode("#ffffff")
    contrast_limits = traitlets.List(traitlets.Float(), [0.0, 1.0], minlen=2, maxlen=2)
    gamma = traitlets.Float(1.0)
    visible = traitlets.Bool(True)
    range = traitlets.List(traitlets.Float(), [0.0, 1.0], minlen=2, maxlen=2, read_only=True)
    histogram = traitlets.List(traitlets.Int(), [], read_only=True)

    def __init__(
        self,
        index: int,
        name: str,
        *,
        color: str,
        contrast_limits: Sequence[float],
        gamma: float = 1.0,
        visible: bool = True,
        range: Sequence[float] = (0.0, 1.0),
    ) -> None:
        super().__init__()
        self._index = int(index)
        self.set_trait("name", name)
        self.color = color
        self.contrast_limits = list(contrast_limits)
        self.gamma = gamma
        self.visible = visible
        self.set_trait("range", list(range))

    @property
    def index(self) -> int:
        """The channel's index along the channel axis."""
        return self._index

    def __repr__(self) -> str:
        lo, hi = self.contrast_limits
        return (
            f"Channel({self._index}, {self.name!r}, color={self.color!r}, "
            f"contrast_limits=[{lo:g}, {hi:g}], gamma={self.gamma:g}, visible={self.visible})"
        )

    def _where(self) -> str:
        return f"(channel {self._index} {self.name!r})"

    @traitlets.validate("color")
    def _valid_color(self, proposal: dict[str, Any]) -> str:
        color = normalize_color(proposal["value"])
        if color is None:
            raise traitlets.TraitError(
                f"Channel.color: {proposal['value']!r} is not '#rrggbb' nor one of "
                f"{sorted(COLOR_NAMES)!r} {self._where()}"
            )
        return color

    @traitlets.validate("contrast_limits")
    def _valid_contrast(self, proposal: dict[str, Any]) -> list[float]:
        lo, hi = (float(v) for v in proposal["value"])
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
            raise traitlets.TraitError(
                f"Channel.contrast_limits: {proposal['value']!r} must be two finite numbers "
                f"with lo <= hi {self._where()}"
            )
        return [lo, hi]

    @traitlets.validate("gamma")
    def _valid_gamma(self, proposal: dict[str, Any]) -> float:
        gamma = float(proposal["value"])
        if not (math.isfinite(gamma) and gamma > 0):
            raise traitlets.TraitError(
                f"Channel.gamma: {proposal['value']!r} must be a finite number > 0 {self._where()}"
            )
        return gamma


def channels_to_json(channels: Sequence[Channel], _widget: Any = None) -> list[dict[str, Any]]:
    """The ``channels`` trait as the front end gets it: one dict per channel."""
    return [
        {
            "name": c.name,
            "color": c.color,
            "contrast_limits": list(c.contrast_limits),
            "gamma": c.gamma,
            "visible": c.visible,
            "range": list(c.range),
            "histogram": list(c.histogram),
        }
        for c in channels
    ]


def apply_channel_state(channels: Sequence[Channel], value: Any) -> list[str]:
    """Apply the front end's ``channels`` list to ``channels``; return what was refused.

    Only :data:`FRONT_END_FIELDS` are read; every entry must be a dict and
    the list as long as ``channels`` (else nothing is applied). A field that
    fails validation keeps its value, and is named in the result.
    """
    if not isinstance(value, list | tuple) or len(value) != len(channels):
        return [
            f"'channels' must be a list of {len(channels)} dicts, got "
            f"{type(value).__name__} of length {len(value) if hasattr(value, '__len__') else '-'}"
        ]
    problems: list[str] = []
    for channel, entry in zip(channels, value, strict=True):
        if not isinstance(entry, dict):
            problems.append(f"channel {channel.index}: not a dict")
            continue
        for name in FRONT_END_FIELDS:
            if name not in entry:
                continue
            try:
                setattr(channel, name, entry[name])
            except (traitlets.TraitError, TypeError, ValueError, OverflowError) as exc:
                problems.append(f"channel {channel.index} {name}: {str(exc)[:160]}")
    return problems
