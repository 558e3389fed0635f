"""Real zarr stores that wrap another store to observe or disturb its reads.

They are ordinary :class:`zarr.storage.WrapperStore` subclasses: zarr-python
and the chunk pool talk to them exactly as to any other store.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from typing import Any

from zarr.abc.store import ByteRequest
from zarr.core.buffer import Buffer, BufferPrototype
from zarr.storage import WrapperStore


class CountingStore(WrapperStore[Any]):
    """Counts the ``get`` calls per key.

    zarr opens a read-only copy of a store with ``with_read_only``; that copy
    shares this one's counters and settings, so tests can keep observing.
    """

    def with_read_only(self, read_only: bool = False) -> Any:
        return self

    def __init__(self, store: Any) -> None:
        super().__init__(store)
        self.gets: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    async def get(
        self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None
    ) -> Buffer | None:
        with self._count_lock:
            self.gets[key] += 1
        return await self._store.get(key, prototype, byte_range)


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
