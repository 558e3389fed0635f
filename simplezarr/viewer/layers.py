"""The layers of a viewer: one observable :class:`Layer` per image drawn, bottom to top.

``viewer.layers`` lists what the viewer draws, in order (the first at the
bottom). Layer 0 is the image the viewer was made with (``kind`` ``"image"``,
or ``"labels"`` for a label image opened on its own); the label images an
OME image lists in its ``labels`` group follow it, then whatever
:meth:`Viewer.add_image <simplezarr.viewer.Viewer.add_image>` and
:meth:`Viewer.add_labels <simplezarr.viewer.Viewer.add_labels>` added::

    v = Viewer(simplezarr.data.cells_3d())     # layer 0 and its labels "cells"
    v.layers[1].opacity = 0.3
    v.layers[1].outline = True                 # only the cells' boundaries
    v.add_image(processed, name="denoised")    # another pyramid, aligned in world units
    v.layers = [v.layers[2], v.layers[0], v.layers[1]]   # reorder

Each :class:`Layer` is a :class:`traitlets.HasTraits` (``visible``,
``opacity``, ``outline``; observable and linkable with ipywidgets); read-only:
``id`` (stable, 0 for the base image), ``name``, ``kind`` and, for an image
layer other than 0, ``channels`` (:class:`~.channels.Channel` objects, like
``viewer.channels`` for layer 0).

Syncing: the ``layers`` trait travels as a list of dicts
(:func:`layers_to_json`: ``id``, ``name``, ``kind``, ``visible``,
``opacity``, ``outline``, ``levels`` (the layer's own, in the base image's
world units), ``colors`` (``[[id, "#rrggbbaa"], ...]`` of a label layer's
``image-label`` colours) and ``channels`` (image layers but 0)); the front
end's layers panel writes the list back, possibly reordered, and
:func:`apply_layer_state` applies ``visible``, ``opacity``, ``outline``
(and the added image layers' channel state) to the same objects, and their
order. None of it sends a tile: the front end draws the layers it shows,
and its next ``viewport`` message names them (a hidden layer's tiles are
dropped then).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import traitlets

from .channels import Channel, apply_channel_state, channels_to_json

__all__ = ["LAYER_KINDS", "Layer", "apply_layer_state", "layers_to_json"]

LAYER_KINDS = ("image", "labels", "computed")
"""Values of :attr:`Layer.kind`."""

_FRONT_END_FIELDS = ("visible", "opacity", "outline")


class Layer(traitlets.HasTraits):
    """One layer of a viewer (see the module docstring).

    Parameters
    ----------
    id : int
        Stable id (0: the base image); tiles and messages name it.
    name : str
        The layer's name (the label image's name, ``add_image(name=...)``).
    kind : str
        ``"image"``, ``"labels"`` or ``"computed"``.
    visible : bool
        Whether it is drawn (and its tiles asked for).
    opacity : float
        0 (transparent) .. 1. Labels are drawn over what lies under with it;
        an image layer is blended over the layers under it.
    outline : bool
        Labels: draw only the boundaries between labels (1-2 screen pixels
        wide at any zoom).
    channels : sequence of Channel, optional
        An added image layer's channels (composited additively, like
        ``viewer.channels``).
    """

    name = traitlets.Unicode(read_only=True)
    kind = traitlets.Unicode(read_only=True)
    visible = traitlets.Bool(True)
    opacity = traitlets.Float(1.0)
    outline = traitlets.Bool(False)

    def __init__(
        self,
        id: int,
        name: str,
        kind: str,
        *,
        visible: bool = True,
        opacity: float = 1.0,
        outline: bool = False,
        channels: Sequence[Channel] = (),
    ) -> None:
        super().__init__()
        if kind not in LAYER_KINDS:
            raise ValueError(f"Layer(): kind {kind!r} is not one of {LAYER_KINDS!r}")
        self._id = int(id)
        self.set_trait("name", name)
        self.set_trait("kind", kind)
        self.visible = visible
        self.opacity = opacity
        self.outline = outline
        self._channels = list(channels)
        self._extra: dict[str, Any] = {}
        self._computed: Any = None  # a computed layer's ComputedImage
        self._subscription: Any = None  # its on_change registration

    @property
    def id(self) -> int:
        """The layer's id (0: the base image)."""
        return self._id

    @property
    def channels(self) -> list[Channel]:
        """An added image layer's channels (none for labels; layer 0's: ``viewer.channels``)."""
        return list(self._channels)

    @property
    def computed(self) -> Any:
        """A computed layer's :class:`~simplezarr.ComputedImage` (None for other kinds)."""
        return self._computed

    @property
    def fn(self) -> Any:
        """A computed layer's function; setting it recomputes what is shown.

        Raises ``AttributeError`` for a layer that is not computed.
        """
        if self._computed is None:
            raise AttributeError(f"Layer.fn: layer {self._id} {self.name!r} is not computed")
        return self._computed.fn

    @fn.setter
    def fn(self, fn: Any) -> None:
        if self._computed is None:
            raise AttributeError(f"Layer.fn: layer {self._id} {self.name!r} is not computed")
        self._computed.fn = fn

    def __repr__(self) -> str:
        extra = f", outline={self.outline}" if self.kind == "labels" else ""
        return (
            f"Layer({self._id}, {self.name!r}, kind={self.kind!r}, visible={self.visible}, "
            f"opacity={self.opacity:g}{extra})"
        )

    @traitlets.validate("opacity")
    def _valid_opacity(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise traitlets.TraitError(
                f"Layer.opacity: {proposal['value']!r} must be in [0, 1] (layer {self._id} "
                f"{self.name!r})"
            )
        return value


def layers_to_json(layers: Sequence[Layer], _widget: Any = None) -> list[dict[str, Any]]:
    """The ``layers`` trait as the front end gets it: one dict per layer, bottom to top."""
    out = []
    for layer in layers:
        entry: dict[str, Any] = {
            "id": layer.id,
            "name": layer.name,
            "kind": layer.kind,
            "visible": layer.visible,
            "opacity": layer.opacity,
            "outline": layer.outline,
        }
        entry.update(layer._extra)
        entry["channels"] = channels_to_json(layer._channels)
        out.append(entry)
    return out


def apply_layer_state(layers: Sequence[Layer], value: Any) -> tuple[list[Layer], list[str]]:
    """Apply the front end's ``layers`` list: the new order and what was refused.

    The list must name each layer once by ``id`` (else only the fields are
    applied, the order kept). A field that fails validation keeps its value,
    and is named in the result.
    """
    if not isinstance(value, list | tuple):
        return list(layers), [f"'layers' must be a list of dicts, got {type(value).__name__}"]
    by_id = {layer.id: layer for layer in layers}
    problems: list[str] = []
    order: list[Layer] = []
    for entry in value:
        key = entry.get("id") if isinstance(entry, dict) else None
        layer = by_id.get(key) if isinstance(key, int) else None
        if layer is None:
            problems.append(f"layer entry {str(entry)[:80]} names no layer")
            continue
        if layer not in order:
            order.append(layer)
        for name in _FRONT_END_FIELDS:
            if name not in entry:
                continue
            try:
                setattr(layer, name, entry[name])
            except (traitlets.TraitError, TypeError, ValueError, OverflowError) as exc:
                problems.append(f"layer {layer.id} {name}: {str(exc)[:160]}")
        if layer._channels and "channels" in entry:
            problems += [
                f"layer {layer.id} {p}"
                for p in apply_channel_state(layer._channels, entry["channels"])
            ]
    if len(order) != len(layers):
        return list(layers), problems
    return order, problems
