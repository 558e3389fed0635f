"""Tests for simplezarr/data/_virtual.py: a store that computes its chunks on read."""

from __future__ import annotations

import asyncio
import pickle
from typing import Any

import numpy as np
import pytest
import zarr
from zarr.abc.store import OffsetByteRequest, RangeByteRequest, SuffixByteRequest
from zarr.core.buffer import Buffer, cpu, default_buffer_prototype
from zarr.core.sync import sync
from zarr.testing.store import StoreTests

from simplezarr._open import open as sz_open
from simplezarr.data import ProceduralStore, virtual_fractal
from simplezarr.data._tissue import render_tissue
from simplezarr.utils.multiscale import MultiscaleInfo


def _assert_codes_equal(got: np.ndarray, want: np.ndarray) -> None:
    """Equal up to a rare off-by-one where float rounding depends on BLAS threading."""
    diff = np.abs(got.astype(np.int64) - want.astype(np.int64))
    assert got.shape == want.shape
    assert diff.max() <= 1 and np.count_nonzero(diff) <= max(1, diff.size // 1000)


def _ramp(level: int, y0: int, x0: int, h: int, w: int) -> np.ndarray:
    y = np.arange(y0, y0 + h)[:, None]
    x = np.arange(x0, x0 + w)[None, :]
    return (1000 * level + (y * 3 + x) % 997).astype(np.uint16)


def test_a_trillion_pixels_open_without_computing_anything() -> None:
    group = virtual_fractal()
    store = group.store
    assert isinstance(store, ProceduralStore)
    level0 = group["0"]
    assert isinstance(level0, zarr.Array)
    assert level0.shape == (2**20, 2**20) and level0.shape[0] * level0.shape[1] > 1e12
    assert len(list(group.array_keys())) == 12 and group["11"].shape == (512, 512)
    (info,) = MultiscaleInfo.from_zarr_node(zarr.open_group(store, mode="r"))
    assert [s.shape[0] for s in info.scales] == [2**20 // 2**lvl for lvl in range(12)]
    assert info.scales[3].offset == pytest.approx((0.25 * 3.5,) * 2)
    assert store.chunks_rendered == 0
    block = level0[700_000:700_600, 300_000:300_100]
    assert store.chunks_rendered == 4  # rows span two chunks, columns two
    expected = np.rint(render_tissue(700_000, 300_000, 600, 100, size=2**20) * 65535)
    _assert_codes_equal(block, expected)


def test_every_level_is_the_generator_at_that_level() -> None:
    group = virtual_fractal(10_000)
    assert group["0"].shape == (10_000, 10_000)  # the 1e8-pixel version
    for level in (2, 5):
        arr = group[str(level)]
        h = arr.shape[0]
        got = arr[h - 100 : h, 0:50]  # includes the padded edge chunk
        want = np.rint(render_tissue(h - 100, 0, 100, 50, step=2**level, size=10_000) * 65535)
        _assert_codes_equal(got, want)
    assert isinstance(sz_open(group.store), zarr.Group)


def test_store_contract() -> None:
    store = ProceduralStore(_ramp, (1000, 700), chunk=256, dtype="uint16", name="ramp")
    proto = default_buffer_prototype()

    async def run() -> None:
        # 1000 x 700 -> 500 x 350 -> 250 x 175: three levels
        assert await store.exists("zarr.json") and await store.exists("2/zarr.json")
        assert await store.exists("0/c/3/2") and not await store.exists("0/c/4/0")
        assert not await store.exists("3/zarr.json") and not await store.exists("0/c/x/1")
        assert await store.get("nope", proto) is None
        whole = await store.get("1/c/0/1", proto)
        assert whole is not None
        raw = whole.to_bytes()
        assert len(raw) == 256 * 256 * 2
        np.testing.assert_array_equal(
            np.frombuffer(raw, "<u2").reshape(256, 256)[:, :94], _ramp(1, 0, 256, 256, 94)
        )
        for req, sl in [
            (RangeByteRequest(10, 20), slice(10, 20)),
            (OffsetByteRequest(100), slice(100, None)),
            (SuffixByteRequest(8), slice(-8, None)),
        ]:
            part = await store.get("1/c/0/1", proto, req)
            assert part is not None and part.to_bytes() == raw[sl]
        assert [k async for k in store.list_dir("")] == ["zarr.json", "0", "1", "2"]
        assert [k async for k in store.list_dir("0")] == ["zarr.json", "c"]
        assert [k async for k in store.list_dir("0/c")] == ["0", "1", "2", "3"]
        assert [k async for k in store.list_dir("0/c/3")] == ["0", "1", "2"]
        keys = [k async for k in store.list_prefix("2/")]
        assert keys == ["2/zarr.json", "2/c/0/0"]
        with pytest.raises(ValueError, match="read-only"):
            await store.set("0/c/0/0", whole)
        with pytest.raises(ValueError, match="read-only"):
            await store.delete("zarr.json")

    asyncio.run(run())
    assert store.read_only and store.with_read_only(True) is store
    with pytest.raises(NotImplementedError, match="with_read_only is not implemented"):
        store.with_read_only(False)
    with pytest.raises(ValueError, match="always read-only"):
        ProceduralStore(_ramp, (10, 10), read_only=False)
    group = zarr.open_group(store, mode="r")
    np.testing.assert_array_equal(group["2"][...], _ramp(2, 0, 0, 250, 175))
    assert store == ProceduralStore(_ramp, (1000, 700), chunk=256, dtype="uint16")
    assert store != ProceduralStore(_ramp, (1000, 701), chunk=256, dtype="uint16")


def test_a_render_of_the_wrong_shape_is_named() -> None:
    store = ProceduralStore(lambda lvl, y, x, h, w: np.zeros((h + 1, w)), (300, 300), chunk=128)
    with pytest.raises(
        ValueError, match=r"render\(0, 0, 128, 128, 128\) returned shape \(129, 128\)"
    ):
        zarr.open_group(store, mode="r")["0"][0:10, 130:140]


def test_chunk_pool_reads_the_virtual_image() -> None:
    from simplezarr.utils.chunkpool import ChunkPool

    group = virtual_fractal(10_000)
    (pool,) = ChunkPool.from_zarr_node(group)
    try:
        chunks = [pool.get_chunk(1, (4, ix)) for ix in range(3)]
        pool.wait_for_chunks_to_load()
        for c in chunks:
            iy, ix = c.index
            want = np.rint(
                render_tissue(iy * 512, ix * 512, 512, 512, step=2, size=10_000) * 65535
            )
            _assert_codes_equal(c.data, want)
    finally:
        pool.destroy()


# -- zarr-python's store contract (zarr.testing.store.StoreTests), the read part ------------------

READ_ONLY = "ProceduralStore is read-only: a write test does not apply"
OWN_KEYS = ["zarr.json", "0/zarr.json", "1/zarr.json", "2/zarr.json"]  # of the 1000 x 700 ramp


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _keys(iterator: Any) -> list[str]:
    return sorted([k async for k in iterator])


@pytest.mark.anyio
class TestProceduralStoreContract(StoreTests[ProceduralStore, cpu.Buffer]):
    """zarr's own store tests. The harness puts test data into the store's table of documents
    (``_docs``, bypassing the store's methods, as zarr's harnesses do for their stores); tests
    that write through the store are skipped, and those that assume an empty store are
    restated with the store's own image keys added."""

    store_cls = ProceduralStore
    buffer_cls = cpu.Buffer

    async def set(self, store: ProceduralStore, key: str, value: Buffer) -> None:
        store._docs[key] = value.to_bytes()

    async def get(self, store: ProceduralStore, key: str) -> Buffer:
        return cpu.Buffer.from_bytes(store._docs[key])

    @pytest.fixture
    def store_kwargs(self) -> dict[str, Any]:
        return {"render": _ramp, "shape": (1000, 700), "chunk": 256, "dtype": "uint16"}

    @pytest.fixture
    def store(self, open_kwargs: dict[str, Any]) -> ProceduralStore:  # no I/O to open
        store = self.store_cls(**open_kwargs)
        sync(store._open())
        return store

    @pytest.fixture
    def store_not_open(self, store_kwargs: dict[str, Any]) -> ProceduralStore:
        return self.store_cls(**store_kwargs)

    def test_store_repr(self, store: ProceduralStore) -> None:
        assert repr(store) == "ProceduralStore(1000x700, chunk=256, levels=3)"

    def test_store_supports_writes(self, store: ProceduralStore) -> None:
        assert not store.supports_writes and not store.supports_deletes

    def test_store_supports_listing(self, store: ProceduralStore) -> None:
        assert store.supports_listing

    def test_store_read_only(self, store: ProceduralStore) -> None:  # always read-only
        assert store.read_only
        with pytest.raises(AttributeError):
            store.read_only = False  # type: ignore[misc]

    @pytest.mark.parametrize("read_only", [True, False])
    async def test_store_open_read_only(
        self, open_kwargs: dict[str, Any], read_only: bool
    ) -> None:
        if not read_only:
            with pytest.raises(ValueError, match="always read-only"):
                await self.store_cls.open(**{**open_kwargs, "read_only": False})
            return
        store = await self.store_cls.open(**{**open_kwargs, "read_only": True})
        assert store._is_open and store.read_only

    async def test_serializable_store(self, store: ProceduralStore) -> None:
        copy = pickle.loads(pickle.dumps(store))
        assert copy == store and copy.read_only
        proto = default_buffer_prototype()
        a, b = await copy.get("1/c/0/1", proto), await store.get("1/c/0/1", proto)
        assert a is not None and b is not None and a.to_bytes() == b.to_bytes()

    async def test_getsize_prefix(self, store: ProceduralStore) -> None:
        for key in ["c/0/0", "c/0/1", "c/1/0", "c/1/1"]:
            await self.set(store, key, self.buffer_cls.from_bytes(b"\x01\x02\x03\x04"))
        assert await store.getsize_prefix("c") == 16
        assert await store.getsize_prefix("2") == len(store._docs["2/zarr.json"]) + 256 * 256 * 2

    async def test_exists(self, store: ProceduralStore) -> None:
        assert not await store.exists("foo")
        await self.set(store, "foo/zarr.json", self.buffer_cls.from_bytes(b"bar"))
        assert await store.exists("foo/zarr.json") and await store.exists("0/c/3/2")

    async def test_is_empty(self, store: ProceduralStore) -> None:
        assert not await store.is_empty("")  # it always holds its image
        await self.set(store, "foo/bar", self.buffer_cls.from_bytes(b"something"))
        assert await store.is_empty("fo") and not await store.is_empty("foo/")
        assert not await store.is_empty("foo") and await store.is_empty("spam/")
        assert not await store.is_empty("2") and await store.is_empty("3")

    async def test_list(self, store: ProceduralStore) -> None:
        chunks = [f"{lvl}/c/{iy}/{ix}" for lvl, (ny, nx) in enumerate([(4, 3), (2, 2), (1, 1)])
                  for iy in range(ny) for ix in range(nx)]  # fmt: skip
        assert await _keys(store.list()) == sorted(OWN_KEYS + chunks)
        await self.set(store, "foo/zarr.json", self.buffer_cls.from_bytes(b""))
        assert await _keys(store.list()) == sorted([*OWN_KEYS, *chunks, "foo/zarr.json"])

    async def test_list_prefix(self, store: ProceduralStore) -> None:
        for prefix in ("a/", "a/b/"):
            await self.set(store, prefix + "zarr.json", self.buffer_cls.from_bytes(b""))
        assert await _keys(store.list_prefix("a/")) == ["a/b/zarr.json", "a/zarr.json"]
        assert await _keys(store.list_prefix("2/")) == ["2/c/0/0", "2/zarr.json"]

    async def test_list_empty_path(self, store: ProceduralStore) -> None:
        await self.set(store, "foo/bar/zarr.json", self.buffer_cls.from_bytes(b""))
        everything = await _keys(store.list())
        assert await _keys(store.list_prefix("")) == everything
        assert "foo/bar/zarr.json" in everything

    async def test_list_dir(self, store: ProceduralStore) -> None:
        assert await _keys(store.list_dir("")) == ["0", "1", "2", "zarr.json"]
        assert await _keys(store.list_dir("1/")) == ["c", "zarr.json"]
        assert await _keys(store.list_dir("9")) == []

    @pytest.mark.skip(reason=READ_ONLY)
    async def test_set(self, store: ProceduralStore, key: str, data: bytes) -> None: ...

    @pytest.mark.skip(reason=READ_ONLY)
    async def test_set_not_open(self, store_not_open: ProceduralStore) -> None: ...

    @pytest.mark.skip(reason=READ_ONLY)
    async def test_set_many(self, store: ProceduralStore) -> None: ...

    @pytest.mark.skip(reason=READ_ONLY)
    async def test_set_if_not_exists(self, store: ProceduralStore) -> None: ...

    @pytest.mark.skip(reason=READ_ONLY)
    async def test_clear(self, store: ProceduralStore) -> None: ...
