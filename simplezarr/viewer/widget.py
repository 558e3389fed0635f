"""The :class:`Viewer` widget: traitlets and message routing, nothing else.

``Viewer`` is an :class:`anywidget.AnyWidget`. Slow-changing state lives in
traitlets (synced with the front end, observable and linkable with
ipywidgets); the work happens in the layers below it:

- the source is opened read-only and its metadata read into a
  :class:`~simplezarr.utils.MultiscaleInfo` (:mod:`._source`);
- one :class:`~simplezarr.utils.ChunkPool` holds the chunks of all views;
- each rendered view (a widget shown in two cells has two) gets its own
  :class:`~.tiles.TileStreamer`, created on the view's ``ready`` message and
  closed on its ``close`` message; messages name their ``view``;
- messages are routed to the views by the :class:`~._routing.MessageRouting`
  mixin; how the image is drawn (channels, channel mode, colormap, contrast)
  is the :class:`~._display.DisplayTraits` mixin; its statistics (default contrast,
  histograms, auto contrast) come from :class:`~._stats.ChannelStatistics`
  and the value under the cursor from :class:`~._probe.Prober`.

Protocol: :mod:`._protocol`, version :data:`~._protocol.PROTOCOL_VERSION`
(the ``protocol_version`` trait). A view whose ``ready`` names another
version is warned about (both versions named) and not served.

Threads: when the viewer is created with a running asyncio loop (a notebook
cell), the pool's load handlers and all streamer work run on that loop
(``loop.call_soon_threadsafe``), PNGs and statistics are computed on a small
thread pool owned by the viewer, and only the loop calls :meth:`send`.
Without a running loop (plain Python) the streamers are in sync mode: call
:meth:`Viewer.flush_now` to produce the tiles of the views' current viewports.

Bad input never raises out of the message handler: a malformed message is
logged as a warning naming it and ignored (:mod:`._protocol` parses with
bounds; :func:`~.geometry.clamp_viewport` keeps the geometry finite); a
user's observer that raises is logged; nothing else a message triggers can
raise out of it either (it is logged with its traceback).

Memory: ``memory`` bounds the pool's held and cached chunk data (its
``memory_budget``), and one view may want at most half of it at once (its
chunks nearest the centre; the rest of a view too large for it stays empty,
and a warning says so).

Lifetime: a closed viewer holds nothing that outlives it; once unreferenced,
it, its pool and its image are garbage (the front-end bundle is read once per
process and given to anywidget as text: a ``Path`` would make anywidget keep
a file-watch callback that references every instance forever). ipywidgets
keeps every *open* widget in its registry, so an unreferenced viewer that was
never closed stays alive: :meth:`Viewer.close` frees it.

Camera before the first render: ``center``, ``zoom`` and ``level`` are true
from construction. Unless ``center`` or ``zoom`` was given, they are a fit of
the image to a view of ``height`` x :data:`DEFAULT_VIEW_WIDTH` CSS pixels at a
device pixel ratio of 1, and the private synced trait ``_fit_pending`` is True:
the first view to render fits the image to its real size and writes back
``center``, ``zoom`` and ``_fit_pending = False``. Setting ``center`` or
``zoom`` from Python after construction sets ``_fit_pending`` False (the
camera asked for is kept); ``zoom = 0`` still means "fit now".
"""

from __future__ import annotations

import asyncio
import logging
import math
import pathlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anywidget
import numpy as np
import traitlets

from simplezarr.utils.chunkpool import ChunkPool
from simplezarr.utils.multiscale import MultiscaleInfo

from ._computedlayer import ComputedLayers
from ._defaults import COLORMAPS, NAN_TRANSPARENT
from ._display import DisplayTraits
from ._export import ExportMixin
from ._failures import DEFAULT_RETRY_AFTER, FailureLog
from ._iostats import IoStatsPublisher
from ._layerstack import LayerStack
from ._layout import image_layout, levels_trait, sliders_trait
from ._overview import OverviewPublisher
from ._probe import Prober
from ._registry import release_pool
from ._restore import RememberedView
from ._routing import MessageRouting
from ._source import code_source, open_pool
from ._stats import ChannelStatistics
from .geometry import clamp_center, provisional_camera
from .tiles import TileStreamer

__all__ = ["COLORMAPS", "DEFAULT_MEMORY", "DEFAULT_VIEW_WIDTH", "Viewer"]

logger = logging.getLogger("simplezarr")

DEFAULT_MEMORY = 512 << 20
"""Default ``Viewer(memory=...)``: bytes of chunk data the pool may hold and cache."""

