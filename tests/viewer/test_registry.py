"""Viewers of one image share one pool: a chunk is read once for all of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

from simplezarr.viewer import widget as widget_module
from simplezarr.viewer._registry import pool_leases
from simplezarr.viewer.widget import Viewer
from tests._stores import CountingStore

from .conftest import make_image
from .test_widget import message, ready, viewer_with_recorder, viewport

pytestmark = pytest.mark.skipif(
    not widget_module._BUNDLE_FOUND, reason="front-end bundle not built (npm run build)"
)


def _data() -> np.ndarray:
    return np.random.default_rng(3).integers(0, 4000, (600, 800), dtype=np.uint16)


def _show(viewer: Viewer, view: str = "a") -> None:
    message(viewer, ready(view))
    message(viewer, viewport(view, 0, [300.0, 400.0], 1.0, [600.0, 800.0]))
    viewer.flush_now()


def _chunk_gets(store: CountingStore) -> dict[str, int]:
    return {k: n for k, n in store.gets.items() if "/c/" in k or k.startswith("c/")}


def test_two_viewers_of_one_store_share_a_pool_and_read_each_chunk_once() -> None:
    store = CountingStore(zarr.storage.MemoryStore())
    make_image(_data(), store, chunks=(256, 256))
    store.gets.clear()  # (writing the pyramid read level 0 back)
    group = zarr.open_group(store, mode="r")
    v1, rec1 = viewer_with_recorder(group)
    v2, rec2 = viewer_with_recorder(group)
    try:
        assert v1.pool is v2.pool
        assert pool_leases(v1.pool) == 2
        _show(v1)
        _show(v2)
        assert rec1.tiles() and len(rec1.tiles()) == len(rec2.tiles())
        gets = _chunk_gets(store)
        assert gets and set(gets.values()) == {1}, gets
    finally:
        v1.close()
    # The pool lives on for the second viewer, then goes with it.
    pool = v2.pool
    assert pool_leases(pool) == 1 and pool.memory_usage > 0
    v2.close()
    assert pool_leases(pool) == 0 and pool.memory_usage == 0


def test_equal_paths_share_and_share_pool_false_opts_out(tmp_path: Path) -> None:
    path = tmp_path / "img.ome.zarr"
    make_image(_data(), zarr.storage.LocalStore(str(path)), chunks=(256, 256))
    v1 = Viewer(str(path))
    v2 = Viewer(path)  # a Path, not a str: the same image
    v3 = Viewer(str(path), share_pool=False)
    try:
        assert v1.pool is v2.pool
        assert v3.pool is not v1.pool
        assert pool_leases(v3.pool) == 0
    finally:
        for v in (v1, v2, v3):
            v.close()
    assert v3.pool.memory_usage == 0


def test_different_images_and_arrays_do_not_share(tmp_path: Path) -> None:
    data = _data()
    a1, a2 = Viewer(data), Viewer(data)  # each numpy source is its own in-memory store
    store_a, store_b = zarr.storage.MemoryStore(), zarr.storage.MemoryStore()
    make_image(data, store_a)
    make_image(data, store_b)
    b1, b2 = Viewer(zarr.open_group(store_a, mode="r")), Viewer(zarr.open_group(store_b, mode="r"))
    try:
        assert a1.pool is not a2.pool
        assert b1.pool is not b2.pool
    finally:
        for v in (a1, a2, b1, b2):
            v.close()


def test_a_shared_pool_keeps_the_first_openers_options() -> None:
    store = zarr.storage.MemoryStore()
    make_image(_data(), store)
    group = zarr.open_group(store, mode="r")
    v1 = Viewer(group, memory=64 << 20)
    v2 = Viewer(group, memory=128 << 20)
    try:
        assert v2.pool is v1.pool and v2.pool.memory_budget == 64 << 20
    finally:
        v1.close()
        v2.close()


def test_closing_one_viewer_keeps_the_others_chunks(tmp_path: Path) -> None:
    store = zarr.storage.MemoryStore()
    make_image(_data(), store, chunks=(256, 256))
    group = zarr.open_group(store, mode="r")
    v1, _ = viewer_with_recorder(group)
    v2, rec2 = viewer_with_recorder(group)
    _show(v1)
    _show(v2)
    held: set[Any] = {(c.level, c.index) for c in v2.pool.iter_chunks()}
    v1.close()
    assert {(c.level, c.index) for c in v2.pool.iter_chunks()} == held
    # The second viewer still serves: a new view gets its tiles from the held chunks.
    rec2.clear()
    _show(v2, "b")
    assert rec2.tiles()
    v2.close()
