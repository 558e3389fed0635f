"""Read one chunk of a zarr array, fast, from any thread.

The chunk pool reads whole chunks from worker threads. zarr-python's public
read paths (``array[...]``, ``get_block_selection``) hop through zarr's event
loop and its own thread pool for every call; on these machines that costs
about two thirds of the throughput of simply reading the chunk's bytes and
decoding them (see ``benchmarks/bench_chunkread.py`` and
``docs/performance.md``). So :class:`ChunkReader` does exactly that when it
understands the array's codecs:

* **bytes**: a :class:`~zarr.storage.LocalStore` is read with a plain file
  read; any other store through its own ``get`` (with byte ranges for shards),
  run to completion on zarr's event loop by :func:`zarr.core.sync.sync`.
* **decode**: the codecs that matter in practice (bytes/endian, zstd, blosc,
  gzip, crc32c, transpose; zarr v2 compressors and filters, which are
  numcodecs objects already) are decoded synchronously with numcodecs, whose
  codecs release the GIL, so two reads really run on two cores.
* **checksums**: a ``crc32c`` codec's checksum is verified, on chunks and on
  shard indexes, with ``google_crc32c`` (zarr's own dependency, in C): about
  30 µs per 512 KiB, 2% of a zstd decode of the same chunk. A mismatch fails
  the read with a ``ChunkReadError`` saying "checksum", where zarr-python
  raises too; corrupt data is never returned.
* **sharding**: a sharded array is read by its *inner* chunks. The shard's
  index is fetched once (a suffix or prefix byte range) and kept in a small
  per-reader cache; each inner chunk is then one byte-range read.
* **timeouts**: ``read(index, timeout=...)`` bounds the read. A store's
  ``get`` (and the fallback below) runs inside ``asyncio.wait_for`` on zarr's
  loop, so a read that hangs there is really cancelled at the deadline and the
  thread comes back; a plain file read cannot be interrupted, which the
  pool's watchdog (:mod:`simplezarr.utils._readthreads`) covers. A late read
  raises :class:`ChunkReadTimeout`.
* **cancelling**: ``read(index, cancel=ReadCancel())`` lets another thread
  stop the read (the pool does when it destroys a chunk whose read runs):
  the coroutine on zarr's loop is cancelled at once and the read raises.

Anything else (other codecs, variable-length types) falls back to zarr's own
``array[...]`` for the chunk's region: slower, never wrong.

A missing chunk (or an empty inner chunk of a shard) reads as the array's fill
value. Chunks at the array's far edges are cut to the array bounds, so
``data.shape`` is always the region the chunk covers. The returned arrays are
read-only: several users of the pool share them.
"""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import google_crc32c
import numcodecs
import numpy as np
from zarr.abc.store import RangeByteRequest, SuffixByteRequest
from zarr.codecs import (
    BloscCodec,
    BytesCodec,
    Crc32cCodec,
    GzipCodec,
    ShardingCodec,
    TransposeCodec,
    ZstdCodec,
)
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync
from zarr.storage import LocalStore

__all__ = [
    "ChunkReadError",
    "ChunkReadTimeout",
    "ChunkReader",
    "ReadCancel",
    "read_timeout_error",
]

_Decoder = Callable[[bytes], np.ndarray]
_MAX_U64 = 2**64 - 1
_GRACE = 1.0  # seconds zarr's loop gets, past the deadline, to deliver a cancellation


class ChunkReadError(OSError):
    """Reading or decoding one chunk failed; the message names level, index and store."""


class ChunkReadTimeout(ChunkReadError, TimeoutError):
    """Reading one chunk took longer than its timeout; also a :class:`TimeoutError`."""


class _Cancelled(Exception):
    """The read was cancelled through its ReadCancel."""


class ReadCancel:
    """Lets another thread cancel one running read.

    A read that waits on zarr's event loop (any store but a local directory,
    and zarr's own ``array[...]``) stops at once; a plain file read or a decode
    runs to its end (and the caller discards it).
    """

    __slots__ = ("_cancelled", "_lock", "_task")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancelled = False
        self._task: asyncio.Task[Any] | None = None

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancelled

    def cancel(self) -> None:
        """Cancel the read (from any thread; never blocks)."""
        with self._lock:
            self._cancelled = True
            task = self._task
        if task is not None:
            try:
                task.get_loop().call_soon_threadsafe(task.cancel)
            except RuntimeError:
                pass  # zarr's loop is closed: nothing runs there any more

    def _bind(self, task: asyncio.Task[Any]) -> bool:
        with self._lock:
            self._task = None if self._cancelled else task
            return not self._cancelled

    def _unbind(self) -> None:
        with self._lock:
            self._task = None


