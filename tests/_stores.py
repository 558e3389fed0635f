"""Real zarr stores that wrap another store to observe or disturb its reads.

They are ordinary :class:`zarr.storage.WrapperStore` subclasses: zarr-python
and the chunk pool talk to them exactly as to any other store.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from zarr.abc.store import ByteRequest
from zarr.core.buffer import Buffer, BufferPrototype
from zarr.storage import WrapperStore


class CountingStore(WrapperStore[Any]):
    """Counts the ``get`` calls per key, and how many run at once (``max_in_flight``).

    zarr opens a read-only copy of a store with ``with_read_only``; that copy
    shares this one's counters and settings, so tests can keep observing.
    """

    def with_read_only(self, read_only: bool = False) -> Any:
        return self

    def __init__(self, store: Any) -> None:
        super().__init__(store)
        self.gets: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self._count_lock = threading.Lock()

    async def get(
        self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None
    ) -> Buffer | None:
        with self._count_lock:
            self.gets[key] += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._store.get(key, prototype, byte_range)
        finally:
            with self._count_lock:
                self.in_flight -= 1


class GatedStore(CountingStore):
    """Chunk reads (keys under ``c/``) wait until ``gate`` is set; metadata reads do not."""

    def __init__(self, store: Any) -> None:
        super().__init__(store)
        self.gate = threading.Event()
        self.started = threading.Semaphore(0)

    async def get(
        self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None
    ) -> Buffer | None:
        if "/c/" in f"/{key}":
            self.started.release()
            await asyncio.get_running_loop().run_in_executor(None, self.gate.wait)
        return await super().get(key, prototype, byte_range)


class FailingStore(CountingStore):
    """Raises ``OSError`` for the keys in ``fail`` (a set the test may change)."""

    def __init__(self, store: Any, fail: set[str] | None = None) -> None:
        super().__init__(store)
        self.fail = set() if fail is None else fail

    async def get(
        self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None
    ) -> Buffer | None:
        if key in self.fail:
            raise OSError(f"injected failure reading {key}")
        return await super().get(key, prototype, byte_range)


class HangingStore(CountingStore):
    """Reads of the keys ``hangs(key)`` picks (default: chunks) never answer until ``release()``.

    Unlike `GatedStore`, a hanging read waits on the store's own event loop, so
    cancelling it really ends it: each start releases ``started`` and each
    cancellation ``cancelled`` (semaphores a test acquires with a timeout).
    Reads after ``release()`` answer normally.
    """

    def __init__(self, store: Any, hangs: Callable[[str], bool] | None = None) -> None:
        super().__init__(store)
        self.hangs = hangs if hangs is not None else (lambda key: "/c/" in f"/{key}")
        self.started = threading.Semaphore(0)
        self.cancelled = threading.Semaphore(0)
        self._released = False
        self._waiting: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def release(self) -> None:
        """Answer every hanging read, and every later one."""
        with self._count_lock:
            self._released = True
            waiting, self._waiting = self._waiting, []
        for loop, fut in waiting:
            loop.call_soon_threadsafe(lambda f=fut: f.done() or f.set_result(None))

    async def get(
        self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None
    ) -> Buffer | None:
        if self.hangs(key):
            loop = asyncio.get_running_loop()
            fut: asyncio.Future[None] = loop.create_future()
            with self._count_lock:
                hang = not self._released
                if hang:
                    self._waiting.append((loop, fut))
            if hang:
                self.started.release()
                try:
                    await fut
                except asyncio.CancelledError:
                    self.cancelled.release()
                    raise
        return await super().get(key, prototype, byte_range)
