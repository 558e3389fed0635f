"""A read-only Zarr v3 store whose chunks are computed when read: the shared skeleton.

Design
------
Two stores in simplezarr make their chunks on request instead of storing
them: :class:`simplezarr.data.ProceduralStore` (a virtual image rendered by a
function of its position) and :class:`simplezarr.ComputedImage` (a function
applied to another image's chunks). Both are a multiscale group whose level
``l`` is the array ``"<l>"``, chunked on a regular grid with the default
``/``-separated keys (``<l>/c/<i0>/<i1>/...``). :class:`ComputedStore` is
everything they share:

* the metadata documents (``zarr.json`` of the group and of each level),
  given once at construction as JSON-ready dicts and kept as bytes in
  ``_docs`` (zarr's store test harness writes its test data there);
* key parsing: a key names a chunk only if its level exists and its index is
  inside that level's chunk grid; anything else reads as missing (``None``);
* byte ranges of any document or chunk (``Range``/``Offset``/``Suffix``; an
  unknown request type is a ``TypeError``, as zarr's stores raise);
* listing, lazily: a huge image has millions of chunk keys;
* read-only: writes raise zarr's read-only ``ValueError``,
  ``with_read_only(False)`` raises ``NotImplementedError``;
* pickling (a lock does not pickle; a new store gets its own).

A subclass only says how a chunk's *encoded* bytes are made:
``async _chunk_bytes(level, index)``. It runs on the event loop that calls
``get`` (zarr's, for every zarr read and for the chunk pool), so it must hand
the work to a thread and await it, never compute on the loop. The bytes are
those of the ``bytes`` codec (:func:`array_doc` declares no compression:
making the bytes is the cost, there is nothing to transfer), for the *whole*
chunk, edge chunks padded with the fill value as Zarr expects.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from zarr.abc.store import (
    ByteRequest,
    OffsetByteRequest,
    RangeByteRequest,
    Store,
    SuffixByteRequest,
)
from zarr.core.buffer import Buffer, BufferPrototype, default_buffer_prototype

__all__ = ["ComputedStore", "array_doc"]

Level = tuple[tuple[int, ...], tuple[int, ...]]
"""One level's (shape, chunk shape)."""


def array_doc(
    shape: Sequence[int],
    chunks: Sequence[int],
    dtype: Any,
    dimension_names: Sequence[str] | None,
) -> dict[str, Any]:
    """The ``zarr.json`` of one uncompressed level array (``bytes`` codec, little-endian)."""
    dt = np.dtype(dtype)
    codec: dict[str, Any] = {"name": "bytes"}
    if dt.itemsize > 1:
        codec["configuration"] = {"endian": "little"}
    doc: dict[str, Any] = {
        "zarr_format": 3,
        "node_type": "array",
        "shape": [int(s) for s in shape],
        "data_type": dt.name,
        "chunk_grid": {
            "name": "regular",
            "configuration": {"chunk_shape": [int(c) for c in chunks]},
        },
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": False if dt.kind == "b" else 0,
        "codecs": [codec],
        "attributes": {},
    }
    if dimension_names is not None:
        doc["dimension_names"] = list(dimension_names)
    return doc


