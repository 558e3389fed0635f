"""Keep viewers in step: :func:`link` (raw beside processed, two acquisitions, ...).

``simplezarr.link(v1, v2, camera=True, position=True, display=False)``
observes the traits of every viewer and writes each change to the others:

- ``camera``: ``center`` (world units, copied as is) and ``zoom``. ``zoom``
  is CSS pixels per level-0 pixel, so it is converted by the ratio of the
  viewers' level-0 pixel sizes: two images of different resolution show the
  same world extent.
- ``position``: the non-displayed axes. A spatial axis (``z``) is matched in
  world units (its level-0 scale and offset), rounded to the nearest plane
  and kept in range; any other axis (``t``, ``c``) by index, when the other
  viewer has that index.
- ``display``: ``channel_mode``, ``colormap``, ``invert``, ``nan_color``
  and, when both have as many channels, each channel's ``contrast_limits``,
  ``gamma``, ``color`` and ``visible``.

Everything goes through the viewers' traits, which sync with their views as
any Python change does; the front ends need nothing. A write caused by the
link is not linked back (a guard), so there is no echo. Because they are
plain traits, ``ipywidgets.jslink((v1, "center"), (v2, "center"))`` links
cameras in the browser alone too (same image grid, no conversion).

``link`` returns a :class:`ViewLink`; :meth:`ViewLink.unlink` removes every
observer. Closing a viewer does not unlink; its link is then inert.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .widget import Viewer

__all__ = ["ViewLink", "link"]

_CAMERA = ("center", "zoom")
_DISPLAY = ("channel_mode", "colormap", "invert", "nan_color")
_CHANNEL_FIELDS = ("contrast_limits", "gamma", "color", "visible")


class ViewLink:
    """Viewers kept in step by :func:`link`; call :meth:`unlink` to stop."""

    def __init__(
        self, viewers: tuple[Viewer, ...], *, camera: bool, position: bool, display: bool
    ) -> None:
        self.viewers = viewers
        self.camera = camera
        self.position = position
        self.display = display
        self._busy = False
        self._undo: list[Callable[[], None]] = []
        for viewer in viewers:
            names: list[str] = []
            if camera:
                names += _CAMERA
            if position:
                names.append("position")
            if display:
                names += _DISPLAY
            if names:
                self._observe(viewer, self._on_viewer_change, names)
            if display:
                for channel in viewer.channels:
                    self._observe(channel, self._on_channel_change, list(_CHANNEL_FIELDS))

    def _observe(
        self, obj: Any, handler: Callable[[dict[str, Any]], None], names: list[str]
    ) -> None:
        obj.observe(handler, names=names)
        self._undo.append(lambda: obj.unobserve(handler, names=names))

    def unlink(self) -> None:
        """Stop keeping the viewers in step."""
        for undo in self._undo:
            undo()
        self._undo.clear()

    # -- propagation ------------------------------------------------------------

    def _on_viewer_change(self, change: dict[str, Any]) -> None:
        if self._busy:
            return
        source: Viewer = change["owner"]
        self._busy = True
        try:
            for target in self.viewers:
                if target is not source:
                    _copy(source, target, change["name"])
        finally:
            self._busy = False

    def _on_channel_change(self, change: dict[str, Any]) -> None:
        if self._busy:
            return
        channel = change["owner"]
        source = next((v for v in self.viewers if channel in v.channels), None)
        if source is None:
            return
        index = source.channels.index(channel)
        self._busy = True
        try:
            for target in self.viewers:
                if target is not source and len(target.channels) == len(source.channels):
                    setattr(target.channels[index], change["name"], change["new"])
        finally:
            self._busy = False


def _copy(source: Viewer, target: Viewer, name: str) -> None:
    """Write ``source``'s trait ``name`` to ``target``, converted where units differ."""
    if name == "center":
        target.center = list(source.center)
    elif name == "zoom":
        if source.zoom == 0:
            target.zoom = 0.0
        else:
            target.zoom = source.zoom * _pixel_size(target) / _pixel_size(source)
    elif name == "position":
        new = _convert_position(source, target)
        if new != target.position:
            target.position = new
    else:
        setattr(target, name, getattr(source, name))


def _pixel_size(viewer: Viewer) -> float:
    """World units per level-0 pixel along x."""
    return float(viewer._layout.levels[0].scale[1])


def _convert_position(source: Viewer, target: Viewer) -> dict[str, int]:
    """``target``'s position that shows what ``source``'s shows (see the module docstring)."""
    src = {s.name: (i, s) for i, s in enumerate(source._layout.sliders)}
    out = dict(target.position)
    for j, slider in enumerate(target._layout.sliders):
        if slider.name not in src or slider.name not in source.position:
            continue
        i, src_slider = src[slider.name]
        index = int(source.position[slider.name])
        if slider.type == "space" and src_slider.type == "space":
            s_scale, s_offset, _, _ = source._layout.slider_levels[0][i]
            t_scale, t_offset, _, _ = target._layout.slider_levels[0][j]
            world = s_offset + index * s_scale
            value = (world - t_offset) / t_scale if t_scale else 0.0
            out[slider.name] = min(max(round(value), 0), slider.size - 1)
        elif 0 <= index < slider.size:
            out[slider.name] = index
    return out


def link(
    *viewers: Viewer, camera: bool = True, position: bool = True, display: bool = False
) -> ViewLink:
    """Keep ``viewers`` in step: camera, slider position, and optionally the display.

    Parameters
    ----------
    *viewers : Viewer
        Two or more viewers (of the same image or of aligned images).
    camera : bool
        Link ``center`` and ``zoom`` (zoom converted by level-0 pixel size).
    position : bool
        Link the non-displayed axes (spatial ones in world units).
    display : bool
        Link channel mode, colormap, invert, NaN colour and, between images
        with as many channels, every channel's contrast, gamma, colour and
        visibility.

    Returns
    -------
    ViewLink
        Call ``.unlink()`` to stop. The viewers start from the first one's
        state.
    """
    from .widget import Viewer

    if len(viewers) < 2:
        raise ValueError(f"link(): give at least two viewers, not {len(viewers)}")
    for v in viewers:
        if not isinstance(v, Viewer):
            raise TypeError(f"link(): {v!r} is not a simplezarr Viewer")
    if len({id(v) for v in viewers}) != len(viewers):
        raise ValueError("link(): the same viewer is given twice")
    result = ViewLink(tuple(viewers), camera=camera, position=position, display=display)
    first = viewers[0]
    result._busy = True
    try:
        for target in viewers[1:]:
            names: list[str] = []
            if camera:
                names += _CAMERA
            if position:
                names.append("position")
            if display:
                names += _DISPLAY
            for name in names:
                _copy(first, target, name)
            if display and len(target.channels) == len(first.channels):
                for a, b in zip(first.channels, target.channels, strict=True):
                    for field in _CHANNEL_FIELDS:
                        setattr(b, field, getattr(a, field))
    finally:
        result._busy = False
    return result
