"""The viewer's side of remembered views (a mixin of ``Viewer``): what is saved, and when.

:mod:`._persist` says where states live; this mixin turns a viewer into a
state (:meth:`RememberedView._view_state`: JSON, plain numbers and strings)
and back (:meth:`RememberedView._restore_state`, skipping what the caller
gave to ``Viewer()`` and anything that does not fit this image: a position
out of range, a channel count that differs, a layer of another name), and
saves it at most every :data:`~._persist.SAVE_EVERY` seconds on the kernel's
loop while it changes, and on ``close()``.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

from ._persist import SAVE_EVERY, ViewMemory, cell_context

if TYPE_CHECKING:
    import asyncio

    from ._layout import ImageLayout
    from .channels import Channel
    from .layers import Layer

__all__ = ["RememberedView"]

logger = logging.getLogger("simplezarr")

_STYLE = ("channel_mode", "colormap", "invert")
_CHANNEL = ("color", "contrast_limits", "gamma", "visible")
_LAYER = ("visible", "opacity", "outline")


class RememberedView:
    """Save and restore the view per notebook cell (see the module docstring)."""

    if TYPE_CHECKING:
        _loop: asyncio.AbstractEventLoop | None
        _layout: ImageLayout
        _closed: bool
        _fit_pending: bool
        _code_source: dict[str, Any]
        center: list[float]
        zoom: float
        position: dict[str, int]
        channels: list[Channel]
        layers: list[Layer]
        channel_mode: str
        colormap: str
        invert: bool

    _memory_of_view: ViewMemory | None = None
    _memory_key = ""
    _save_handle: Any = None
    _saved_state: dict[str, Any] | None = None

    def _init_memory(self, restore: bool, given: set[str]) -> None:
        """Find this cell's remembered view and apply it (call once the viewer is set up)."""
        context = cell_context() if restore else None
        if context is None:
            return
        notebook, cell = context
        self._memory_of_view = ViewMemory(notebook)
        self._memory_key = cell + "|" + "|".join(self._code_source.get("args", []))
        state = self._memory_of_view.load(self._memory_key)
        if state is not None:
            try:
                self._restore_state(state, given)
            except Exception:
                logger.exception("simplezarr Viewer: restoring the remembered view failed")
        self._saved_state = self._view_state()

    # -- state <-> viewer -------------------------------------------------------------

    def _view_state(self) -> dict[str, Any]:
        return {
            "center": [float(c) for c in self.center],
            "zoom": float(self.zoom),
            "fitted": bool(self._fit_pending),
            "position": {k: int(v) for k, v in self.position.items()},
            **{name: getattr(self, name) for name in _STYLE},
            "channels": [
                {
                    "color": c.color,
                    "contrast_limits": [float(v) for v in c.contrast_limits],
                    "gamma": float(c.gamma),
                    "visible": bool(c.visible),
                }
                for c in self.channels
            ],
            "layers": [
                {"name": layer.name, **{f: getattr(layer, f) for f in _LAYER}}
                for layer in self.layers
            ],
        }

    def _restore_state(self, state: dict[str, Any], given: set[str]) -> None:
        center, zoom = state.get("center"), state.get("zoom")
        if (
            not given & {"center", "zoom"}
            and not state.get("fitted", True)
            and _numbers(center, 2)
            and isinstance(zoom, (int, float))
            and math.isfinite(zoom)
            and zoom > 0
        ):
            self.center = [float(c) for c in center or ()]
            self.zoom = float(zoom)
            self._fit_pending = False
        position = state.get("position")
        if "position" not in given and isinstance(position, dict):
            sizes = {s.name: s.size for s in self._layout.sliders}
            fits = {
                k: int(v)
                for k, v in position.items()
                if k in sizes and isinstance(v, int) and 0 <= v < sizes[k]
            }
            if fits:
                self.position = {**self.position, **fits}
        for name in _STYLE:
            if name not in given and name in state:
                _try_set(self, name, state[name])
        channels = state.get("channels")
        if isinstance(channels, list) and len(channels) == len(self.channels):
            for channel, saved in zip(self.channels, channels, strict=True):
                if not isinstance(saved, dict):
                    continue
                for field in _CHANNEL:
                    if field in saved and not (
                        field == "contrast_limits" and "contrast_limits" in given
                    ):
                        _try_set(channel, field, saved[field])
        layers = state.get("layers")
        if isinstance(layers, list):
            for layer, saved in zip(self.layers, layers, strict=False):
                if isinstance(saved, dict) and saved.get("name") == layer.name:
                    for field in _LAYER:
                        if field in saved:
                            _try_set(layer, field, saved[field])

    # -- saving -----------------------------------------------------------------------

    def _remember_later(self) -> None:
        """The view changed: save it within SAVE_EVERY seconds (on the loop)."""
        if (
            self._memory_of_view is None
            or self._save_handle is not None
            or getattr(self, "_closed", True)
        ):
            return
        loop = self._loop
        if loop is None:
            return
        self._save_handle = loop.call_later(SAVE_EVERY, self._remember_now)

    def _remember_now(self) -> None:
        """Save the view now if it changed since the last save."""
        self._save_handle = None
        memory = self._memory_of_view
        if memory is None:
            return
        try:
            state = self._view_state()
        except Exception:
            logger.exception("simplezarr Viewer: reading the view to remember it failed")
            return
        if state != self._saved_state:
            memory.save(self._memory_key, state)
            self._saved_state = state

    def _forget_timer(self) -> None:
        handle, self._save_handle = self._save_handle, None
        if handle is not None:
            handle.cancel()


def _numbers(value: Any, n: int) -> bool:
    return (
        isinstance(value, list)
        and len(value) == n
        and all(isinstance(v, (int, float)) and math.isfinite(v) for v in value)
    )


def _try_set(obj: Any, name: str, value: Any) -> None:
    """Set a remembered value; one that no longer validates is skipped, with a debug line."""
    try:
        setattr(obj, name, value)
    except Exception as exc:
        logger.debug("simplezarr Viewer: remembered %s=%r not restored: %s", name, value, exc)