class ComputedStore(Store):
    """A read-only Zarr v3 store of a multiscale group whose chunks are computed on read.

    Parameters
    ----------
    docs : mapping
        Metadata documents by key (``"zarr.json"``, ``"0/zarr.json"``, ...),
        JSON-ready.
    levels : sequence of (shape, chunk shape)
        Per level ``l`` (the array ``"<l>"``), its shape and chunk shape.
    """

    supports_writes: bool = False
    supports_deletes: bool = False
    supports_listing: bool = True

    def __init__(self, docs: Mapping[str, Any], levels: Sequence[Level]) -> None:
        super().__init__(read_only=True)
        self._docs: dict[str, bytes] = {k: json.dumps(v).encode() for k, v in docs.items()}
        self._levels: tuple[Level, ...] = tuple(
            (tuple(int(s) for s in shape), tuple(int(c) for c in chunks))
            for shape, chunks in levels
        )
        self._grids = tuple(
            tuple(-(-s // c) for s, c in zip(shape, chunks, strict=True))
            for shape, chunks in self._levels
        )
        self._lock = threading.Lock()

    async def _chunk_bytes(self, level: int, index: tuple[int, ...]) -> bytes:
        """The encoded bytes of one whole chunk; made off the calling loop (see module)."""
        raise NotImplementedError

    # -- read-only ----------------------------------------------------------

    def with_read_only(self, read_only: bool = False) -> ComputedStore:
        """This store itself for ``read_only=True``; no writable copy exists.

        ``with_read_only(False)`` raises ``NotImplementedError``, as zarr's
        stores without a writable form do.
        """
        if read_only:
            return self
        super().with_read_only(read_only)  # raises NotImplementedError
        raise AssertionError("unreachable")  # pragma: no cover

    async def set(self, key: str, value: Buffer) -> None:
        self._check_writable()

    async def delete(self, key: str) -> None:
        self._check_writable()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_lock"]  # a lock does not pickle; a new store gets its own
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # -- reading ------------------------------------------------------------

    def _chunk_key(self, key: str) -> tuple[int, tuple[int, ...]] | None:
        """(level, index) for a valid chunk key, else None."""
        parts = key.split("/")
        if (
            len(parts) < 3
            or parts[1] != "c"
            or not all(p.isdigit() for p in parts[:1] + parts[2:])
        ):
            return None
        level = int(parts[0])
        if level >= len(self._grids):
            return None
        grid = self._grids[level]
        index = tuple(int(p) for p in parts[2:])
        if len(index) != len(grid) or any(i >= n for i, n in zip(index, grid, strict=True)):
            return None
        return level, index

    async def get(
        self,
        key: str,
        prototype: BufferPrototype | None = None,
        byte_range: ByteRequest | None = None,
    ) -> Buffer | None:
        prototype = prototype or default_buffer_prototype()
        data = self._docs.get(key)
        if data is None:
            where = self._chunk_key(key)
            if where is None:
                return None
            data = await self._chunk_bytes(*where)
        return prototype.buffer.from_bytes(self._byte_range(data, byte_range))

    async def get_partial_values(
        self,
        prototype: BufferPrototype,
        key_ranges: Iterable[tuple[str, ByteRequest | None]],
    ) -> list[Buffer | None]:
        return list(await asyncio.gather(*(self.get(k, prototype, r) for k, r in key_ranges)))

    async def exists(self, key: str) -> bool:
        return key in self._docs or self._chunk_key(key) is not None

    def _byte_range(self, data: bytes, byte_range: ByteRequest | None) -> bytes:
        if byte_range is None:
            return data
        if isinstance(byte_range, RangeByteRequest):
            return data[byte_range.start : byte_range.end]
        if isinstance(byte_range, OffsetByteRequest):
            return data[byte_range.offset :]
        if isinstance(byte_range, SuffixByteRequest):
            return data[max(0, len(data) - byte_range.suffix) :]
        raise TypeError(f"{type(self).__name__}: Unexpected byte_range, got {byte_range!r}")

    # -- listing ------------------------------------------------------------

    def _chunk_keys(self, level: int) -> Iterable[str]:
        for index in np.ndindex(*self._grids[level]):
            yield f"{level}/c/" + "/".join(map(str, index))

    async def list(self) -> AsyncIterator[str]:
        for key in self._docs:
            yield key
        for level in range(len(self._grids)):
            for key in self._chunk_keys(level):
                yield key

    async def list_prefix(self, prefix: str) -> AsyncIterator[str]:
        async for key in self.list():
            if key.startswith(prefix):
                yield key

    async def list_dir(self, prefix: str) -> AsyncIterator[str]:
        parts = [p for p in prefix.strip("/").split("/") if p]
        nlevels = len(self._grids)
        names: Iterable[str]
        if not parts:
            names = ["zarr.json", *map(str, range(nlevels))]
        elif not parts[0].isdigit() or int(parts[0]) >= nlevels:
            return
        elif len(parts) == 1:
            names = ["zarr.json", "c"]
        else:
            grid = self._grids[int(parts[0])]
            index = parts[2:]
            if (
                parts[1] != "c"
                or len(index) >= len(grid)
                or not all(p.isdigit() and int(p) < n for p, n in zip(index, grid, strict=False))
            ):
                return
            names = map(str, range(grid[len(index)]))
        for name in names:
            yield name
