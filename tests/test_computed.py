"""Tests for simplezarr/computed.py: images computed chunk by chunk from real zarr sources.

Values are compared exactly with numpy applied to the whole source; waits are
on futures and events with timeouts, never on time.
"""

from __future__ import annotations

import logging
import pickle
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

import simplezarr
from simplezarr import ComputedImage
from simplezarr.utils import ChunkPool, ChunkReadError, MultiscaleInfo
from simplezarr.utils._pyramid import write_multiscale

WAIT = 30.0  # seconds any wait below may take at most


def _pyramid(data: np.ndarray, store: Any, **kwargs: Any) -> MultiscaleInfo:
    kwargs.setdefault("chunks", 64)
    write_multiscale(data, store, **kwargs)
    (info,) = MultiscaleInfo.from_zarr_node(zarr.open_group(store, mode="r"))
    return info


def _threshold(block: np.ndarray) -> np.ndarray:
    return block > 500


def _mean3(block: np.ndarray) -> np.ndarray:
    """The 3 x 3 mean over the last two axes, on the block's interior (its border is 0)."""
    out = np.zeros(block.shape, dtype=np.float64)
    h, w = block.shape[-2:]
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            out[..., 1:-1, 1:-1] += block[..., 1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx]
    return out / 9


def _mean3_of_image(image: np.ndarray) -> np.ndarray:
    """The 3 x 3 mean of a whole image, its border edge-replicated."""
    padded = np.pad(
        image.astype(np.float64), [(0, 0)] * (image.ndim - 2) + [(1, 1), (1, 1)], "edge"
    )
    return _mean3(padded)[..., 1:-1, 1:-1]


def _read_all(pool: ChunkPool, level: int) -> np.ndarray:
    """A whole level assembled from the pool's chunks."""
    scale = pool.multiscale_info.scales[level]
    out = np.empty(scale.shape, dtype=scale.dtype)
    for index in np.ndindex(*scale.chunk_grid_shape):
        chunk = pool.get_chunk(level, index)
        chunk.wait(timeout=WAIT)
        region = tuple(
            slice(i * c, i * c + n)
            for i, c, n in zip(index, scale.chunk_shape, chunk.data.shape, strict=True)
        )
        out[region] = chunk.data
        pool.drop_chunk(level, index)
    return out


@pytest.fixture
def image() -> np.ndarray:
    return np.random.default_rng(3).integers(0, 1000, (300, 200), dtype=np.uint16)


@pytest.fixture
def chunked(image: np.ndarray) -> MultiscaleInfo:
    """``image`` in memory as a pyramid of 64 x 64 chunks."""
    return _pyramid(image, zarr.storage.MemoryStore())


def test_threshold_of_an_image_on_disk_at_every_level(tmp_path: Path, image: np.ndarray) -> None:
    path = tmp_path / "img.ome.zarr"
    info = _pyramid(image, zarr.storage.LocalStore(path), downscale=2)
    assert info.nlevels == 4
    ci = ComputedImage(str(path), _threshold)
    assert ci.dtype == np.bool_ and ci.name == "_threshold(image)"
    (mine,) = MultiscaleInfo.from_zarr_node(simplezarr.open(ci))
    assert mine.axes == info.axes and mine.nlevels == 4
    for got, src in zip(mine.scales, info.scales, strict=True):
        assert (got.shape, got.chunk_shape, got.scale, got.offset) == (
            src.shape,
            src.chunk_shape,
            src.scale,
            src.offset,
        )
        np.testing.assert_array_equal(got.array[...], src.array[...] > 500)
    with ci.pool(cache_size=4) as pool:
        np.testing.assert_array_equal(_read_all(pool, 1), info.scales[1].array[...] > 500)


