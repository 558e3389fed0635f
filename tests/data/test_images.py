"""Tests for simplezarr/data/_images.py: the demo images written to disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr

import simplezarr.data as demo
from simplezarr._open import open as sz_open
from simplezarr.data._tissue import render_tissue
from simplezarr.utils._pyramid import downsample
from simplezarr.utils.multiscale import MultiscaleInfo


def _levels(group: zarr.Group) -> list[zarr.Array]:
    return [group[k] for k in sorted(group.array_keys(), key=int)]  # type: ignore[misc]


def test_large_2d_small_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMPLEZARR_DATA_DIR", str(tmp_path))
    path = demo.large_2d(size=1536, progress=False)
    assert path.parent == tmp_path and path.name.endswith(".ome.zarr")
    group = sz_open(path)
    assert isinstance(group, zarr.Group)
    levels = _levels(group)
    assert [a.shape for a in levels] == [(1536, 1536), (768, 768), (384, 384)]
    assert levels[0].dtype == np.uint8 and levels[0].chunks == (512, 512)
    # level 0 is the generator, levels below are means of the level above
    want = np.rint(render_tissue(512, 0, 512, 512, size=1536) * 255)
    diff = np.abs(levels[0][512:1024, 0:512].astype(int) - want)
    assert diff.max() <= 1 and np.count_nonzero(diff) < 100  # float rounding of BLAS sums
    np.testing.assert_array_equal(levels[1][...], downsample(levels[0][...], (2, 2), "mean"))
    (info,) = MultiscaleInfo.from_zarr_node(group)
    assert info.scales[0].scale == (0.25, 0.25)
    assert info.scales[2].offset == pytest.approx((0.375, 0.375))
    assert info.channels is not None and info.channels[0].window_end is not None
    # the second call reuses the first image
    mtime = (path / "zarr.json").stat().st_mtime_ns
    assert demo.large_2d(size=1536, progress=False) == path
    assert (path / "zarr.json").stat().st_mtime_ns == mtime


def test_large_2d_is_deterministic_per_seed(tmp_path: Path) -> None:
    a = demo.large_2d(tmp_path / "a.zarr", size=1024, seed=4, progress=False)
    b = demo.large_2d(tmp_path / "b.zarr", size=1024, seed=4, progress=False)
    c = demo.large_2d(tmp_path / "c.zarr", size=1024, seed=5, progress=False)
    la, lb, lc = (zarr.open_array(str(p / "1"), mode="r")[...] for p in (a, b, c))
    np.testing.assert_array_equal(la, lb)
    assert np.abs(la.astype(int) - lc).mean() > 1


def test_large_2d_uint16_version_04(tmp_path: Path) -> None:
    path = demo.large_2d(
        tmp_path / "v2.zarr", size=1024, dtype="uint16", version="0.4", progress=False
    )
    group = zarr.open_group(str(path), mode="r")
    assert group.metadata.zarr_format == 2 and (path / ".zmetadata").exists()
    assert group["0"].dtype == np.uint16
    assert group.attrs["multiscales"][0]["version"] == "0.4"


def test_cells_3d_with_labels(tmp_path: Path) -> None:
    path = demo.cells_3d(tmp_path / "cells.zarr", shape=(8, 300, 260), progress=False)
    group = sz_open(path)
    assert isinstance(group, zarr.Group)
    levels = _levels(group)
    assert levels[0].shape == (3, 8, 300, 260) and levels[0].dtype == np.uint16
    assert [a.shape[1] for a in levels] == [8] * len(levels)  # z is kept
    (info,) = MultiscaleInfo.from_zarr_node(group)
    assert info.axes_names == ("c", "z", "y", "x")
    assert info.channels is not None
    assert [c.label for c in info.channels] == ["nuclei", "membrane", "actin"]
    assert all(c.window_start is not None and c.window_end > c.window_start for c in info.channels)  # type: ignore[operator]
    ome = dict(group.attrs)["ome"]
    assert dict(group["labels"].attrs)["ome"]["labels"] == ["cells"]
    cells = group["labels/cells"]
    label_levels = _levels(cells)
    assert [a.shape for a in label_levels] == [(1, *a.shape[1:]) for a in levels]
    labels0 = label_levels[0][...]
    assert labels0.dtype == np.uint32
    colors = {c["label-value"] for c in dict(cells.attrs)["ome"]["image-label"]["colors"]}
    present = set(np.unique(labels0).tolist()) - {0}
    assert present and present <= colors
    # the label image and the image share their geometry
    label_ms = dict(cells.attrs)["ome"]["multiscales"][0]
    assert [d["coordinateTransformations"] for d in label_ms["datasets"]] == [
        d["coordinateTransformations"] for d in ome["multiscales"][0]["datasets"]
    ]
    # nuclei light up inside cells only
    nuclei = levels[0][0]
    assert np.all(labels0[0][nuclei > nuclei.min() + 100] > 0)


def test_timeseries(tmp_path: Path) -> None:
    path = demo.timeseries(tmp_path / "t.zarr", shape=(6, 256, 300), progress=False)
    group = sz_open(path)
    assert isinstance(group, zarr.Group)
    (info,) = MultiscaleInfo.from_zarr_node(group)
    assert info.axes_names == ("t", "y", "x")
    assert info.axes[0].type == "time" and info.axes[0].unit == "second"
    frames = group["0"][...]
    assert frames.shape == (6, 256, 300) and frames.dtype == np.uint16
    # the blobs move: consecutive frames differ, and not by a constant
    diffs = np.abs(np.diff(frames.astype(np.int32), axis=0))
    assert all(d.max() > 100 for d in diffs)