class _ChecksumError(ValueError):
    """A crc32c checksum does not match the bytes it covers."""


def read_timeout_error(
    level: int, index: tuple[int, ...], store: str, timeout: float
) -> ChunkReadTimeout:
    """The error of a read that passed its deadline (one wording, wherever it is noticed)."""
    return ChunkReadTimeout(
        f"ChunkPool: reading level {level} chunk {index} of {store!r} took longer than "
        f"{timeout:g} s"
    )


class ChunkReader:
    """Reads the chunks of one zarr array by chunk index.

    Parameters
    ----------
    array : zarr.Array
        The array to read.
    level : int
        The level of the array in its multiscale image (only used in messages).
    """

    def __init__(self, array: Any, level: int = 0) -> None:
        self._array = array
        self._level = level
        self._shape: tuple[int, ...] = tuple(array.shape)
        self._chunks: tuple[int, ...] = tuple(array.chunks)
        self._store = array.store_path.store
        self._prefix = array.store_path.path
        self._fill = array.fill_value
        self._dtype = np.dtype(array.dtype)
        self._root: Path | None = (
            Path(self._store.root) if isinstance(self._store, LocalStore) else None
        )
        self._shard: _ShardLayout | None = None
        self._decode: _Decoder | None = None
        try:
            self._decode, self._shard = _plan(array)
        except _Unsupported:
            self._decode = None
        self._index_cache: OrderedDict[tuple[int, ...], np.ndarray | None] = OrderedDict()
        self._index_lock = threading.Lock()
        self._bytes_read = 0
        self._bytes_lock = threading.Lock()

    @property
    def fast(self) -> bool:
        """True when chunks are read by this module, False when through zarr's ``array[...]``."""
        return self._decode is not None

    @property
    def bytes_read(self) -> int:
        """Bytes fetched from the store so far (chunks, inner chunks, shard indexes).

        Counted on the fast path only: reads through zarr's ``array[...]``
        (see :attr:`fast`) are not.
        """
        return self._bytes_read

    def describe_store(self) -> str:
        """A short text naming the store and the array's path in it, for messages."""
        return f"{self._store!s}/{self._prefix}".rstrip("/")

    def read(
        self,
        index: tuple[int, ...],
        *,
        timeout: float | None = None,
        cancel: ReadCancel | None = None,
    ) -> np.ndarray:
        """Read and decode the chunk at ``index`` (a tuple of chunk coordinates).

        Parameters
        ----------
        index : tuple[int, ...]
            The chunk's coordinates.
        timeout : float, optional
            Seconds the read may take; store reads are cancelled at the deadline.
        cancel : ReadCancel, optional
            Lets another thread stop the read (it then raises ``ChunkReadError``).

        Raises
        ------
        ChunkReadTimeout
            When the read took longer than ``timeout``.
        ChunkReadError
            When the store or the decoder fails, or a checksum does not match;
            the message names the level, the index and the store.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        bound = _Bound(deadline, cancel)
        try:
            if self._decode is None:
                data = self._read_with_zarr(index, bound)
            else:
                data = self._read_fast(index, bound)
        except TimeoutError as exc:
            if deadline is not None and time.monotonic() >= deadline:
                assert timeout is not None
                raise read_timeout_error(
                    self._level, index, self.describe_store(), timeout
                ) from exc
            raise self._error(index, exc) from exc
        except Exception as exc:
            raise self._error(index, exc) from exc
        data.flags.writeable = False
        return data

    def _error(self, index: tuple[int, ...], exc: Exception) -> ChunkReadError:
        return ChunkReadError(
            f"ChunkReader.read(): reading chunk {index} of level {self._level} "
            f"from {self.describe_store()!r} failed: {type(exc).__name__.lstrip('_')}: {exc}"
        )

    # -- paths ----------------------------------------------------------------

    def _region(self, index: tuple[int, ...]) -> tuple[slice, ...]:
        return tuple(
            slice(i * c, min((i + 1) * c, s))
            for i, c, s in zip(index, self._chunks, self._shape, strict=True)
        )

    def _read_with_zarr(self, index: tuple[int, ...], bound: _Bound) -> np.ndarray:
        return np.asarray(bound.run(self._array._async_array.getitem(self._region(index))))

    def _read_fast(self, index: tuple[int, ...], bound: _Bound) -> np.ndarray:
        assert self._decode is not None
        if self._shard is None:
            raw = self._get(self._key(index), None, bound)
        else:
            raw = self._get_inner(index, bound)
        if raw is None:
            full = np.full(self._chunks, self._fill, dtype=self._dtype)
        else:
            full = self._decode(raw)
        region = self._region(index)
        if any(r.stop - r.start != c for r, c in zip(region, self._chunks, strict=True)):
            # An edge chunk: copy, so the pool holds exactly the bytes it reports.
            return np.ascontiguousarray(full[tuple(slice(0, r.stop - r.start) for r in region)])
        return full

    def _key(self, chunk_coords: tuple[int, ...]) -> str:
        key: str = self._array.metadata.encode_chunk_key(chunk_coords)
        return f"{self._prefix}/{key}" if self._prefix else key

    def _get(
        self,
        key: str,
        byte_range: RangeByteRequest | SuffixByteRequest | None,
        bound: _Bound,
    ) -> bytes | None:
        if self._root is not None:
            raw = _read_file(self._root / key, byte_range)
        else:
            buf = bound.run(
                self._store.get(key, default_buffer_prototype(), byte_range=byte_range)
            )
            raw = None if buf is None else buf.to_bytes()
        if raw is not None:
            with self._bytes_lock:
                self._bytes_read += len(raw)
        return raw

    def _get_inner(self, index: tuple[int, ...], bound: _Bound) -> bytes | None:
        layout = self._shard
        assert layout is not None
        shard_coords = tuple(i // n for i, n in zip(index, layout.per_shard, strict=True))
        table = self._shard_index(shard_coords, bound)
        if table is None:
            return None
        inner = tuple(i % n for i, n in zip(index, layout.per_shard, strict=True))
        offset, length = (int(v) for v in table[inner])
        if offset == _MAX_U64 and length == _MAX_U64:
            return None
        return self._get(self._key(shard_coords), RangeByteRequest(offset, offset + length), bound)

    def _shard_index(self, shard_coords: tuple[int, ...], bound: _Bound) -> np.ndarray | None:
        with self._index_lock:
            if shard_coords in self._index_cache:
                self._index_cache.move_to_end(shard_coords)
                return self._index_cache[shard_coords]
        layout = self._shard
        assert layout is not None
        key = self._key(shard_coords)
        if layout.index_at_end:
            raw = self._get(key, SuffixByteRequest(layout.index_nbytes), bound)
        else:
            raw = self._get(key, RangeByteRequest(0, layout.index_nbytes), bound)
        try:
            table = None if raw is None else layout.parse_index(raw)
        except _ChecksumError as exc:
            raise _ChecksumError(f"shard index of {key!r}: {exc}") from None
        with self._index_lock:
            self._index_cache[shard_coords] = table
            while len(self._index_cache) > 64:
                self._index_cache.popitem(last=False)
        return table


# -- planning: which decoder for which codecs ----------------------------------


class _Unsupported(Exception):
    pass


class _ShardLayout:
    """Where a shard keeps its index and how to parse it."""

    def __init__(self, codec: ShardingCodec, shard_shape: tuple[int, ...]) -> None:
        inner = tuple(codec.chunk_shape)
        self.per_shard = tuple(s // c for s, c in zip(shard_shape, inner, strict=True))
        self.index_at_end = codec.index_location.value == "end"
        names = [type(c) for c in codec.index_codecs]
        if names not in ([BytesCodec], [BytesCodec, Crc32cCodec]):
            raise _Unsupported
        endian = getattr(codec.index_codecs[0], "endian", None)
        self._index_dtype = np.dtype(
            "<u8" if endian is None or endian.value == "little" else ">u8"
        )
        self._has_crc = len(names) == 2
        self.index_nbytes = 16 * int(np.prod(self.per_shard)) + (4 if self._has_crc else 0)

    def parse_index(self, raw: bytes) -> np.ndarray:
        body = _verify_crc32c(raw) if self._has_crc else raw
        return np.frombuffer(body, dtype=self._index_dtype).reshape((*self.per_shard, 2))


def _plan(array: Any) -> tuple[_Decoder, _ShardLayout | None]:
    """Build a synchronous decoder for ``array``'s chunks, or raise _Unsupported."""
    metadata = array.metadata
    chunks = tuple(array.chunks)
    if metadata.zarr_format == 2:
        return _plan_v2(metadata, chunks), None
    codecs = list(metadata.codecs)
    shard: _ShardLayout | None = None
    if len(codecs) == 1 and isinstance(codecs[0], ShardingCodec):
        shard = _ShardLayout(codecs[0], tuple(metadata.chunk_grid.chunk_shape))
        codecs = list(codecs[0].codecs)
    return _plan_v3(codecs, np.dtype(array.dtype), chunks), shard


