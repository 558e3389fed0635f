"""Tests for simplezarr/data/_cells.py: the cell-sheet stack and its labels."""

from __future__ import annotations

import numpy as np

from simplezarr.data._cells import CellSheet


def test_blocks_are_seamless() -> None:
    sheet = CellSheet((16, 512, 512), seed=3)
    other = CellSheet((16, 512, 512), seed=3)
    whole = sheet.labels(slice(0, 16), slice(0, 300), slice(0, 300))
    part = other.labels(slice(4, 9), slice(100, 250), slice(170, 300))
    np.testing.assert_array_equal(part, whole[4:9, 100:250, 170:300])
    for c in range(3):
        a = sheet.channel(c, slice(0, 16), slice(0, 300), slice(0, 300))
        b = other.channel(c, slice(4, 9), slice(100, 250), slice(170, 300))
        assert np.abs(b.astype(int) - a[4:9, 100:250, 170:300]).max() <= 1


def test_labels_match_the_channels() -> None:
    shape = (24, 256, 256)
    sheet = CellSheet(shape, seed=0)
    zs, ys, xs = slice(0, 24), slice(0, 256), slice(0, 256)
    labels = sheet.labels(zs, ys, xs)
    nuclei = sheet.channel(0, zs, ys, xs)
    actin = sheet.channel(2, zs, ys, xs)
    assert labels.dtype == np.uint32 and nuclei.dtype == np.uint16
    offset = int(nuclei.min())
    # nuclei and cytoplasm are inside cells; outside there is only the camera offset
    assert np.all(labels[nuclei > offset + 50] > 0)
    assert np.all(actin[labels == 0] <= offset + 50)
    ids = np.unique(labels[labels > 0])
    assert len(ids) > 10
    assert set(ids.tolist()) <= set(sheet.label_ids().tolist())
    # every cell that does not touch the image's sides has a nucleus
    edge = np.unique(
        np.concatenate([labels[:, 0], labels[:, -1], labels[:, :, 0], labels[:, :, -1]], axis=None)
    )
    inner = np.setdiff1d(ids, edge)
    assert len(inner) > 5
    with_nucleus = np.unique(labels[nuclei > offset + 500])
    assert set(inner.tolist()) <= set(with_nucleus.tolist())
