"""ChunkReader: one contract, every codec layout and store kind it meets.

For each layout the reader's chunks must equal what zarr-python itself reads
for the same region, and the reader must say whether it used its fast path
(its own read + decode) or zarr's ``array[...]``. Stores: local directory,
zip, in-memory, and HTTP through zarr's fsspec store on a real loopback
server.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
import pytest
import zarr
from zarr.codecs import (
    BloscCodec,
    BytesCodec,
    Crc32cCodec,
    GzipCodec,
    ShardingCodec,
    TransposeCodec,
    ZstdCodec,
)
from zarr.storage import LocalStore, MemoryStore, ZipStore

from simplezarr._open import open as open_source
from simplezarr.utils._chunkread import ChunkReader, ChunkReadError, ChunkReadTimeout
from tests._httpserver import serve_directory
from tests._stores import FailingStore, HangingStore

SHAPE = (37, 50, 45)
CHUNKS = (8, 16, 16)


def _data(dtype: str) -> np.ndarray:
    rng = np.random.default_rng(3)
    if np.dtype(dtype).kind == "f":
        return rng.normal(0, 100, SHAPE).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, SHAPE, dtype=dtype, endpoint=True)


# name -> (create_array keyword arguments, expected fast path)
LAYOUTS: dict[str, tuple[dict[str, Any], bool]] = {
    "v3 zstd": ({"compressors": ZstdCodec(level=1)}, True),
    "v3 no compression": ({"compressors": None}, True),
    "v3 big-endian bytes": (
        {"serializer": BytesCodec(endian="big"), "compressors": GzipCodec()},
        True,
    ),
    "v3 blosc": ({"compressors": BloscCodec(cname="lz4", clevel=3)}, True),
    "v3 gzip + crc32c": ({"compressors": [GzipCodec(), Crc32cCodec()]}, True),
    "v3 transpose": ({"filters": [TransposeCodec(order=(2, 0, 1))]}, True),
    "v3 sharded": ({"shards": (16, 32, 32), "compressors": ZstdCodec()}, True),
    "v3 sharded, index at start": (
        {
            "chunks": (16, 32, 32),
            "serializer": ShardingCodec(
                chunk_shape=CHUNKS, codecs=[BytesCodec(), ZstdCodec()], index_location="start"
            ),
            "compressors": None,
        },
        True,
    ),
    "v2 zstd": ({"zarr_format": 2, "compressors": numcodecs.Zstd()}, True),
    "v2 delta filter + blosc": (
        {
            "zarr_format": 2,
            "filters": [numcodecs.Delta(dtype="int16")],
            "compressors": numcodecs.Blosc(),
        },
        True,
    ),
    "v2 fortran order": ({"zarr_format": 2, "order": "F"}, True),
    "v2 no compressor": ({"zarr_format": 2, "compressors": None}, True),
}


def _make(store: Any, layout: str, dtype: str = "int16") -> tuple[zarr.Array, np.ndarray]:
    kwargs = dict(LAYOUTS[layout][0])
    arr = zarr.create_array(
        store, shape=SHAPE, chunks=kwargs.pop("chunks", CHUNKS), dtype=dtype, **kwargs
    )
    data = _data(dtype)
    arr[:] = data
    return arr, data


def _check_all_chunks(arr: zarr.Array, data: np.ndarray) -> ChunkReader:
    reader = ChunkReader(arr, level=2)
    grid = [range(-(-s // c)) for s, c in zip(arr.shape, arr.chunks, strict=True)]
    for index in np.ndindex(*(len(g) for g in grid)):
        got = reader.read(index)
        region = tuple(
            slice(i * c, min((i + 1) * c, s))
            for i, c, s in zip(index, arr.chunks, arr.shape, strict=True)
        )
        np.testing.assert_array_equal(got, data[region])
        assert got.dtype == data.dtype and got.dtype.isnative
        assert not got.flags.writeable
    return reader


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_layout_reads_what_zarr_reads(layout: str) -> None:
    arr, data = _make(MemoryStore(), layout)
    reader = _check_all_chunks(zarr.open_array(arr.store, mode="r"), data)
    assert reader.fast is LAYOUTS[layout][1]


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int32", "float32", "float64", "uint64"])
def test_every_numeric_dtype(dtype: str) -> None:
    arr, data = _make(MemoryStore(), "v3 zstd", dtype)
    assert _check_all_chunks(arr, data).fast


@pytest.mark.filterwarnings("ignore:Numcodecs codecs are not in the Zarr version 3")
def test_unknown_codecs_fall_back_to_zarr(tmp_path: Path) -> None:
    # A numcodecs codec wrapped for zarr 3 is one the reader does not know: zarr reads it.
    from zarr.codecs.numcodecs import BZ2

    arr = zarr.create_array(
        LocalStore(tmp_path / "bz2.zarr"),
        shape=SHAPE,
        chunks=CHUNKS,
        dtype="int16",
        compressors=BZ2(),
    )
    data = _data("int16")
    arr[:] = data
    reader = _check_all_chunks(zarr.open_array(tmp_path / "bz2.zarr", mode="r"), data)
    assert not reader.fast


@pytest.mark.parametrize(
    "make_store",
    [
        lambda p: LocalStore(p / "a.zarr"),
        lambda p: ZipStore(p / "a.zip", mode="w"),
    ],
    ids=["local", "zip"],
)
def test_stores_on_disk(tmp_path: Path, make_store: Callable[[Path], Any]) -> None:
    store = make_store(tmp_path)
    _, data = _make(store, "v3 sharded")
    store.close()
    node = open_source(str(tmp_path / ("a.zip" if isinstance(store, ZipStore) else "a.zarr")))
    assert isinstance(node, zarr.Array)
    assert _check_all_chunks(node, data).fast


def test_http_store_with_byte_ranges(tmp_path: Path) -> None:
    _make(LocalStore(tmp_path / "img.zarr"), "v3 sharded")
    data = _data("int16")
    with serve_directory(tmp_path) as served:
        node = open_source(f"{served.url}/img.zarr")
        assert isinstance(node, zarr.Array)
        _check_all_chunks(node, data)
        assert served.ranges, "inner chunks of a shard are read with Range requests"


def test_missing_chunks_are_the_fill_value_also_inside_shards() -> None:
    store = MemoryStore()
    arr = zarr.create_array(
        store, shape=SHAPE, chunks=CHUNKS, shards=(16, 32, 32), dtype="int16", fill_value=9
    )
    arr[:8, :16, :16] = 1  # one inner chunk of one shard; the rest of that shard is empty
    reader = ChunkReader(zarr.open_array(store, mode="r"))
    assert (reader.read((0, 0, 0)) == 1).all()
    assert (reader.read((0, 1, 0)) == 9).all()  # empty inner chunk of a written shard
    assert (reader.read((4, 3, 2)) == 9).all()  # shard never written
    assert reader.read((4, 3, 2)).shape == (5, 2, 13)


def test_a_store_error_names_level_index_and_store() -> None:
    base = MemoryStore()
    _make(base, "v3 zstd")
    store = FailingStore(base, {"c/1/2/0"})
    reader = ChunkReader(zarr.open_array(store, mode="r"), level=3)
    with pytest.raises(
        ChunkReadError, match=r"chunk \(1, 2, 0\) of level 3 from .*OSError: injected"
    ):
        reader.read((1, 2, 0))
    reader.read((1, 2, 1))  # the reader stays usable


def test_corrupt_chunk_bytes_name_the_chunk(tmp_path: Path) -> None:
    _make(LocalStore(tmp_path / "a.zarr"), "v3 zstd")
    (tmp_path / "a.zarr" / "c" / "0" / "0" / "1").write_bytes(b"not zstd at all")
    reader = ChunkReader(zarr.open_array(tmp_path / "a.zarr", mode="r"))
    with pytest.raises(ChunkReadError, match=r"chunk \(0, 0, 1\) of level 0"):
        reader.read((0, 0, 1))


# -- checksums and timeouts ---------------------------------------------------------------------


def _flip_byte(path: Path, offset: int) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0xFF
    path.write_bytes(bytes(raw))


def test_a_corrupt_chunk_fails_its_crc32c_check(tmp_path: Path) -> None:
    # Uncompressed + crc32c: without the check the flipped byte would come back as data.
    arr = zarr.create_array(
        LocalStore(tmp_path / "a.zarr"),
        shape=SHAPE,
        chunks=CHUNKS,
        dtype="int16",
        compressors=Crc32cCodec(),
    )
    arr[:] = _data("int16")
    _flip_byte(tmp_path / "a.zarr" / "c" / "1" / "0" / "2", 100)
    node = zarr.open_array(tmp_path / "a.zarr", mode="r")
    with pytest.raises(ValueError, match="checksum"):
        node[8:16, 0:16, 32:48]  # zarr-python refuses it too
    reader = ChunkReader(node, level=1)
    assert reader.fast
    with pytest.raises(
        ChunkReadError,
        match=r"chunk \(1, 0, 2\) of level 1 .*checksum \(crc32c\) mismatch: stored 0x",
    ):
        reader.read((1, 0, 2))
    np.testing.assert_array_equal(reader.read((1, 0, 1)), _data("int16")[8:16, 0:16, 16:32])


def test_a_corrupt_shard_index_fails_its_crc32c_check(tmp_path: Path) -> None:
    _make(LocalStore(tmp_path / "a.zarr"), "v3 sharded")  # index: bytes + crc32c, at the end
    shard = tmp_path / "a.zarr" / "c" / "0" / "1" / "0"
    _flip_byte(shard, shard.stat().st_size - 4 - 16 + 8)  # a byte of the last inner chunk's length
    node = zarr.open_array(tmp_path / "a.zarr", mode="r")
    reader = ChunkReader(node, level=0)
    with pytest.raises(
        ChunkReadError,
        match=r"chunk \(0, 2, 0\) of level 0 .*"
        r"shard index of 'c/0/1/0': checksum \(crc32c\) mismatch",
    ):
        reader.read((0, 2, 0))
    with pytest.raises(ChunkReadError, match="checksum"):
        reader.read((0, 2, 0))  # a corrupt index is not cached as if it were good
    reader.read((0, 0, 0))  # other shards read


def test_a_hung_store_read_is_cancelled_at_the_timeout() -> None:
    base = MemoryStore()
    _make(base, "v3 zstd")
    store = HangingStore(base)
    reader = ChunkReader(zarr.open_array(store, mode="r"), level=2)
    with pytest.raises(
        ChunkReadTimeout, match=r"level 2 chunk \(0, 1, 0\) of .* took longer than 0.2 s"
    ):
        reader.read((0, 1, 0), timeout=0.2)
    assert store.cancelled.acquire(timeout=30)


@pytest.mark.filterwarnings("ignore:Numcodecs codecs are not in the Zarr version 3")
def test_a_hung_read_through_zarr_is_cancelled_at_the_timeout() -> None:
    from zarr.codecs.numcodecs import BZ2

    base = MemoryStore()
    zarr.create_array(base, shape=SHAPE, chunks=CHUNKS, dtype="int16", compressors=BZ2())[:] = 1
    store = HangingStore(base)
    reader = ChunkReader(zarr.open_array(store, mode="r"))
    assert not reader.fast
    with pytest.raises(ChunkReadTimeout, match=r"chunk \(1, 1, 1\) .* took longer than 0.2 s"):
        reader.read((1, 1, 1), timeout=0.2)
    assert store.cancelled.acquire(timeout=30)
    store.release()
    assert (reader.read((1, 1, 1), timeout=30) == 1).all()
