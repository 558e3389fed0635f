"""Viewer(ComputedImage): its own tracked pool, so replacing fn never shows old results."""

from __future__ import annotations

import numpy as np
import pytest

from simplezarr import ComputedImage
from simplezarr.viewer import widget as widget_module

from .conftest import decode_values
from .test_widget import message, ready, viewer_with_recorder, viewport

pytestmark = pytest.mark.skipif(
    not widget_module._BUNDLE_FOUND, reason="front-end bundle not built (npm run build)"
)


def test_replacing_fn_reserves_the_views_with_the_new_values() -> None:
    data = np.arange(200 * 300, dtype=np.float32).reshape(200, 300)
    ci = ComputedImage(data, lambda b: b * 2, dtype=np.float32)
    viewer, rec = viewer_with_recorder(ci)
    try:
        message(viewer, ready("a"))
        message(viewer, viewport("a", 0, [100.0, 150.0], 1.0, [200.0, 300.0]))
        viewer.flush_now()
        first = {m["key"]: decode_values(m, png) for m, png in rec.tiles()}
        assert first and all(np.nanmax(v) > data.max() for v in first.values())
        rec.clear()
        ci.fn = lambda b: b * 0 + 7
        viewer.flush_now()  # sync mode: the refresh ran in this thread
        again = {m["key"]: decode_values(m, png) for m, png in rec.tiles()}
        assert set(again) == set(first)
        assert all(np.all(v == 7) for v in again.values())
        # A second viewer of the same computed image is not served stale chunks either.
        other, rec2 = viewer_with_recorder(ci)
        message(other, ready("b"))
        message(other, viewport("b", 0, [100.0, 150.0], 1.0, [200.0, 300.0]))
        other.flush_now()
        assert all(np.all(decode_values(m, png) == 7) for m, png in rec2.tiles())
        other.close()
    finally:
        viewer.close()