def _plan_v2(metadata: Any, chunks: tuple[int, ...]) -> _Decoder:
    dtype = np.dtype(metadata.dtype.to_native_dtype())
    if dtype.hasobject:
        raise _Unsupported
    compressor = metadata.compressor
    filters = list(metadata.filters or [])
    order = metadata.order

    def decode(raw: bytes) -> np.ndarray:
        buf: Any = compressor.decode(raw) if compressor is not None else raw
        for f in reversed(filters):
            buf = f.decode(buf)
        return np.frombuffer(buf, dtype=dtype).reshape(chunks, order=order)

    return decode


def _plan_v3(codecs: Sequence[Any], dtype: np.dtype[Any], chunks: tuple[int, ...]) -> _Decoder:
    if dtype.hasobject:
        raise _Unsupported
    array_array: list[TransposeCodec] = []
    bytes_bytes: list[Callable[[bytes], Any]] = []
    array_bytes: BytesCodec | None = None
    for codec in codecs:
        if isinstance(codec, TransposeCodec) and array_bytes is None:
            array_array.append(codec)
        elif isinstance(codec, BytesCodec) and array_bytes is None:
            array_bytes = codec
        elif array_bytes is not None:
            bytes_bytes.append(_bytes_decoder(codec))
        else:
            raise _Unsupported
    if array_bytes is None:
        raise _Unsupported
    endian = array_bytes.endian
    if dtype.itemsize > 1 and endian is not None:
        dtype = dtype.newbyteorder("<" if endian.value == "little" else ">")
    # Shape of the array as the bytes codec saw it: after the transposes.
    shape = chunks
    for t in array_array:
        shape = tuple(shape[i] for i in t.order)
    inverse = [tuple(int(i) for i in np.argsort(t.order)) for t in reversed(array_array)]

    def decode(raw: bytes) -> np.ndarray:
        buf: Any = raw
        for dec in reversed(bytes_bytes):
            buf = dec(buf)
        out = np.frombuffer(buf, dtype=dtype).reshape(shape)
        for perm in inverse:
            out = out.transpose(perm)
        if not out.dtype.isnative:
            out = out.astype(out.dtype.newbyteorder("="))
        return out

    return decode


