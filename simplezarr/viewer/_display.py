"""How the viewer draws: channels, channel mode, colormap, NaN colour (a mixin of ``Viewer``).

:class:`DisplayTraits` holds the synced traits that only the browser uses
to draw (changing them sends no tile) and keeps them consistent:

- ``channels``: the :class:`~.channels.Channel` objects, synced as a list of
  dicts both ways (:mod:`.channels`). Defaults come from
  :func:`~._defaults.channel_defaults`; limits and ranges that need data are
  provisional until :class:`~._stats.ChannelStatistics` has read the coarse
  sample, and are then replaced unless changed meanwhile.
- ``channel_mode``: ``"composite"`` (visible channels added, each a
  black-to-colour ramp) or ``"single"`` (the channel at
  ``position[channel_axis]`` through ``colormap``, reversed by ``invert``).
- ``contrast_limits`` and ``gamma``: aliases of the *current* channel's (the
  one single mode shows), both ways: setting them sets that channel's, and
  they follow it (and the channel slider).
- ``histogram`` requests and :meth:`DisplayTraits.auto_contrast` run
  statistics jobs whose results are applied here, on the loop.

The mixin expects the ``Viewer`` to set ``_pool``, ``_layout``, ``_stats``,
``_streamers``, ``_closed`` and ``position``, and to call
:meth:`DisplayTraits._init_display` before its widget opens.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import numpy as np
import traitlets

from ._defaults import (
    COLOR_NAMES,
    COLORMAPS,
    NAN_TRANSPARENT,
    channel_defaults,
    normalize_colormap,
    normalize_nan_color,
    provisional_limits,
)
from ._protocol import PROTOCOL_VERSION
from ._stats import Pieces, StatsResult
from .channels import Channel, apply_channel_state, channels_to_json

if TYPE_CHECKING:
    from simplezarr.utils.chunkpool import ChunkPool

    from ._layout import ImageLayout
    from ._stats import ChannelStatistics
    from .tiles import TileStreamer

__all__ = ["CHANNEL_MODES", "DisplayTraits"]

logger = logging.getLogger("simplezarr")

CHANNEL_MODES = ("composite", "single")
"""Values of ``channel_mode``."""


def _channels_from_json(value: Any, widget: DisplayTraits) -> list[Channel]:
    return widget._apply_front_end_channels(value)


class DisplayTraits(traitlets.HasTraits):
    """The drawing state of a ``Viewer`` (see the module docstring)."""

    protocol_version = traitlets.Int(PROTOCOL_VERSION, read_only=True).tag(sync=True)
    channels = traitlets.List(traitlets.Instance(Channel)).tag(
        sync=True, to_json=channels_to_json, from_json=_channels_from_json
    )
    channel_mode = traitlets.Unicode("single").tag(sync=True)
    channel_axis = traitlets.Unicode("", read_only=True).tag(sync=True)
    colormap = traitlets.Unicode("gray").tag(sync=True)
    invert = traitlets.Bool(False).tag(sync=True)
    nan_color = traitlets.Unicode(NAN_TRANSPARENT).tag(sync=True)
    contrast_limits = traitlets.List(traitlets.Float(), [0.0, 1.0], minlen=2, maxlen=2).tag(
        sync=True
    )
    gamma = traitlets.Float(1.0).tag(sync=True)

    if TYPE_CHECKING:
        _pool: ChunkPool
        _layout: ImageLayout
        _stats: ChannelStatistics
        _streamers: dict[str, TileStreamer]
        _closed: bool
        position: dict[str, int]

    # -- set up ------------------------------------------------------------------------

    def _init_display(
        self,
        *,
        rgb: bool | None,
        contrast_limits: Sequence[float] | None,
        gamma: float | None,
        colormap: str | None,
        channel_mode: str | None,
        invert: bool,
        nan_color: str,
    ) -> None:
        """Make the channels and set the display traits (before the widget opens)."""
        info = self._pool.multiscale_info
        layout = self._layout
        dtype = np.dtype(info.scales[0].dtype)
        provisional = provisional_limits(dtype)
        self._channel_batch = 0
        self._channel_alias = False
        self._own_channels: list[Channel] = []
        self._auto_limits: dict[int, list[float]] = {}  # provisional limits due to be replaced
        self._observed_range: set[int] = set()  # channels whose range comes from the data
        self._fixed_range: dict[int, list[float]] = {}  # the others: their range
        objects = []
        for i, d in enumerate(channel_defaults(info, rgb=rgb)):
            limits = list(contrast_limits) if contrast_limits is not None else d.contrast_limits
            if limits is None:
                limits = self._auto_limits[i] = list(provisional)
            if d.range is None:
                self._observed_range.add(i)
            else:
                self._fixed_range[i] = list(d.range)
            channel = Channel(
                i,
                d.name,
                color=d.color,
                contrast_limits=limits,
                gamma=gamma if gamma is not None else d.gamma,
                visible=d.visible,
                range=d.range if d.range is not None else limits,
            )
            channel.observe(self._channel_changed)
            objects.append(channel)
        self.channels = objects
        self._own_channels = objects
        self.set_trait("channel_axis", layout.channel_slider or "")
        self.channel_mode = channel_mode or ("composite" if layout.channel_count > 1 else "single")
        self.colormap = colormap if colormap is not None else "gray"
        self.invert = invert
        self.nan_color = nan_color
        self._show_current()
        need = sorted(set(self._auto_limits) | self._observed_range)
        if need:
            self._stats.compute(
                "defaults",
                need,
                self.position,
                self._apply_defaults,
                purpose="to choose contrast limits",
                fallback=f"using {provisional}" if self._auto_limits else "ranges from omero",
                fixed=self._fixed_range,
                include=self._given_limits(need),
            )

    # -- public ------------------------------------------------------------------------

    def auto_contrast(self, view: bool = True) -> Future[StatsResult]:
        """Set the contrast limits of the channels shown from their data.

        The :data:`~._defaults.CONTRAST_PERCENTILES` (0.5 and 99.5) of each
        visible channel (composite mode), or of the current one (single
        mode): with ``view=True``, of the chunks the views hold now (what is
        on screen, at the level in use, plus the margin); a channel no view
        holds, or every channel with ``view=False``, from the coarsest level
        at the current position. Computed off the kernel's loop; call it
        from the notebook (the thread that runs the cells), as any viewer
        method.

        Returns
        -------
        concurrent.futures.Future
            Done once the limits are set (``{channel: ChannelStats}``), or
            with the read's error. In a notebook the limits change a moment
            after the call (``await asyncio.wrap_future(f)`` waits);
            without a running loop the call waits (at most the pool's read
            timeout) and the future is done when it returns.
        """
        channels = self._shown_channels()
        pieces: Pieces = {}
        if view:
            for c in channels:
                data = [d for s in self._streamers.values() for d in s.channel_data(c)]
                if data:
                    pieces[c] = data
        return self._stats.compute(
            "auto",
            channels,
            self.position,
            self._apply_auto,
            pieces=pieces,
            purpose="for auto contrast",
            fallback="the contrast limits stay",
        )

    # -- validation --------------------------------------------------------------------

    @traitlets.validate("channels")
    def _valid_channels(self, proposal: dict[str, Any]) -> list[Channel]:
        value = list(proposal["value"])
        own = getattr(self, "_own_channels", None)
        if own and (
            len(value) != len(own) or any(a is not b for a, b in zip(value, own, strict=True))
        ):
            raise traitlets.TraitError(
                "Viewer.channels: the list of channels is fixed; set a channel's attributes "
                "instead, e.g. viewer.channels[0].color = '#ff00ff'"
            )
        return value

    @traitlets.validate("channel_mode")
    def _valid_mode(self, proposal: dict[str, Any]) -> str:
        if proposal["value"] not in CHANNEL_MODES:
            raise traitlets.TraitError(
                f"Viewer.channel_mode: {proposal['value']!r} is not one of {CHANNEL_MODES!r}"
            )
        return str(proposal["value"])

    @traitlets.validate("colormap")
    def _valid_colormap(self, proposal: dict[str, Any]) -> str:
        value = normalize_colormap(proposal["value"])
        if value is None:
            raise traitlets.TraitError(
                f"Viewer.colormap: {proposal['value']!r} is not one of {COLORMAPS!r} (or their "
                f"'_r' forms), {tuple(COLOR_NAMES)!r} or a '#rrggbb' colour"
            )
        return value

    @traitlets.validate("nan_color")
    def _valid_nan_color(self, proposal: dict[str, Any]) -> str:
        value = normalize_nan_color(proposal["value"])
        if value is None:
            raise traitlets.TraitError(
                f"Viewer.nan_color: {proposal['value']!r} is not 'transparent' nor '#rrggbb'"
            )
        return value

    @traitlets.validate("contrast_limits")
    def _valid_alias_contrast(self, proposal: dict[str, Any]) -> list[float]:
        lo, hi = (float(v) for v in proposal["value"])
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi:
            raise traitlets.TraitError(
                f"Viewer.contrast_limits: {proposal['value']!r} must be two finite "
                "numbers with lo <= hi"
            )
        return [lo, hi]

    @traitlets.validate("gamma")
    def _valid_alias_gamma(self, proposal: dict[str, Any]) -> float:
        gamma = float(proposal["value"])
        if not (np.isfinite(gamma) and gamma > 0):
            raise traitlets.TraitError(
                f"Viewer.gamma: {proposal['value']!r} must be a finite number > 0"
            )
        return gamma

    # -- the current channel and the aliases ----------------------------------------

    def _current_channel(self) -> int:
        """The channel single mode shows: ``position[channel_axis]`` (0 without one)."""
        name = self._layout.channel_slider
        return int(self.position.get(name, 0)) if name is not None else 0

    def _shown_channels(self) -> list[int]:
        """The channels drawn: the visible ones in composite mode, else the current one."""
        if self.channel_mode == "composite" and len(self.channels) > 1:
            return [c.index for c in self.channels if c.visible]
        return [self._current_channel()]

    def _show_current(self) -> None:
        """Set the aliases to the current channel's values."""
        channel = self.channels[self._current_channel()]
        self._channel_alias = True
        try:
            self.contrast_limits = list(channel.contrast_limits)
            self.gamma = channel.gamma
        finally:
            self._channel_alias = False

    @traitlets.observe("contrast_limits", "gamma")
    def _alias_set(self, change: dict[str, Any]) -> None:
        if self._channel_alias or not getattr(self, "_own_channels", None):
            return
        setattr(self.channels[self._current_channel()], change["name"], change["new"])

    # -- channel changes and the front end -------------------------------------------

    def _channel_changed(self, change: dict[str, Any]) -> None:
        channel: Channel = change["owner"]
        if change["name"] in ("contrast_limits", "gamma") and (
            channel.index == self._current_channel()
        ):
            self._show_current()
        if self._channel_batch == 0:
            self._send_channels()

    @contextlib.contextmanager
    def _channel_updates(self) -> Iterator[None]:
        """Change several channels, then send the list once."""
        self._channel_batch += 1
        try:
            yield
        finally:
            self._channel_batch -= 1
        if self._channel_batch == 0:
            self._send_channels()

    def _display_changed(self) -> None:
        """What the view shows changed (a channel, mode, colormap, ...): a hook, no-op here."""

    def _send_channels(self) -> None:
        self._display_changed()
        comm = getattr(self, "comm", None)
        if comm is None or not hasattr(self, "_property_lock"):
            return  # not open yet (the state goes with the widget's first message) or closed
        widget: Any = self
        if widget._should_send_property("channels", self.channels):
            widget.send_state("channels")

    def _apply_front_end_channels(self, value: Any) -> list[Channel]:
        """``from_json`` of ``channels``: apply the front end's list to the same objects."""
        with self._channel_updates():
            problems = apply_channel_state(self.channels, value)
        if problems:
            logger.warning(
                "simplezarr Viewer: ignoring part of the channels the front end sent: %s",
                "; ".join(problems[:5])
                + (f"; and {len(problems) - 5} more" if problems[5:] else ""),
            )
        return list(self.channels)

    # -- statistics results (on the loop, or in the caller without one) ------------------

    def _apply_defaults(self, result: StatsResult) -> None:
        if self._closed:
            return
        with self._channel_updates():
            for c, stats in result.items():
                channel = self.channels[c]
                due = self._auto_limits.pop(c, None)
                if due is not None and channel.contrast_limits == due:
                    channel.contrast_limits = stats.limits
                if c in self._observed_range:
                    channel.set_trait("range", stats.range)
                channel.set_trait("histogram", stats.histogram)

    def _apply_histograms(self, result: StatsResult) -> None:
        if self._closed:
            return
        with self._channel_updates():
            for c, stats in result.items():
                if c in self._observed_range:
                    self.channels[c].set_trait("range", stats.range)
                self.channels[c].set_trait("histogram", stats.histogram)

    def _apply_auto(self, result: StatsResult) -> None:
        if self._closed:
            return
        with self._channel_updates():
            for c, stats in result.items():
                self._auto_limits.pop(c, None)
                self.channels[c].contrast_limits = stats.limits

    def _refresh_histograms(self, view: str) -> None:
        """The front end asked: recompute the histograms of ``view``'s channels, off the loop."""
        streamer = self._streamers.get(view)
        channels = list(streamer.channels) if streamer is not None else self._shown_channels()
        if not channels:
            return
        self._stats.compute(
            "histogram",
            channels,
            self.position,
            self._apply_histograms,
            purpose="for the histograms",
            fallback="the histograms stay",
            fixed=self._fixed_range,
            include=self._given_limits(channels),
        )

    def _given_limits(self, channels: Sequence[int]) -> dict[int, list[float]]:
        """The contrast limits of ``channels`` whose observed range must include them.

        Those given or set (not the provisional ones due to be replaced).
        """
        return {
            c: list(self.channels[c].contrast_limits)
            for c in channels
            if c in self._observed_range
            and self._auto_limits.get(c) != self.channels[c].contrast_limits
        }
