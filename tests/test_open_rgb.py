"""``simplezarr.open()`` of an RGB(A) numpy image: axes (y, x, c), one chunk holds every colour.

A uint8 ``(H, W, 3|4)`` array is a photo whatever ``H`` is; the general axis guess
took ``(4, 5, 3)`` for ``(c, y, x)``. Large ones become a pyramid whose chunks hold
the colours together (one read per tile position, as for small ones).
"""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from simplezarr import open as sz_open
from simplezarr.utils import MultiscaleInfo


@pytest.mark.parametrize("shape", [(4, 5, 3), (2, 2, 4), (3, 700, 3), (300, 200, 4)])
def test_uint8_with_3_or_4_last_is_yx_c(shape: tuple[int, ...]) -> None:
    data = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    array = sz_open(data)
    assert isinstance(array, zarr.Array)
    (info,) = MultiscaleInfo.from_zarr_node(array)
    assert info.axes_names == ("y", "x", "c")
    assert info.scales[0].chunk_shape[2] == shape[2]  # the colours of a pixel in one chunk
    np.testing.assert_array_equal(array[...], data)


def test_other_dtypes_keep_the_general_guess() -> None:
    data = np.zeros((4, 5, 3), np.float32)  # not a photo: channels first, as before
    (info,) = MultiscaleInfo.from_zarr_node(sz_open(data))
    assert info.axes_names == ("c", "y", "x")


def test_a_large_rgb_array_is_a_pyramid_chunked_whole_along_c() -> None:
    data = np.random.default_rng(2).integers(0, 256, (2100, 700, 3), dtype=np.uint8)
    group = sz_open(data)
    assert isinstance(group, zarr.Group)
    (info,) = MultiscaleInfo.from_zarr_node(group)
    assert info.axes_names == ("y", "x", "c") and info.nlevels >= 3
    for s in info.scales:
        assert s.shape[2] == 3 and s.chunk_shape[2] == 3
    np.testing.assert_array_equal(info.scales[0].array[...], data)
