"""Live computed layers of a ``Viewer`` (a mixin of it): ``add_computed``.

``v.add_computed(fn, source=layer)`` draws ``fn(block) -> block`` of another
layer (or any image) over the layers so far. The layer is a
:class:`~simplezarr.ComputedImage` (:mod:`simplezarr.computed`) read through
a pool of its own (:meth:`ComputedImage.pool <simplezarr.ComputedImage.pool>`):
each chunk a view needs is computed when the view needs it, at the level in
view, on the computed image's threads (never on the kernel's loop), cached
like any chunk and dropped when out of view. A failing ``fn`` fails that
tile only: its ``tile_error`` carries the message, the view draws it hatched.

Replacing ``fn`` (``layer.fn = new_fn``): the computed image destroys its
pool's chunks and calls back (:meth:`ComputedImage.on_change
<simplezarr.ComputedImage.on_change>`); the viewer then, on the loop, closes
every view's streamer of that layer (announcing a ``drop`` of its tiles,
which stay drawn until replaced) and serves each view's last viewport again
with a new streamer, so what is shown is recomputed with ``new_fn`` under
the same tile keys.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from simplezarr.computed import ComputedImage

from ._layersource import LayerSource, align_layout
from ._layout import image_layout

if TYPE_CHECKING:
    from collections import OrderedDict

    from simplezarr.utils.chunkpool import ChunkPool

    from ._layout import ImageLayout
    from .layers import Layer
    from .tiles import TileStreamer

__all__ = ["ComputedLayers"]

logger = logging.getLogger("simplezarr")

_FN = "Viewer.add_computed()"


class ComputedLayers:
    """``add_computed`` and the refresh of a computed layer (see the module docstring)."""

    if TYPE_CHECKING:
        _pool: ChunkPool
        _layout: ImageLayout
        _memory: int
        _sources: dict[int, LayerSource]
        _own_layers: list[Layer]
        _layer_views: dict[str, dict[int, TileStreamer]]
        plane: str

        def _on_loop(self, fn: Callable[[], Any]) -> None: ...
        def _layer_streamer(self, view: str, layer_id: int) -> TileStreamer: ...
        def _streamer(self, view: str) -> TileStreamer: ...

        _streamers: OrderedDict[str, TileStreamer]

        def _image_layer(
            self,
            source: LayerSource,
            kind: str,
            visible: bool,
            opacity: float,
            contrast_limits: tuple[float, float] | None,
        ) -> Layer: ...

    def add_computed(
        self,
        fn: Callable[[Any], Any],
        *,
        source: Any = None,
        name: str | None = None,
        dtype: Any = None,
        halo: int = 0,
        client: Any = None,
        visible: bool = True,
        opacity: float = 1.0,
        contrast_limits: tuple[float, float] | None = None,
    ) -> Layer:
        """Draw ``fn(block) -> block`` of another layer, computed as it is viewed.

        Parameters
        ----------
        fn : callable
            Applied to each chunk the views need, at the level in view (see
            :class:`simplezarr.ComputedImage` for the block and shape rule).
            Replace it later with ``layer.fn = new_fn``: what is shown is
            computed again.
        source : Layer, ComputedImage or image source, optional
            What ``fn`` reads: a layer of this viewer (default: layer 0, the
            base image), a :class:`~simplezarr.ComputedImage` (its ``fn``
            is kept), or anything ``Viewer`` accepts as an image.
        name : str, optional
            The layer's name (default ``"<fn name>(<source name>)"``).
        dtype, halo, client
            As for :class:`~simplezarr.ComputedImage` (``client``: a
            ``dask.distributed.Client`` computing each chunk on its cluster).
        visible, opacity, contrast_limits
            As for :meth:`add_image`.

        Returns
        -------
        Layer
            Its ``kind`` is ``"computed"``; ``layer.fn`` and
            ``layer.computed`` (the :class:`~simplezarr.ComputedImage`).
        """
        upstream = self._source_info(source)
        image = ComputedImage(upstream, fn, dtype=dtype, halo=halo, client=client, name=name)
        info = image.multiscale_info
        base = (self._layout, self._pool.multiscale_info)
        layout = align_layout(_FN, base, (image_layout(info, self.plane or None), info))
        pool = image.pool(memory_budget=self._memory // 2, cache_size=64)
        layer_source = LayerSource(info, layout, pool, False, None, destroy_pool=True)
        layer = self._image_layer(layer_source, "computed", visible, opacity, contrast_limits)
        layer._computed = image
        layer_id = layer.id

        def changed(_image: ComputedImage) -> None:
            self._on_loop(lambda: self._refresh_layer(layer_id))

        layer._subscription = image.on_change(changed)
        return layer

    def _source_info(self, source: Any) -> Any:
        """What ``fn`` reads: a layer's image (a computed one: chained), or the source given."""
        from .layers import Layer

        if source is None:
            return self._pool.multiscale_info
        if isinstance(source, Layer):
            if source.id == 0:
                return self._pool.multiscale_info
            found = self._sources.get(source.id)
            if found is None or not any(la is source for la in self._own_layers):
                raise ValueError(f"{_FN}: {source!r} is not a layer of this viewer")
            return source.computed if source.computed is not None else found.info
        return source

    def _watch_base(self, source: Any) -> None:
        """A ``Viewer(ComputedImage)``: its views start over when ``fn`` is replaced."""
        if isinstance(source, ComputedImage):

            def changed(_image: ComputedImage) -> None:
                self._on_loop(self._refresh_base)

            self._base_subscription = source.on_change(changed)

    def _refresh_base(self) -> None:
        """The base image's ``fn`` changed: every view's base streamer starts over."""
        for view, old in list(self._streamers.items()):
            viewport, seq, channels = old._viewport, old.seq, old.channels
            old.close(announce=True)
            del self._streamers[view]
            new = self._streamer(view)
            if viewport is not None:
                new.update_viewport(viewport, seq, channels)

    def _refresh_layer(self, layer_id: int) -> None:
        """``fn`` changed: every view's streamer of the layer starts over (on the loop)."""
        for view, per_view in self._layer_views.items():
            old = per_view.get(layer_id)
            if old is None:
                continue
            viewport, seq, channels = old._viewport, old.seq, old.channels
            old.close(announce=True)
            new = per_view[layer_id] = self._layer_streamer(view, layer_id)
            if viewport is not None:
                new.update_viewport(viewport, seq, channels)
