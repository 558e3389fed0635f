"""Tests for simplezarr/data/_tissue.py: a seamless tissue picture at every level."""

from __future__ import annotations

import numpy as np

from simplezarr.data._tissue import render_tissue
from simplezarr.utils._pyramid import downsample


def test_tiles_are_seamless_and_deterministic() -> None:
    big = render_tissue(3000, 5000, 700, 600, size=16384)
    tile = render_tissue(3250, 5111, 300, 290, size=16384)
    np.testing.assert_allclose(tile, big[250:550, 111:401], atol=1e-5)
    np.testing.assert_array_equal(big, render_tissue(3000, 5000, 700, 600, size=16384))
    assert big.dtype == np.float32 and big.min() >= 0 and big.max() <= 1


def test_seeds_make_different_sections() -> None:
    a = render_tissue(0, 0, 256, 256, step=32, size=8192, seed=0)
    b = render_tissue(0, 0, 256, 256, step=32, size=8192, seed=1)
    assert np.abs(a - b).mean() > 0.01


def test_each_level_looks_like_the_mean_of_the_level_below() -> None:
    size = 8192
    for step in (1, 4, 16):
        fine = render_tissue(2048 // step, 2048 // step, 256, 256, step=step, size=size)
        coarse = render_tissue(1024 // step, 1024 // step, 128, 128, step=2 * step, size=size)
        mean = downsample(fine, (2, 2), "mean")
        assert abs(float(mean.mean() - coarse.mean())) < 0.02
        # nuclei fade into their mean over two levels: compare what is larger than them
        a, b = downsample(mean, (4, 4), "mean"), downsample(coarse, (4, 4), "mean")
        r = np.corrcoef(a.ravel(), b.ravel())[0, 1]
        assert r > 0.9, (step, r)


def test_there_is_structure_at_every_zoom() -> None:
    size = 16384
    levels = 6  # 16384 .. 512
    for lvl in range(levels):
        step = 2**lvl
        side = size // step
        # a 256 x 256 view in the middle of the level
        view = render_tissue(side // 2 - 128, side // 2 - 128, 256, 256, step=step, size=size)
        codes = np.rint(view * 255)
        assert codes.std() > 3, (lvl, codes.std())
        assert len(np.unique(codes)) > 20
