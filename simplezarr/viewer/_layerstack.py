"""The layers of a ``Viewer`` (a mixin of it): the ``layers`` trait, ``add_image``, ``add_labels``.

Layer 0 is the viewer's own image, served by the streamers of
:mod:`._routing` as before. Every other layer (:mod:`.layers`) has a
:class:`~._layersource.LayerSource` (its own pool, lined up with the base
image) and, per view that shows it, a :class:`~.tiles.TileStreamer` of its
own (a user of that pool), made when a ``viewport`` message first lists the
layer and closed, its tiles dropped, when one no longer does. A
:class:`~._probe.Prober` per layer answers probes with the layer's values
(and a label's ``image-label`` properties).

Budgets: ``max_tiles`` and the per-view half of ``memory`` are split evenly
between the layers (each streamer's :class:`~._layout.ViewBudget` gets its
share, re-split when a layer is added); each added layer's pool has a memory
budget of half of ``memory`` (its cache gives way first; held chunks are
bounded by the views' shares).

Threads: everything here runs on the loop thread (or the caller's without
a loop), like :mod:`._routing`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

import numpy as np
import traitlets

from ._defaults import channel_defaults, provisional_limits
from ._layersource import (
    LabelMetadata,
    LayerSource,
    discover_labels,
    open_layer_source,
    slider_mapper,
)
from ._layout import ImageLayout, levels_trait
from ._probe import Prober
from ._protocol import MAX_LAYERS, LayerChannels
from ._registry import release_pool
from ._stats import ChannelStatistics, StatsResult
from .channels import Channel
from .layers import Layer, apply_layer_state, layers_to_json
from .tiles import TileStreamer

if TYPE_CHECKING:
    import asyncio

    from simplezarr.utils.chunkpool import ChunkPool
    from simplezarr.utils.multiscale import MultiscaleInfo

    from ._failures import FailureLog

__all__ = ["LayerStack"]

logger = logging.getLogger("simplezarr")

DEFAULT_LABEL_OPACITY = 0.5
"""Opacity of a label layer unless given."""


def _layers_from_json(value: Any, widget: LayerStack) -> list[Layer]:
    return widget._apply_front_end_layers(value)


class LayerStack(traitlets.HasTraits):
    """The layers of a ``Viewer`` (see the module docstring)."""

    layers = traitlets.List(traitlets.Instance(Layer)).tag(
        sync=True, to_json=layers_to_json, from_json=_layers_from_json
    )

    if TYPE_CHECKING:
        _closed: bool
        _pool: ChunkPool
        _layout: ImageLayout
        _call_soon: Callable[..., Any] | None
        _loop: asyncio.AbstractEventLoop | None
        _executor: Executor | None
        _failures: FailureLog
        _margin: float
        _max_tiles: int
        _view_bytes: int
        _memory: int
        _streamers: Any
        position: dict[str, int]

        def _send_message(self, message: dict[str, Any], buffers: list[bytes]) -> None: ...

    # -- set up --------------------------------------------------------------------------

    def _init_layers(self, labels: bool) -> None:
        """Layer 0 and (with ``labels``) the image's own label images (before the widget opens)."""
        self._sources: dict[int, LayerSource] = {}
        self._probers: dict[int, Prober] = {}
        self._layer_stats: dict[int, ChannelStatistics] = {}
        self._layer_views: dict[str, dict[int, TileStreamer]] = {}
        self._next_layer = 1
        self._base_labels: LabelMetadata | None = None
        info = self._pool.multiscale_info
        base = Layer(0, info.name or "image", "labels" if info.is_labels else "image")
        base._extra = {"levels": levels_trait(self._layout), "colors": []}
        if info.is_labels:
            from ._layersource import label_metadata

            meta = label_metadata(info)
            base._extra["colors"] = [[k, v] for k, v in meta.colors.items()]
            self._base_labels = meta
            base.opacity = 1.0
        base.observe(self._layer_changed)
        self._own_layers = [base]
        self.layers = [base]
        if labels and not info.is_labels:
            for label_info in discover_labels(info):
                try:
                    self.add_labels(label_info, name=label_info.name)
                except (ValueError, TypeError) as exc:
                    logger.warning(
                        "simplezarr Viewer: label image %r not shown: %s", label_info.name, exc
                    )

    # -- public --------------------------------------------------------------------------

    def add_image(
        self,
        source: Any,
        *,
        name: str | None = None,
        image: int | str = 0,
        storage_options: dict[str, Any] | None = None,
        visible: bool = True,
        opacity: float = 1.0,
        contrast_limits: tuple[float, float] | None = None,
    ) -> Layer:
        """Draw another multiscale image over the layers so far; return its :class:`Layer`.

        Parameters
        ----------
        source : path, URL, store, zarr node, numpy array, MultiscaleInfo or ChunkPool
            The image (another pyramid, scale or translation: placed by its
            own OME coordinate transforms, in the base image's world units).
        name : str, optional
            The layer's name (default: the image's).
        image, storage_options
            As for ``Viewer``.
        visible, opacity
            Its starting state (opacity 0..1: blended over what lies under).
        contrast_limits : (float, float), optional
            Every channel's starting window (default: ``omero``, else the
            0.5/99.5 percentiles of a coarse sample, read off the loop).

        Raises
        ------
        ValueError
            Its displayed axes or units cannot be matched with the base
            image's (both named), or the viewer already has its most layers.
        """
        source_ = self._open_layer(
            "Viewer.add_image()", source, False, name, image, storage_options
        )
        return self._image_layer(source_, "image", visible, opacity, contrast_limits)

    def add_labels(
        self,
        source: Any,
        *,
        name: str | None = None,
        image: int | str = 0,
        storage_options: dict[str, Any] | None = None,
        visible: bool = True,
        opacity: float = DEFAULT_LABEL_OPACITY,
        outline: bool = False,
    ) -> Layer:
        """Draw a label image over the layers so far; return its :class:`Layer`.

        Parameters
        ----------
        source : path, URL, store, zarr node, integer numpy array, MultiscaleInfo or ChunkPool
            Labels on the base image's pixel grid: an OME label image (its
            own pyramid, written by mode or nearest), or an integer array of
            the image's level-0 shape (without channel axis).
        name : str, optional
            The layer's name (default: the image's).
        image, storage_options
            As for ``Viewer``.
        visible, opacity, outline
            Its starting state (``outline``: only the boundaries).

        Raises
        ------
        ValueError
            The labels do not lie on the image's grid (shape, scale or
            translation named), or the viewer already has its most layers.
        TypeError
            The labels are not integers.
        """
        source_ = self._open_layer(
            "Viewer.add_labels()", source, True, name, image, storage_options
        )
        layer = self._new_layer(source_, "labels", visible, opacity, outline, [])
        meta = source_.labels
        layer._extra["colors"] = [[k, v] for k, v in meta.colors.items()] if meta else []
        self._send_layers()
        return layer

    # -- internals: layers -----------------------------------------------------------------

    def _image_layer(
        self,
        source: LayerSource,
        kind: str,
        visible: bool,
        opacity: float,
        contrast_limits: tuple[float, float] | None,
    ) -> Layer:
        """An image (or computed) layer: its channels from the metadata, then its statistics."""
        info, layout = source.info, source.layout
        dtype = np.dtype(info.scales[0].dtype)
        channels: list[Channel] = []
        auto: dict[int, list[float]] = {}
        for i, d in enumerate(channel_defaults(info)):
            limits = list(contrast_limits) if contrast_limits is not None else d.contrast_limits
            if limits is None:
                limits = auto[i] = provisional_limits(dtype)
            channel = Channel(
                i,
                d.name,
                color=d.color if layout.channel_count > 1 else "#ffffff",
                contrast_limits=limits,
                gamma=d.gamma,
                visible=d.visible,
                range=d.range if d.range is not None else limits,
            )
            channels.append(channel)
        layer = self._new_layer(source, kind, visible, opacity, False, channels)
        names = ["color", "contrast_limits", "gamma", "visible"]
        for channel in channels:
            channel.observe(lambda _change: self._send_layers(), names=names)
        if auto:
            self._layer_defaults(layer, source, auto)
        return layer

    def _open_layer(
        self,
        fn: str,
        source: Any,
        labels: bool,
        name: str | None,
        image: int | str,
        storage_options: dict[str, Any] | None,
    ) -> LayerSource:
        if self._closed:
            raise RuntimeError(f"{fn}: the viewer is closed")
        if len(self._own_layers) >= MAX_LAYERS:
            raise ValueError(
                f"{fn}: the viewer has {len(self._own_layers)} layers, the most it shows"
            )
        info: MultiscaleInfo = self._pool.multiscale_info
        return open_layer_source(
            fn,
            source,
            base=(self._layout, info),
            labels=labels,
            name=name,
            image=image,
            storage_options=storage_options,
            memory=self._memory // 2,
            plane=getattr(self, "plane", "") or None,
        )

    def _new_layer(
        self,
        source: LayerSource,
        kind: str,
        visible: bool,
        opacity: float,
        outline: bool,
        channels: list[Channel],
    ) -> Layer:
        layer_id = self._next_layer
        self._next_layer += 1
        layer = Layer(
            layer_id,
            source.info.name or f"layer {layer_id}",
            kind,
            visible=visible,
            opacity=opacity,
            outline=outline,
            channels=channels,
        )
        layer._extra = {"levels": levels_trait(source.layout), "colors": []}
        self._sources[layer_id] = source
        meta = source.labels
        self._probers[layer_id] = Prober(
            source.pool,
            source.layout,
            self._send_message,
            call_soon_threadsafe=self._call_soon,
            layer=layer_id,
            properties=(lambda value: meta.properties.get(value))
            if meta and meta.properties
            else None,
        )
        layer.observe(self._layer_changed)
        self._own_layers = [*self._own_layers, layer]
        self._rebudget()
        self.layers = list(self._own_layers)
        return layer

    def _layer_defaults(
        self, layer: Layer, source: LayerSource, auto: dict[int, list[float]]
    ) -> None:
        stats = ChannelStatistics(
            source.pool, source.layout, loop=self._loop, executor=self._executor
        )
        self._layer_stats[layer.id] = stats

        def apply(result: StatsResult) -> None:
            for c, s in result.items():
                channel = layer._channels[c]
                if channel.contrast_limits == auto.get(c):
                    channel.contrast_limits = s.limits
                channel.set_trait("range", s.range)
                channel.set_trait("histogram", s.histogram)
            self._send_layers()

        position = slider_mapper(self._layout, source.layout)(self.position)
        stats.compute(
            "defaults",
            sorted(auto),
            position,
            apply,
            purpose=f"to choose the contrast limits of layer {layer.name!r}",
            fallback=f"using {next(iter(auto.values()))}",
        )

    def _layer_changed(self, change: dict[str, Any]) -> None:
        self._send_layers()

    def _send_layers(self) -> None:
        comm = getattr(self, "comm", None)
        if comm is None or not hasattr(self, "_property_lock"):
            return
        widget: Any = self
        if widget._should_send_property("layers", self.layers):
            widget.send_state("layers")

    def _apply_front_end_layers(self, value: Any) -> list[Layer]:
        """``from_json`` of ``layers``: apply the front end's list to the same objects."""
        order, problems = apply_layer_state(self._own_layers, value)
        if problems:
            logger.warning(
                "simplezarr Viewer: the front end's layers were refused in part: %s",
                "; ".join(problems[:4]),
            )
        return order

    @traitlets.validate("layers")
    def _valid_layers(self, proposal: dict[str, Any]) -> list[Layer]:
        value = list(proposal["value"])
        own = getattr(self, "_own_layers", None)
        if own is not None and (
            len(value) != len(own) or {id(v) for v in value} != {id(o) for o in own}
        ):
            raise traitlets.TraitError(
                "Viewer.layers: only the order may change (a permutation of the same layers); "
                "add layers with add_image() or add_labels()"
            )
        return value

    def _rebudget(self) -> None:
        """Split ``max_tiles`` and the per-view memory between the layers."""
        n = max(1, len(self._own_layers))
        chunks, nbytes = max(1, self._max_tiles // n), max(1, self._view_bytes // n)
        streamers = list(self._streamers.values())
        for per_view in self._layer_views.values():
            streamers += list(per_view.values())
        for streamer in streamers:
            streamer._budget.max_chunks = chunks
            streamer._budget.max_bytes = nbytes

    def _layer_budget(self) -> tuple[int, int]:
        n = max(1, len(getattr(self, "_own_layers", ())) or 1)
        return max(1, self._max_tiles // n), max(1, self._view_bytes // n)

    def _layer_channel_counts(self) -> dict[int, int]:
        return {i: s.layout.channel_count for i, s in self._sources.items()}

    # -- internals: the views' layer streamers -------------------------------------------------

    def _serve_layers(
        self, view: str, layers: tuple[LayerChannels, ...], viewport: Any, seq: int
    ) -> None:
        """A view's viewport names the layers it shows: serve them, drop the others' tiles."""
        per_view = self._layer_views.setdefault(view, {})
        wanted = {entry.layer: entry for entry in layers}
        for layer_id in [i for i in per_view if i not in wanted]:
            per_view.pop(layer_id).close(announce=True)
        for layer_id, entry in wanted.items():
            streamer = per_view.get(layer_id)
            if streamer is None:
                streamer = per_view[layer_id] = self._layer_streamer(view, layer_id)
            streamer.update_viewport(viewport, seq, entry.channels)

    def _layer_streamer(self, view: str, layer_id: int) -> TileStreamer:
        source = self._sources[layer_id]
        chunks, nbytes = self._layer_budget()
        return TileStreamer(
            source.pool,
            source.layout,
            view,
            self._send_message,
            call_soon_threadsafe=self._call_soon,
            executor=self._executor,
            position=self.position,
            channels=[0],
            margin=self._margin,
            max_chunks=chunks,
            max_bytes=nbytes,
            failures=self._failures,
            layer=layer_id,
            labels=source.labels is not None,
            base=self._layout,
            to_layer=slider_mapper(self._layout, source.layout),
        )

    def _layer_streamers(self) -> list[TileStreamer]:
        return [s for per_view in self._layer_views.values() for s in per_view.values()]

    def _close_layer_view(self, view: str, *, announce: bool = False) -> None:
        for streamer in self._layer_views.pop(view, {}).values():
            streamer.close(announce=announce)
        for prober in self._probers.values():
            prober.forget(view)

    def _probe_layers(self, view: str, probe_id: int, world: tuple[float, float]) -> None:
        for layer_id, streamer in self._layer_views.get(view, {}).items():
            prober = self._probers.get(layer_id)
            if prober is not None:
                prober.request(view, probe_id, world, streamer.position, streamer.channels)

    def _move_layers(self, position: Mapping[str, int]) -> None:
        for streamer in self._layer_streamers():
            streamer.set_position(position)

    def _close_layers(self) -> None:
        if not hasattr(self, "_layer_views"):
            return  # closed before its layers were made (a failed construction)
        for view in list(self._layer_views):
            self._close_layer_view(view)
        for prober in self._probers.values():
            prober.close()
        for stats in self._layer_stats.values():
            stats.close()
        for layer in self._own_layers:
            if layer._subscription is not None:
                layer._subscription.remove()
        base = getattr(self, "_base_subscription", None)
        if base is not None:
            base.remove()
        for source in self._sources.values():
            if source.owns_pool:
                release_pool(source.pool)
            elif source.destroy_pool:
                source.pool.destroy()
        self._sources.clear()

    async def _layers_settled(self) -> None:
        for stats in list(self._layer_stats.values()):
            await stats.settled()
        for prober in list(self._probers.values()):
            await prober.settled()
        for streamer in self._layer_streamers():
            await streamer.wait_idle()
