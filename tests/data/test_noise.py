"""Tests for simplezarr/data/_noise.py: hashing and band-limited fBm."""

from __future__ import annotations

import numpy as np
import pytest

from simplezarr.data._noise import band_weight, fbm, hash_uniform, octaves, smoothstep


def test_hash_is_deterministic_uniform_and_keyed() -> None:
    iy = np.arange(300)[:, None]
    ix = np.arange(300)[None, :]
    a = hash_uniform(5, iy, ix)
    np.testing.assert_array_equal(a, hash_uniform(5, iy, ix))
    assert a.min() >= -1 and a.max() < 1
    n = a.size
    # mean and variance of U(-1, 1) within a few standard errors
    assert abs(a.mean()) < 5 * np.sqrt(1 / 3 / n)
    assert abs(a.var() - 1 / 3) < 0.01
    b = hash_uniform(6, iy, ix)
    assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 5 / np.sqrt(n)
    # neighbours are uncorrelated too
    assert abs(np.corrcoef(a[:, :-1].ravel(), a[:, 1:].ravel())[0, 1]) < 5 / np.sqrt(n)


def test_octaves_double_and_normalize() -> None:
    octs = octaves(4, 100, 0.5, key=1)
    assert [o.spacing for o in octs] == [4, 8, 16, 32, 64]
    amps = np.array([o.amplitude for o in octs])
    assert np.sum(amps**2) == pytest.approx(1.0)
    np.testing.assert_allclose(amps[:-1] / amps[1:], 0.5)
    assert len({o.key for o in octs}) == len(octs)


def test_fbm_of_a_tile_equals_the_same_part_of_a_bigger_grid() -> None:
    octs = octaves(4, 512, 0.7, key=3)
    ys = np.arange(1000, 1300, dtype=np.float64)
    xs = np.arange(-200, 200, dtype=np.float64)
    whole = fbm(ys, xs, octs)
    part = fbm(ys[37:211], xs[150:333], octs)
    np.testing.assert_allclose(part, whole[37:211, 150:333], atol=2e-6)
    exact = fbm(ys[::7], xs[::5], octs, dtype=np.float64)
    np.testing.assert_allclose(exact, whole[::7, ::5], atol=2e-6)


def test_band_limit_drops_octaves_under_two_samples() -> None:
    assert band_weight(8, 4) == 0.0
    assert band_weight(16, 4) == 1.0
    assert 0 < band_weight(12, 4) < 1
    octs = octaves(4, 256, 0.8, key=9)
    ys = np.arange(0, 4096, 16.0)
    limited = fbm(ys, ys, octs, step=16)
    kept = [o for o in octs if o.spacing >= 64]
    np.testing.assert_allclose(limited, fbm(ys, ys, kept), atol=1e-6)


def test_smoothstep_ends_and_middle() -> None:
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    np.testing.assert_allclose(smoothstep(0.0, 1.0, x), [0, 0, 0.5, 1, 1])