def _bytes_decoder(codec: Any) -> Callable[[bytes], Any]:
    if isinstance(codec, ZstdCodec):
        return numcodecs.Zstd().decode
    if isinstance(codec, BloscCodec):
        return numcodecs.Blosc().decode
    if isinstance(codec, GzipCodec):
        return gzip.decompress
    if isinstance(codec, Crc32cCodec):
        return _verify_crc32c
    raise _Unsupported


def _verify_crc32c(raw: Any) -> np.ndarray:
    """The bytes before a trailing little-endian crc32c, if it matches them."""
    data = np.frombuffer(raw, dtype=np.uint8)
    if data.size < 4:
        raise _ChecksumError(f"checksum (crc32c) missing: only {data.size} bytes")
    stored = int.from_bytes(data[-4:].tobytes(), "little")
    computed = google_crc32c.value(data[:-4])
    if computed != stored:
        raise _ChecksumError(
            f"checksum (crc32c) mismatch: stored {stored:#010x}, computed {computed:#010x}"
        )
    return data[:-4]


class _Bound:
    """Runs one read's coroutines on zarr's loop, within its deadline and cancellable."""

    __slots__ = ("cancel", "deadline")

    def __init__(self, deadline: float | None, cancel: ReadCancel | None) -> None:
        self.deadline = deadline
        self.cancel = cancel

    def run(self, coro: Any) -> Any:
        """``coro``'s result; TimeoutError at the deadline, _Cancelled when cancelled."""
        if self.deadline is None and self.cancel is None:
            return sync(coro)
        remaining = None if self.deadline is None else self.deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            coro.close()
            raise TimeoutError("no time left")
        wait = None if remaining is None else remaining + _GRACE
        return sync(self._guarded(coro, remaining), timeout=wait)

    async def _guarded(self, coro: Any, remaining: float | None) -> Any:
        cancel = self.cancel
        task = asyncio.current_task()
        assert task is not None
        if cancel is not None and not cancel._bind(task):
            coro.close()
            raise _Cancelled("the read was cancelled")
        try:
            return await asyncio.wait_for(coro, remaining)
        except asyncio.CancelledError:
            if cancel is not None and cancel.cancelled:
                raise _Cancelled("the read was cancelled") from None
            raise
        finally:
            if cancel is not None:
                cancel._unbind()


def _read_file(
    path: Path, byte_range: RangeByteRequest | SuffixByteRequest | None
) -> bytes | None:
    try:
        with open(path, "rb") as f:
            if byte_range is None:
                return f.read()
            if isinstance(byte_range, SuffixByteRequest):
                f.seek(0, 2)
                size = f.tell()
                f.seek(max(0, size - byte_range.suffix))
                return f.read()
            f.seek(byte_range.start)
            return f.read(byte_range.end - byte_range.start)
    except FileNotFoundError:
        return None