def test_an_in_memory_source_and_a_multiscale_info_source(image: np.ndarray) -> None:
    info = _pyramid(image, zarr.storage.MemoryStore())
    for source in (image, info, zarr.open_group(info.scales[0].array.store_path.store, mode="r")):
        ci = ComputedImage(source, lambda b: b // 7, dtype="uint16")
        np.testing.assert_array_equal(simplezarr.open(ci)["0"][...], image // 7)


def test_a_3x3_mean_with_a_halo_is_the_whole_image_mean_across_chunk_borders(
    image: np.ndarray,
) -> None:
    info = _pyramid(image, zarr.storage.MemoryStore(), downscale=2)
    ci = ComputedImage(info, _mean3, halo=1)
    assert ci.dtype == np.float64
    with ci.pool() as pool:
        for level in (0, 1):
            source = info.scales[level].array[...]
            assert info.scales[level].chunk_grid_shape[0] > 1  # several chunks: borders crossed
            np.testing.assert_allclose(_read_all(pool, level), _mean3_of_image(source), rtol=1e-12)


def test_a_3d_halo_covers_z_and_fn_may_return_the_chunk_shape() -> None:
    volume = np.random.default_rng(4).integers(0, 100, (6, 40, 50), dtype=np.uint8)
    info = _pyramid(
        volume,
        zarr.storage.MemoryStore(),
        axes="zyx",
        chunks={"z": 2, "y": 16, "x": 16},
        downscale={"y": 2, "x": 2},
    )

    def z_sum(block: np.ndarray) -> np.ndarray:  # z neighbours summed, returned unpadded
        inner = block.astype(np.int32)[:, 1:-1, 1:-1]
        return inner[:-2] + inner[1:-1] + inner[2:]

    ci = ComputedImage(info, z_sum, halo=1)
    padded = np.pad(volume.astype(np.int32), [(1, 1), (0, 0), (0, 0)], "edge")
    want = padded[:-2] + padded[1:-1] + padded[2:]
    np.testing.assert_array_equal(zarr.open_group(ci, mode="r")["0"][...], want)


def test_dtype_given_casts_and_a_fn_that_cannot_take_zeros_needs_it(image: np.ndarray) -> None:
    ci = ComputedImage(image, lambda b: b / 2, dtype="uint8")
    np.testing.assert_array_equal(simplezarr.open(ci)["0"][...], (image / 2).astype(np.uint8))

    def picky(block: np.ndarray) -> np.ndarray:
        if not block.any():
            raise ValueError("needs signal")
        return block

    with pytest.raises(ValueError, match=r"picky raised ValueError: needs signal .* pass dtype="):
        ComputedImage(image, picky)
    assert ComputedImage(image, picky, dtype="uint16").dtype == np.uint16
    with pytest.raises(ValueError, match="dtype complex128 is not supported"):
        ComputedImage(image, lambda b: b * 1j)
    with pytest.raises(ValueError, match="halo must be an integer >= 0, got -1"):
        ComputedImage(image, _threshold, halo=-1)
    with pytest.raises(ValueError, match="timeout must be a finite number > 0, got 0"):
        ComputedImage(image, _threshold, timeout=0)
    with pytest.raises(TypeError, match="fn must be callable"):
        ComputedImage(image, "b > 1")  # type: ignore[arg-type]


def test_an_error_in_fn_fails_that_chunk_only_and_names_it() -> None:
    data = np.zeros((128, 128), dtype=np.uint8)
    data[70, 10] = 7  # in chunk (1, 0) of 64 x 64 chunks

    def no_sevens(block: np.ndarray) -> np.ndarray:
        if (block == 7).any():
            raise ZeroDivisionError("a seven")
        return block + 1

    info = _pyramid(data, zarr.storage.MemoryStore())
    ci = ComputedImage(info, no_sevens, name="sevens")
    with ci.pool() as pool:
        bad = pool.get_chunk(0, (1, 0))
        good = [pool.get_chunk(0, i) for i in [(0, 0), (0, 1), (1, 1)]]
        with pytest.raises(ChunkReadError) as caught:
            bad.wait(timeout=WAIT)
        for chunk in good:
            chunk.wait(timeout=WAIT)
            np.testing.assert_array_equal(chunk.data, 1)
    text = str(caught.value)
    assert "ComputedImage 'sevens': level 0 chunk (1, 0): " in text
    assert "no_sevens raised ZeroDivisionError: a seven" in text
    causes = []
    exc: BaseException | None = caught.value
    while exc is not None:
        causes.append(exc)
        exc = exc.__cause__
    assert isinstance(causes[-1], ZeroDivisionError)


def test_a_fn_of_the_wrong_shape_names_both_shapes(image: np.ndarray) -> None:
    info = _pyramid(image, zarr.storage.MemoryStore())
    ci = ComputedImage(info, lambda b: b[:-1], dtype="uint16", halo=2)
    with pytest.raises(
        Exception,
        match=r"level 0 chunk \(0, 0\): <lambda> returned shape \(67, 68\); "
        r"expected the block's shape \(68, 68\) \(halo included\) or the chunk's shape \(64, 64\)",
    ):
        zarr.open_group(ci, mode="r")["0"][0:5, 0:5]


def test_replacing_fn_clears_pools_and_calls_back(
    image: np.ndarray, chunked: MultiscaleInfo
) -> None:
    ci = ComputedImage(chunked, _threshold)
    pool = ci.pool(cache_size=8)
    cached = pool.get_chunk(0, (0, 0))
    cached.wait(timeout=WAIT)
    np.testing.assert_array_equal(cached.data, image[:64, :64] > 500)
    pool.drop_chunk(0, (0, 0))  # now in the cache, with the old values
    destroyed = threading.Event()
    held = pool.get_chunk(0, (1, 1), "viewer", destroy_handler=lambda c: destroyed.set())
    held.wait(timeout=WAIT)
    seen: list[tuple[ComputedImage, int]] = []
    handle = ci.on_change(lambda c: seen.append((c, c.generation)))

    ci.fn = lambda b: b > 100
    assert ci.generation == 1 and seen == [(ci, 1)]
    assert destroyed.is_set() and list(pool.iter_chunks()) == []
    fresh = pool.get_chunk(0, (0, 0))
    fresh.wait(timeout=WAIT)
    np.testing.assert_array_equal(fresh.data, image[:64, :64] > 100)

    handle.remove()
    ci.fn = _threshold
    assert seen == [(ci, 1)] and ci.generation == 2
    with pytest.raises(
        ValueError, match=r"returns float64, which does not cast to the image's dtype bool"
    ):
        ci.fn = lambda b: b * 0.5
    pool.destroy()


def test_a_chain_computes_its_source_first_and_follows_its_changes(
    image: np.ndarray, chunked: MultiscaleInfo
) -> None:
    first = ComputedImage(chunked, lambda b: b.astype(np.int32) - 500, name="centred")
    second = ComputedImage(first, np.abs, name="distance")
    assert second.depth == 1 and second.dtype == np.int32
    whole = lambda: zarr.open_group(second, mode="r")["0"][...]  # noqa: E731
    np.testing.assert_array_equal(whole(), np.abs(image.astype(np.int32) - 500))
    pool = second.pool(cache_size=8)
    pool.get_chunk(0, (0, 0)).wait(timeout=WAIT)
    first.fn = lambda b: b.astype(np.int32) - 100
    assert second.generation == 1 and list(pool.iter_chunks()) == []
    np.testing.assert_array_equal(whole(), np.abs(image.astype(np.int32) - 100))
    chunk = pool.get_chunk(0, (0, 0))
    chunk.wait(timeout=WAIT)
    np.testing.assert_array_equal(chunk.data, np.abs(image[:64, :64].astype(np.int32) - 100))
    pool.destroy()


def test_a_fn_past_the_timeout_fails_its_chunk(chunked: MultiscaleInfo) -> None:
    release = threading.Event()

    def stuck(block: np.ndarray) -> np.ndarray:
        release.wait(WAIT)
        return block

    ci = ComputedImage(chunked, stuck, dtype="uint16", timeout=0.2)
    try:
        with ci.pool() as pool, pytest.raises(ChunkReadError, match=r"level 0 chunk \(2, 1\)"):
            pool.get_chunk(0, (2, 1)).wait(timeout=WAIT)
    finally:
        release.set()


def test_it_pickles_and_a_copy_computes_the_same(image: np.ndarray) -> None:
    ci = ComputedImage(image, _threshold, halo=1)
    copy = pickle.loads(pickle.dumps(ci))
    assert copy is not ci and copy.generation == ci.generation
    np.testing.assert_array_equal(zarr.open_group(copy, mode="r")["0"][...], image > 500)


def test_client_without_distributed_names_the_extra(
    image: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(ImportError, match=r"simplezarr\[dask\]"):
        ComputedImage(image, _threshold, client=object())


def test_the_viewer_shows_computed_tiles_and_a_failed_fn_as_a_failed_tile(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from simplezarr.viewer import widget as widget_module

    if not widget_module._BUNDLE_FOUND:
        pytest.skip("front-end bundle not built (npm run build)")
    from tests.viewer.conftest import Recorder, decode_values
    from tests.viewer.test_widget import message, ready, viewport

    data = np.random.default_rng(5).integers(10, 1000, (128, 128), dtype=np.uint16)
    data[100, 100] = 7  # chunk (1, 1)

    def fails_on_seven(block: np.ndarray) -> np.ndarray:
        if (block == 7).any():
            raise ValueError("seven seen")
        return (block > 500).astype(np.uint8)

    info = _pyramid(data, zarr.storage.MemoryStore())
    viewer = simplezarr.Viewer(
        ComputedImage(info, fails_on_seven, dtype="uint8"), contrast_limits=(0, 1)
    )
    rec = Recorder()
    viewer.send = rec
    message(viewer, ready("a"))
    with caplog.at_level(logging.DEBUG, logger="simplezarr"):
        message(viewer, viewport("a", 0, [64.0, 64.0], 1.0, [128.0, 128.0]))
        viewer.flush_now()
    tiles = {tuple(m["chunk"]): (m, png) for m, png in rec.tiles()}
    assert sorted(tiles) == [(0, 0), (0, 1), (1, 0)]
    for (iy, ix), (m, png) in tiles.items():
        want = data[iy * 64 : (iy + 1) * 64, ix * 64 : (ix + 1) * 64] > 500
        np.testing.assert_array_equal(decode_values(m, png), want)
    (error,) = [m for m, _ in rec.of_type("tile_error")]
    assert error["chunk"] == [1, 1]
    assert "level 0 chunk (1, 1): fails_on_seven raised ValueError: seven seen" in error["error"]
    viewer.close()