DEFAULT_VIEW_WIDTH = 800.0
"""View width in CSS pixels assumed for the camera until a view renders and fits."""

_ESM_PATH = pathlib.Path(__file__).resolve().parent.parent / "static" / "widget.js"
_BUNDLE_FOUND = _ESM_PATH.is_file()
_MISSING_BUNDLE_JS = (
    "export default { render({ el }) { el.textContent = "
    "'simplezarr: the front-end bundle simplezarr/static/widget.js is missing; "
    "run `npm install && npm run build` (or `pip install -e .`) and restart the kernel'; } };\n"
)


def _bundle_text() -> str:
    """The bundle's text, read once per process (see the module docstring: no ``Path``).

    It always holds a newline, so anywidget never mistakes it for a file name.
    """
    if not _BUNDLE_FOUND:
        return _MISSING_BUNDLE_JS
    text = _ESM_PATH.read_text(encoding="utf-8")
    return text if "\n" in text else text + "\n"


class Viewer(
    ExportMixin,
    RememberedView,
    ComputedLayers,
    LayerStack,
    DisplayTraits,
    MessageRouting,
    anywidget.AnyWidget,
):
    """A tiled, multiscale 2D view of a (huge) zarr image in a notebook.

    Parameters
    ----------
    source : str, path, store, zarr.Group, zarr.Array, numpy.ndarray, MultiscaleInfo or ChunkPool
        What to show. A path or URL is opened read-only; a zarr node is read
        as is; a numpy array is wrapped in an in-memory zarr array (an
        ``(H, W, 3)`` or ``(H, W, 4)`` uint8 array is RGB(A)). A
        ``ChunkPool`` is shared, not owned: :meth:`close` leaves it alive
        (made in a running loop, the viewer switches the pool's load
        handlers to that loop).
    image : int or str
        Which image when the source holds several (index, path or name).
    storage_options : dict, optional
        For a URL source: passed to fsspec, e.g. ``{"anon": True}`` for a
        public S3 bucket, or credentials and ``client_kwargs``.
    level_cache : int, optional
        Chunks the pool keeps after every view dropped them (its
        ``cache_size``). Default: as many level-0 chunks as fit in about
        256 MB (at least 16).
    memory : int, optional
        Bytes of decoded chunk data the pool may hold and cache together (its
        ``memory_budget``); one view wants at most half of it at once.
        Default :data:`DEFAULT_MEMORY` (512 MB). Ignored for a shared
        ``ChunkPool`` source.
    contrast_limits : (float, float), optional
        The starting contrast limits of every channel, in data units.
        Default per channel: its ``omero`` window, else the 0.5 and 99.5
        percentiles of the coarsest level (read off the loop; until they
        arrive, or if the read fails, the dtype's range). Without a loop,
        ``Viewer()`` waits for them at most the pool's read timeout.
    colormap : str, optional
        Single-channel mode's colormap: ``"gray"`` (default), ``"viridis"``,
        ``"magma"``, ``"inferno"``, ``"plasma"``, ``"cividis"``, ``"turbo"``,
        each also reversed (``"viridis_r"``), a colour name (``"red"``,
        ``"green"``, ``"blue"``, ``"cyan"``, ``"magenta"``, ``"yellow"``) or
        ``"#rrggbb"`` (black-to-colour ramps).
    gamma : float, optional
        The starting display gamma of every channel (default 1).
    rgb : bool, optional
        ``None`` (default): a uint8 image with a 3- or 4-long channel axis
        and no ``omero`` metadata shows in true colour (channels red, green,
        blue in ``[0, 255]``, alpha hidden). ``False``: never; ``True``:
        always (for an image with a 3- or 4-long channel axis).
    channel_mode : str, optional
        ``"composite"`` (the visible channels added, each in its colour) or
        ``"single"`` (the channel at ``position["c"]`` through
        ``colormap``). Default: composite when the image has more than one
        channel.
    invert : bool
        Single mode: reverse the colormap.
    nan_color : str
        How NaN pixels are drawn: ``"transparent"`` (default) or ``"#rrggbb"``.
    height : int
        Height of the view in CSS pixels.
    show_tiles : bool
        Outline every drawn tile, in one colour per level (level 0 yellow,
        1 cyan, 2 magenta, 3 lime, ...), with a legend of the levels on
        screen. The toolbar's "Tiles" button and the ``t`` key toggle it too.
    scale_bar : bool
        Show a scale bar (bottom right): a round length (1, 2 or 5 times a
        power of ten, in nm, µm, mm, ...) re-chosen as you zoom.
    show_channels : bool
        Open the channel panel below the view (per channel: visibility,
        colour, contrast window over a histogram, auto; colormap, gamma and
        invert for one channel). Its toggle writes this trait too.
    show_stats : bool
        Show the I/O and cache panel (the numbers of :attr:`stats`) over the
        view. The toolbar's "I/O" button toggles it too.
    show_chunks : bool
        Draw the chunk grid of the level in use over the image, each chunk
        coloured by its state in the pool (held, cached, loading, failed),
        with a legend. The toolbar's "Chunks" button toggles it too.
    position : mapping, optional
        Level-0 index per non-displayed axis (see :attr:`sliders`).
    center : (float, float), optional
        Camera centre ``[y, x]`` in world units, kept on the image; default
        the image centre.
    zoom : float, optional
        CSS pixels per level-0 pixel along x. Default (or 0): fit the image.
    margin : float
        Band around each view that is fetched too, as a fraction of its extent.
    max_tiles : int
        Most tiles (chunk x channel) one view wants at once.
    encode_threads : int
        Threads that encode PNGs and compute statistics.
    max_views : int
        Views served at once; the least recently active ones beyond it are
        closed (a view whose cell was cleared never says ``close``).
    retry_after : float
        Seconds before a chunk whose read failed may be read again; a retry
        happens only on a later viewport message that still wants it.
    labels : bool
        Show the label images listed in the image's OME ``labels`` group as
        layers over it (default True).
    plane : str, optional
        The two axes shown, horizontal first: ``"xz"`` shows x across and
        z down, ``"zy"`` z across and y down (default: the last two spatial
        axes, x across and y down). Pixels are drawn at their physical
        aspect, so anisotropic voxels look right.
    crosshair : (float, float), optional
        A cross drawn at world ``[y, x]`` of the view (``[]``: none; default).
        Set by :class:`~simplezarr.viewer.ortho.OrthoViewer`; a click in a
        view that has a cross moves it there.
    show_minimap : bool
        A small overview of the whole image (bottom right, drawn in the
        kernel with the current display) with the part on screen outlined;
        click or drag it to move there. Hidden while the whole image is on
        screen.
    restore : bool
        In a notebook cell (JupyterLab, Notebook 7): remember this view —
        camera, position, display, layers — and when a viewer of the same
        image is made again in the same cell (after reopening the notebook
        or restarting the kernel), start from it; what you pass here wins.
        ``False``: neither remember nor restore. See
        :mod:`simplezarr.viewer._persist`.
    share_pool : bool
        Share one pool with every other viewer of the same image in this
        process (default): a chunk is read once for all of them, and
        ``level_cache``/``memory`` are those of the first. ``False``: a
        pool of this viewer's own.

    Notes
    -----
    Channels: :attr:`channels` holds one :class:`~simplezarr.viewer.channels.Channel`
    per channel (``name``, ``color``, ``contrast_limits``, ``gamma``,
    ``visible``; observable and linkable with ipywidgets, and synced both
    ways with the front end's channel panel). Changing them sends no tile.
    ``contrast_limits`` and ``gamma`` of the viewer are aliases of the
    current channel's (the one at ``position["c"]``), kept for code written
    before channels. :meth:`auto_contrast` sets the limits from the data on
    screen.

    Layers: :attr:`layers` lists what is drawn, bottom to top (a
    :class:`~simplezarr.viewer.layers.Layer` each: ``visible``, ``opacity``,
    ``outline`` for labels): the image, its OME label images, and what
    :meth:`add_image`, :meth:`add_labels` and :meth:`add_computed` (``fn``
    of another layer, computed chunk by chunk as it is viewed) added. A
    label image opened on its own is drawn as labels. Each layer reads
    through a pool of its own; ``max_tiles`` and the per-view half of
    ``memory`` are split evenly between the layers.
    I/O: :attr:`stats` is a read-only dict of what the pool and the views
    did, observable like any trait (``viewer.observe(fn, "stats")``): chunks
    held and cached per level, memory against the budget, cache hits and
    hit rate, reads done, failed, running and queued, bytes read, tiles and
    bytes sent, mean read and encode times (keys in
    :func:`simplezarr.viewer._iostats.stats_dict`). With a running loop it
    is updated at most every 0.25 s while a view is shown; without one,
    :meth:`flush_now` and :meth:`refresh_stats` update it.

    Made in a notebook cell (a running asyncio loop), tiles flow by themselves;
    ``await viewer.wait_idle()`` waits until every view has its tiles (or
    their failures), and statistics and probes are settled. In plain Python
    (no running loop), :meth:`flush_now` produces them. A tile whose chunk
    cannot be read is sent as a ``tile_error`` message (the front end marks
    it) and logged; see :mod:`simplezarr.viewer._failures` for retries.
    """

    _esm = _bundle_text()

    levels: traitlets.List[dict[str, Any]] = traitlets.List(read_only=True).tag(sync=True)
    sliders: traitlets.List[dict[str, Any]] = traitlets.List(read_only=True).tag(sync=True)
    position = traitlets.Dict().tag(sync=True)
    center = traitlets.List(traitlets.Float(), [0.0, 0.0], minlen=2, maxlen=2).tag(sync=True)
    zoom = traitlets.Float(0.0).tag(sync=True)
    _fit_pending = traitlets.Bool(True).tag(sync=True)
    level = traitlets.Int(0, read_only=True).tag(sync=True)
    unit = traitlets.Unicode("", read_only=True).tag(sync=True)
    dtype = traitlets.Unicode("", read_only=True).tag(sync=True)
    name = traitlets.Unicode("", read_only=True).tag(sync=True)
    height = traitlets.Int(500).tag(sync=True)
    show_tiles = traitlets.Bool(False).tag(sync=True)
    scale_bar = traitlets.Bool(True).tag(sync=True)
    show_channels = traitlets.Bool(False).tag(sync=True)
    show_stats = traitlets.Bool(False).tag(sync=True)
    show_chunks = traitlets.Bool(False).tag(sync=True)
    stats: traitlets.Dict[str, Any] = traitlets.Dict(read_only=True).tag(sync=True)
    _chunk_states: traitlets.Dict[str, Any] = traitlets.Dict(read_only=True).tag(sync=True)
    plane = traitlets.Unicode("", read_only=True).tag(sync=True)
    crosshair = traitlets.List(traitlets.Float(), [], maxlen=2).tag(sync=True)
    _code_source = traitlets.Dict(read_only=True).tag(sync=True)
    _overview = traitlets.Dict(read_only=True).tag(sync=True)
    show_minimap = traitlets.Bool(True).tag(sync=True)

    def __init__(
        self,
        source: Any,
        *,
        image: int | str = 0,
        storage_options: dict[str, Any] | None = None,
        level_cache: int | None = None,
        memory: int | None = None,
        contrast_limits: Sequence[float] | None = None,
        colormap: str | None = None,
        gamma: float | None = None,
        rgb: bool | None = None,
        channel_mode: str | None = None,
        invert: bool = False,
        nan_color: str = NAN_TRANSPARENT,
        height: int = 500,
        show_tiles: bool = False,
        scale_bar: bool = True,
        show_channels: bool = False,
        show_stats: bool = False,
        show_chunks: bool = False,
        position: Mapping[str, int] | None = None,
        center: Sequence[float] | None = None,
        zoom: float | None = None,
        margin: float = 0.1,
        max_tiles: int = 1024,
        encode_threads: int = 2,
        max_views: int = 8,
        retry_after: float = DEFAULT_RETRY_AFTER,
        labels: bool = True,
        share_pool: bool = True,
        plane: str | None = None,
        restore: bool = True,
        **kwargs: Any,
    ) -> None:
        if not _BUNDLE_FOUND:
            raise RuntimeError(
                f"Viewer(): the front-end bundle {_ESM_PATH} is missing (it was not built). "
                "Run `npm install && npm run build` in the repository (or `pip install -e .`, "
                "which runs it), then restart the kernel."
            )
        if memory is None:
            memory = DEFAULT_MEMORY
        if isinstance(memory, bool) or not isinstance(memory, int) or memory <= 0:
            raise ValueError(
                f"Viewer(): memory must be a positive number of bytes, not {memory!r}"
            )
        pool, self._owns_pool = open_pool(
            source,
            image=image,
            storage_options=storage_options,
            level_cache=level_cache,
            memory=memory,
            share=share_pool,
        )
        info = pool.multiscale_info
        self._pool = pool
        try:
            self._layout = layout = image_layout(info, plane)
        except Exception:
            if self._owns_pool:
                release_pool(pool)
            raise
        self._margin = margin
        self._max_tiles = max_tiles
        self._max_views = max_views
        self._memory = memory
        self._view_bytes = memory // 2
        self._base_is_labels = info.is_labels
        self._streamers: OrderedDict[str, TileStreamer] = OrderedDict()
        self._refused: OrderedDict[str, int] = OrderedDict()
        self._failures = FailureLog(retry_after)
        self._closed = False
        self._constructing = True

        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        self._loop = loop
        self._loop_thread = threading.get_ident() if loop is not None else None
        self._call_soon: Callable[..., Any] | None = None
        self._executor: ThreadPoolExecutor | None = None
        if loop is not None:
            self._call_soon = loop.call_soon_threadsafe
            pool.enable_async_load_handlers(loop.call_soon_threadsafe)
            self._executor = ThreadPoolExecutor(
                max(1, encode_threads), thread_name_prefix="simplezarr-encode"
            )
        first = info.scales[0]
        self._stats = ChannelStatistics(
            pool,
            layout,
            loop=loop,
            executor=self._executor,
        )
        self._prober = Prober(
            pool,
            layout,
            self._send_message,
            call_soon_threadsafe=self._call_soon,
            properties=self._base_label_properties,
        )
        self._io = IoStatsPublisher(self, loop)
        self._overview_pub = OverviewPublisher(
            self,
            call_soon=self._call_soon,
            executor=self._executor,
            publish=lambda value: self.set_trait("_overview", value),
        )

        # All state is set before the widget opens its comm: one initial state message.
        self.position = {**layout.default_position(), **(position or {})}  # validated
        self._init_display(
            rgb=rgb,
            contrast_limits=contrast_limits,
            gamma=gamma,
            colormap=colormap,
            channel_mode=channel_mode,
            invert=invert,
            nan_color=nan_color,
        )
        self.height = height
        self.show_tiles = show_tiles
        self.scale_bar = scale_bar
        self.show_channels = show_channels
        self.show_stats = show_stats
        self.show_chunks = show_chunks
        camera = provisional_camera(
            layout.levels, (float(height), DEFAULT_VIEW_WIDTH), center=center, zoom=zoom or None
        )
        self._fit_pending = center is None and not zoom
        self.center = list(camera.center)  # validated: clamped onto the image
        self.zoom = camera.zoom
        self.set_trait("level", camera.level)
        self.set_trait("levels", levels_trait(layout))
        self.set_trait("sliders", sliders_trait(layout, info))
        self.set_trait("unit", info.unit or "")
        self.set_trait("dtype", str(np.dtype(first.dtype)))
        self.set_trait("name", info.name or "")
        self._io.publish_now()
        self.set_trait("plane", plane or "")
        self._init_layers(labels)  # (layers are shown in the same plane)
        self._watch_base(source)
        self.set_trait(
            "_code_source",
            code_source(source, image=image, storage_options=storage_options, plane=plane),
        )
        given = {
            name
            for name, value in (
                ("center", center),
                ("zoom", zoom),
                ("position", position),
                ("channel_mode", channel_mode),
                ("colormap", colormap),
                ("contrast_limits", contrast_limits),
            )
            if value is not None
        } | ({"invert"} if invert else set())
        self._init_memory(restore, given)
        self._constructing = False
        super().__init__(**kwargs)
        self.on_msg(self._handle_message)
        self.on_msg(self._io.poke)  # after the message is handled: a view may be live now

    # -- public -------------------------------------------------------------------

    def _base_label_properties(self, value: int) -> Mapping[str, Any] | None:
        meta = getattr(self, "_base_labels", None)
        return meta.properties.get(value) if meta is not None else None

    @property
    def pool(self) -> ChunkPool:
        """The chunk pool behind the views (shared with other viewers of the image by default).

        Its ``memory_usage``, ``memory_budget`` and ``iter_chunks()`` show what
        it holds and caches.
        """
        return self._pool

    @property
    def multiscale_info(self) -> MultiscaleInfo:
        """The image's metadata."""
        return self._pool.multiscale_info

    @property
    def views(self) -> dict[str, TileStreamer]:
        """The streamer of each live view, by view id (a copy)."""
        return dict(self._streamers)

    def flush_now(self) -> None:
        """Without a running loop (plain Python): load and send the tiles of every view now."""
        for streamer in [*self._streamers.values(), *self._layer_streamers()]:
            streamer.flush_now()
        self._io.publish_now()

    def refresh_stats(self) -> None:
        """Update :attr:`stats` (and the chunk grid of ``show_chunks``) now.

        Call it on the loop's thread (a notebook cell) or, without a loop, in
        any one thread; with a loop and a view shown it also happens by itself.
        """
        self._io.publish_now()

    async def wait_idle(self) -> None:
        """With a running loop: return once every view has all its wanted tiles.

        (Each tile sent or failed.) Waits for pending statistics (default
        contrast, histograms, auto contrast) and probes too, so the traits
        and answers are settled when it returns.
        """
        await self._stats.settled()
        await self._prober.settled()
        for streamer in list(self._streamers.values()):
            await streamer.wait_idle()
        await self._layers_settled()

    def close(self) -> None:
        """Close every view, drop every chunk, stop the encode threads, close the widget."""
        if getattr(self, "_closed", True):
            super().close()
            return
        self._closed = True
        self._io.close()
        self._overview_pub.close()
        self._forget_timer()
        self._remember_now()
        for streamer in self._streamers.values():
            streamer.close()
        self._streamers.clear()
        self._stats.close()
        self._prober.close()
        self._close_layers()
        if self._owns_pool:
            release_pool(self._pool)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        super().close()

    # -- validation -----------------------------------------------------------------

    @traitlets.validate("zoom")
    def _valid_zoom(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])
        if not math.isfinite(value) or value < 0:
            raise traitlets.TraitError(f"Viewer.zoom: {value!r} must be >= 0 (0 fits the image)")
        return value

    @traitlets.validate("crosshair")
    def _validate_crosshair(self, proposal: dict[str, Any]) -> list[float]:
        value = list(proposal["value"])
        if len(value) not in (0, 2) or not all(math.isfinite(v) for v in value):
            raise traitlets.TraitError(
                f"Viewer.crosshair: {value!r} must be [] or two finite numbers [y, x]"
            )
        return value

    @traitlets.validate("center")
    def _valid_center(self, proposal: dict[str, Any]) -> list[float]:
        value = [float(v) for v in proposal["value"]]
        if not all(math.isfinite(v) for v in value):
            raise traitlets.TraitError(
                f"Viewer.center: {proposal['value']!r} must be two finite numbers [y, x]"
            )
        layout = getattr(self, "_layout", None)
        return value if layout is None else list(clamp_center(layout.levels[0], value))

    @traitlets.observe("center", "zoom")
    def _camera_set(self, change: dict[str, Any]) -> None:
        # Set after construction (Python or a view's write-back): no longer provisional.
        if not getattr(self, "_constructing", True) and self._fit_pending:
            self._fit_pending = False
        self._remember_later()

    @traitlets.validate("position")
    def _valid_position(self, proposal: dict[str, Any]) -> dict[str, int]:
        value = proposal["value"]
        layout = getattr(self, "_layout", None)
        if layout is None:
            return dict(value)
        names = {s.name: s for s in layout.sliders}
        out = (
            dict(self.position) if set(self.position) == set(names) else layout.default_position()
        )
        for name, index in value.items():
            slider = names.get(name)
            if slider is None:
                raise traitlets.TraitError(
                    f"Viewer.position: {name!r} is not a slider; sliders: {list(names)!r}"
                )
            if isinstance(index, bool) or not isinstance(index, int | np.integer):
                raise traitlets.TraitError(
                    f"Viewer.position: {name!r} must be an int, got {index!r}"
                )
            if not 0 <= index < slider.size:
                raise traitlets.TraitError(
                    f"Viewer.position: {name}={index!r} is out of range (0..{slider.size - 1})"
                )
            out[name] = int(index)
        return out

    @traitlets.observe("show_chunks")
    def _show_chunks_changed(self, change: dict[str, Any]) -> None:
        if not getattr(self, "_constructing", True):
            self._on_loop(self._io.publish_now)  # at once, not at the next tick

    def _view_ready(self) -> None:
        """A view said ``ready``: the minimap's picture is worth making."""
        self._overview_pub.start()

    def _display_changed(self) -> None:
        self._remember_later()
        publisher = getattr(self, "_overview_pub", None)
        if publisher is not None and not getattr(self, "_constructing", True):
            publisher.request()

    @traitlets.observe("channel_mode", "colormap", "invert", "nan_color", "layers")
    def _style_changed(self, change: dict[str, Any]) -> None:
        self._display_changed()

    @traitlets.observe("position")
    def _position_changed(self, change: dict[str, Any]) -> None:
        if getattr(self, "_closed", True) or getattr(self, "_constructing", True):
            return
        self._display_changed()
        position = dict(change["new"])
        self._show_current()  # the aliases follow the channel slider

        def move() -> None:
            for streamer in list(self._streamers.values()):
                streamer.set_position(position)
            self._move_layers(position)

        self._on_loop(move)
