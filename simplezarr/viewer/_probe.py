"""The value under the cursor: answers to the front end's ``probe`` requests.

A view asks (throttled) for the world point under the cursor; the kernel
answers with the exact data value, at level 0, of each channel the view
shows (the channels of its last ``viewport``), at its current slider
position: a ``probe`` message (:func:`~._protocol.probe_message`), with the
level-0 pixel, each value as a number (null when not finite) and as text.

The values come from the pool: the level-0 chunk holding the pixel (one per
channel chunk) is got under a ref of its own, so a chunk a view holds, or the
pool caches, answers at once; otherwise it is read on the pool's read
threads, never on the loop, and its read is bounded by the pool's read
timeout (a failed read answers ``"read failed"``, and the pool logs it). Only
the newest request of a view is answered: a new request drops the pending
one's chunks (a read not started is never made), and a request whose ``id``
is not above the last one seen is ignored. Without a loop (plain Python) a
request waits, at most the pool's read timeout, and is answered at once.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from typing import Any

from simplezarr.utils.chunkpool import ChunkLocation, ChunkPool

from ._layout import ImageLayout
from ._protocol import ProbeValue, probe_message, probe_value
from .geometry import pixel_at

__all__ = ["Prober"]

logger = logging.getLogger("simplezarr")

SendFn = Callable[[dict[str, Any], list[bytes]], None]

# Without a loop, the longest wait for a probe's chunks when the pool has no read timeout.
_PROBE_WAIT = 30.0


class _Pending:
    """One request waiting for its chunks."""

    def __init__(
        self,
        view: str,
        probe_id: int,
        world: tuple[float, float],
        index: tuple[int, int],
        ref: str,
    ) -> None:
        self.view = view
        self.id = probe_id
        self.world = world
        self.index = index
        self.ref = ref
        # per channel: its chunk and the pixel's selection inside the chunk's data
        self.parts: list[tuple[int, ChunkLocation, tuple[int, ...]]] = []
        self.done: Future[None] = Future()


class Prober:
    """Answers the ``probe`` requests of one viewer's views (see the module docstring).

    Parameters
    ----------
    pool : ChunkPool
        Where the values are read.
    layout : ImageLayout
        The image's layout.
    send : callable
        ``send(message, buffers)``; called on the loop thread (or the
        caller's, without a loop).
    call_soon_threadsafe : callable, optional
        The loop's; ``None``: answer in the calling thread (plain Python).
    layer : int
        The layer whose values it answers (its answers carry the id).
    properties : callable, optional
        For a label layer: ``properties(label_id)``, the ``image-label``
        properties of a label (or None), sent with the answer.
    """

    _counter = itertools.count()

    def __init__(
        self,
        pool: ChunkPool,
        layout: ImageLayout,
        send: SendFn,
        *,
        call_soon_threadsafe: Callable[..., Any] | None,
        layer: int = 0,
        properties: Callable[[int], Mapping[str, Any] | None] | None = None,
    ) -> None:
        self._layer = layer
        self._properties = properties
        self._pool = pool
        self._layout = layout
        self._send = send
        self._call_soon = call_soon_threadsafe
        self._pending: dict[str, _Pending] = {}
        self._last_id: dict[str, int] = {}
        self._closed = False

    def request(
        self,
        view: str,
        probe_id: int,
        world: tuple[float, float],
        position: Mapping[str, int],
        channels: Sequence[int],
    ) -> None:
        """Answer ``view``'s request ``probe_id`` for the point ``world`` (on the loop)."""
        if self._closed or probe_id <= self._last_id.get(view, -1):
            return
        self._last_id[view] = probe_id
        self._cancel(view)
        layout = self._layout
        level0 = layout.levels[0]
        pixel = pixel_at(level0, world)
        if pixel is None:
            self._safe_send(probe_message(view, probe_id, world, None, [], layer=self._layer))
            return
        pending = _Pending(view, probe_id, world, pixel, f"probe-{next(Prober._counter)}")
        ch, cw = level0.chunk
        chunk = (pixel[0] // ch, pixel[1] // cw)
        held: dict[tuple[int, ...], ChunkLocation] = {}
        try:
            for channel in channels:
                slider_chunks, within = layout.locate(0, position, channel=channel)
                index = layout.chunk_index(chunk, slider_chunks)
                selection: list[Any] = list(layout.plane_selection(within))
                selection[layout.y_axis] = pixel[0] - chunk[0] * ch
                selection[layout.x_axis] = pixel[1] - chunk[1] * cw
                loc = held.get(index)
                if loc is None:
                    loc = held[index] = self._pool.get_chunk(0, index, pending.ref)
                pending.parts.append((channel, loc, tuple(selection)))
        except Exception:
            logger.exception("simplezarr viewer: probe %d of view %s failed", probe_id, view)
            self._release(pending)
            return
        self._pending[view] = pending
        if self._call_soon is None:
            self._wait_now(pending)
            return
        for loc in held.values():
            loc.future.add_done_callback(self._arrived_callback(pending))

    def forget(self, view: str) -> None:
        """A view closed: drop its pending request and what it remembered."""
        self._cancel(view)
        self._last_id.pop(view, None)

    def close(self) -> None:
        """Drop every pending request."""
        self._closed = True
        for view in list(self._pending):
            self._cancel(view)
        self._last_id.clear()

    async def settled(self) -> None:
        """Return once no request is pending (each answered or dropped)."""
        for pending in list(self._pending.values()):
            await asyncio.wrap_future(pending.done)

    # -- internals ----------------------------------------------------------------

    def _arrived_callback(self, pending: _Pending) -> Callable[[Future[Any]], None]:
        call_soon = self._call_soon
        assert call_soon is not None

        def arrived(_future: Future[Any]) -> None:  # on a read thread, or here
            try:
                call_soon(self._maybe_answer, pending)
            except RuntimeError:
                pass  # the loop is closed

        return arrived

    def _maybe_answer(self, pending: _Pending) -> None:  # on the loop
        if self._pending.get(pending.view) is not pending:
            return  # replaced by a newer request, or answered
        if all(loc.future.done() for _, loc, _ in pending.parts):
            self._answer(pending)

    def _wait_now(self, pending: _Pending) -> None:
        wait = getattr(self._pool, "read_timeout", None) or _PROBE_WAIT
        deadline = time.monotonic() + wait
        for _, loc, _ in pending.parts:
            try:
                loc.future.result(timeout=max(0.0, deadline - time.monotonic()))
            except Exception:  # failed, cancelled or timed out: answered as failed below
                pass
        self._answer(pending)

    def _answer(self, pending: _Pending) -> None:
        values: list[ProbeValue] = []
        for channel, loc, selection in pending.parts:
            future = loc.future
            if future.done() and not future.cancelled() and future.exception() is None:
                values.append(probe_value(channel, future.result()[selection]))
            else:
                values.append({"channel": channel, "value": None, "text": "read failed"})
        del self._pending[pending.view]
        self._release(pending)
        properties = None
        first = values[0]["value"] if values else None
        if self._properties is not None and isinstance(first, int):
            properties = self._properties(first)
        message = probe_message(
            pending.view,
            pending.id,
            pending.world,
            pending.index,
            values,
            layer=self._layer,
            properties=properties,
        )
        self._safe_send(message)

    def _cancel(self, view: str) -> None:
        pending = self._pending.pop(view, None)
        if pending is not None:
            self._release(pending)

    def _release(self, pending: _Pending) -> None:
        for index in dict.fromkeys(loc.index for _, loc, _ in pending.parts):
            self._pool.drop_chunk(0, index, pending.ref)
        if not pending.done.done():
            pending.done.set_result(None)

    def _safe_send(self, message: Any) -> None:
        try:
            self._send(dict(message), [])
        except Exception:
            logger.exception("simplezarr viewer: sending a 'probe' message failed")
