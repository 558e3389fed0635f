"""Routing the front end's messages to the views of a ``Viewer`` (a mixin of it).

Each rendered view (a widget shown in two cells has two) is served by its
own :class:`~.tiles.TileStreamer`, made on its ``ready`` (or first
``viewport``) message and closed on its ``close``; at most ``max_views`` are
live, the least recently active one beyond is closed and its tiles dropped
(a view whose cell was cleared never says ``close``). ``histogram`` and
``probe`` requests go to the viewer's statistics and
:class:`~._probe.Prober` (and to each shown layer's, :mod:`._layerstack`; a
probe of a view that is not live, one that never said ``ready`` nor sent a
``viewport``, is ignored: at most ``max_views`` probes are pending). A
``viewport`` also serves the other layers it lists
(:meth:`~._layerstack.LayerStack._serve_layers`).

A ``ready`` naming another protocol version than
:data:`~._protocol.PROTOCOL_VERSION` is a warning naming both; that view is
not served (its later messages are ignored) until it says ``ready`` with
this version. The last :data:`_MAX_REFUSED` such views are remembered.

Every message is parsed with bounds first (:func:`~._protocol.parse_message`);
nothing raises out of :meth:`MessageRouting._handle_message`.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from ._protocol import (
    PROTOCOL_VERSION,
    CloseMessage,
    FrontEndMessage,
    HistogramRequest,
    LayerChannels,
    ProbeRequest,
    ProtocolError,
    ReadyMessage,
    ViewportMessage,
    parse_message,
)
from .tiles import TileStreamer

if TYPE_CHECKING:
    from simplezarr.utils.chunkpool import ChunkPool

    from ._failures import FailureLog
    from ._iostats import IoStatsPublisher
    from ._layout import ImageLayout
    from ._probe import Prober
    from .channels import Channel

__all__ = ["MessageRouting"]

logger = logging.getLogger("simplezarr")

_MAX_REFUSED = 64


class MessageRouting:
    """The views of a ``Viewer`` and the routing of their messages (see the module docstring)."""

    if TYPE_CHECKING:
        _closed: bool
        _pool: ChunkPool
        _layout: ImageLayout
        _prober: Prober
        _failures: FailureLog
        _io: IoStatsPublisher
        _call_soon: Callable[..., Any] | None
        _loop_thread: int | None
        _executor: Executor | None
        _margin: float
        _max_tiles: int
        _max_views: int
        _view_bytes: int
        _streamers: OrderedDict[str, TileStreamer]

        def _view_ready(self) -> None: ...

        _refused: OrderedDict[str, int]
        _base_is_labels: bool
        position: dict[str, int]
        channels: list[Channel]
        level: int

        def _shown_channels(self) -> list[int]: ...
        def _layer_channel_counts(self) -> dict[int, int]: ...
        def _layer_budget(self) -> tuple[int, int]: ...
        def _serve_layers(
            self, view: str, layers: tuple[LayerChannels, ...], viewport: Any, seq: int
        ) -> None: ...
        def _close_layer_view(self, view: str, *, announce: bool = False) -> None: ...
        def _probe_layers(self, view: str, probe_id: int, world: tuple[float, float]) -> None: ...
        def _refresh_histograms(self, view: str) -> None: ...
        def set_trait(self, name: str, value: Any) -> None: ...
        def send(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None: ...

    def _on_loop(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` on the loop thread (now, when already there)."""
        if self._call_soon is None or threading.get_ident() == self._loop_thread:
            fn()
        else:
            self._call_soon(fn)

    def _handle_message(self, _widget: Any, content: Any, buffers: Any) -> None:
        """Handle one front-end message; never raises (see the module docstring)."""
        try:
            message = parse_message(
                content,
                n_channels=len(self.channels),
                layer_channels=self._layer_channel_counts(),
            )
        except ProtocolError as exc:
            logger.warning("simplezarr Viewer: ignoring malformed front-end message: %s", exc)
            return
        except Exception:  # a bug in parsing: still not the front end's problem to see
            logger.exception("simplezarr Viewer: parsing a front-end message failed")
            return
        try:
            self._dispatch(message)
        except Exception:
            logger.exception("simplezarr Viewer: handling front-end message %r failed", message)

    def _dispatch(self, message: FrontEndMessage) -> None:
        if self._closed:
            return
        if isinstance(message, CloseMessage):
            self._close_view(message.view)
            return
        if isinstance(message, ReadyMessage):
            # A (re-)rendered view starts with no tiles: serve it from scratch.
            self._close_view(message.view)
            if message.version != PROTOCOL_VERSION:
                self._refuse(message.view, message.version)
                return
            self._refused.pop(message.view, None)
            self._view_ready()
        if message.view in self._refused:
            return  # a view of another protocol version: not served
        if isinstance(message, ProbeRequest):
            # Only live views (at most max_views) are answered: pending probes stay bounded.
            streamer = self._streamers.get(message.view)
            if streamer is not None:
                probe_at = (message.view, message.id, message.world)
                self._prober.request(*probe_at, self.position, streamer.channels)
                self._probe_layers(*probe_at)
            return
        if isinstance(message, HistogramRequest):
            self._refresh_histograms(message.view)
            return
        streamer = self._streamer(message.view)
        if isinstance(message, ViewportMessage):
            streamer.update_viewport(message.viewport, message.seq, message.channels)
            if message.seq >= streamer.seq:  # (an older viewport was ignored)
                self._serve_layers(message.view, message.layers, message.viewport, message.seq)
            if self.level != streamer.level:
                try:
                    self.set_trait("level", streamer.level)
                except Exception:
                    logger.exception("simplezarr Viewer: an observer of 'level' raised")

    def _refuse(self, view: str, version: int) -> None:
        logger.warning(
            "simplezarr Viewer: view %s speaks protocol version %d but this kernel speaks %d: "
            "not serving it (reinstall simplezarr and restart the kernel, then reload the page)",
            view,
            version,
            PROTOCOL_VERSION,
        )
        self._refused[view] = version
        while len(self._refused) > _MAX_REFUSED:
            self._refused.popitem(last=False)

    def _close_view(self, view: str) -> None:
        streamer = self._streamers.pop(view, None)
        if streamer is not None:
            streamer.close()
        self._prober.forget(view)
        self._close_layer_view(view)

    def _streamer(self, view: str) -> TileStreamer:
        streamer = self._streamers.get(view)
        if streamer is not None:
            self._streamers.move_to_end(view)
            return streamer
        max_chunks, max_bytes = self._layer_budget()
        streamer = TileStreamer(
            self._pool,
            self._layout,
            view,
            self._send_message,
            call_soon_threadsafe=self._call_soon,
            executor=self._executor,
            position=self.position,
            channels=self._shown_channels(),
            margin=self._margin,
            max_chunks=max_chunks,
            max_bytes=max_bytes,
            failures=self._failures,
            labels=self._base_is_labels,
            totals=self._io.totals,
        )
        self._streamers[view] = streamer
        while len(self._streamers) > self._max_views:
            oldest_view, oldest = self._streamers.popitem(last=False)
            oldest.close(announce=True)
            self._prober.forget(oldest_view)
            self._close_layer_view(oldest_view, announce=True)
        return streamer

    def _send_message(self, message: dict[str, Any], buffers: list[bytes]) -> None:
        if not self._closed:
            self.send(message, buffers)
