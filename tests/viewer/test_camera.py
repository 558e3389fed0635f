"""The camera traits are true from construction: a provisional fit, then the view's own.

``center``, ``zoom`` and ``level`` describe a fit of the image to a view of
``height`` x 800 CSS pixels until a view renders; ``_fit_pending`` says so,
and the front end replaces the fit with its own (writing ``_fit_pending``
False). ``center`` is kept on the image.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import traitlets

from simplezarr.viewer import widget as widget_module
from simplezarr.viewer.geometry import Viewport, choose_level, fit
from simplezarr.viewer.tiles import image_layout
from simplezarr.viewer.widget import DEFAULT_VIEW_WIDTH, Viewer

from .conftest import make_image
from .test_widget import message, viewer_with_recorder, viewport

pytestmark = pytest.mark.skipif(
    not widget_module._BUNDLE_FOUND, reason="front-end bundle not built (npm run build)"
)


@pytest.fixture(scope="module")
def big() -> Any:
    """A 6-level pyramid of 2048 x 4096 (uint8), chunks 256: fits pick a coarse level."""
    data = np.random.default_rng(1).integers(0, 255, (2048, 4096), dtype=np.uint8)
    _, group, _ = make_image(data, axes="yx", chunks=(256, 256))
    return group


def front_end_update(viewer: Viewer, **state: Any) -> None:
    """A state update from the front end, as the comm delivers it."""
    viewer._handle_msg({"content": {"data": {"method": "update", "state": state}}, "buffers": []})


def test_a_new_viewer_reads_out_a_provisional_fit(big: Any) -> None:
    viewer = Viewer(big, height=520)
    layout = image_layout(viewer.multiscale_info)
    center, scale = fit(layout.levels[0], (520.0, DEFAULT_VIEW_WIDTH))
    assert DEFAULT_VIEW_WIDTH == 800.0
    assert viewer.center == list(center) == [1023.5, 2047.5]
    assert viewer.zoom == pytest.approx(800 / 4096)  # the width is the tighter axis
    expected = choose_level(layout.levels, Viewport(center, scale, (520.0, 800.0), 1.0))
    assert viewer.level == expected == 2  # 5.12 px per screen pixel: level 2 (4 px)
    assert viewer._fit_pending is True
    state = viewer.get_state()
    assert state["_fit_pending"] is True and state["zoom"] == viewer.zoom
    viewer.close()
    assert Viewer(big, zoom=0)._fit_pending is True  # 0 still means "fit"


def test_a_camera_given_is_kept(big: Any) -> None:
    zoomed = Viewer(big, zoom=0.5)
    assert zoomed.zoom == 0.5 and zoomed._fit_pending is False
    assert zoomed.center == [1023.5, 2047.5] and zoomed.level == 1
    zoomed.close()
    placed = Viewer(big, center=(100.0, 200.0))
    assert placed.center == [100.0, 200.0] and placed._fit_pending is False
    assert placed.zoom == pytest.approx(800 / 4096)  # the fit's zoom around it
    placed.close()


def test_setting_the_camera_from_python_ends_the_provisional_fit(big: Any) -> None:
    viewer = Viewer(big)
    viewer.center = [10.0, 20.0]
    assert viewer._fit_pending is False and viewer.get_state()["_fit_pending"] is False
    viewer.close()
    viewer = Viewer(big)
    viewer.zoom = 0  # "fit now": the front end fits and writes back
    assert viewer.zoom == 0 and viewer._fit_pending is False
    viewer.close()


def test_the_front_end_writes_its_fit_back(big: Any) -> None:
    viewer, _ = viewer_with_recorder(big)
    front_end_update(viewer, center=[1000.0, 2000.0], zoom=0.25, _fit_pending=False)
    assert viewer.center == [1000.0, 2000.0] and viewer.zoom == 0.25
    assert viewer._fit_pending is False
    message(viewer, viewport("a", 0, [1000.0, 2000.0], 4.0, [512.0, 1024.0]))
    assert viewer.level == 2  # and the level follows the view
    viewer.close()


@pytest.mark.parametrize(
    ("asked", "kept"),
    [
        ([-1e9, 1e9], [-0.5, 4095.5]),  # beyond the edges: onto the outer pixel edges
        ([5000.0, -3.0], [2047.5, -0.5]),
        ([100.0, 200.0], [100.0, 200.0]),  # on the image: as is
    ],
)
def test_center_is_kept_on_the_image(big: Any, asked: list[float], kept: list[float]) -> None:
    viewer = Viewer(big, center=asked)
    assert viewer.center == kept
    viewer.center = [asked[1], asked[0]]
    assert all(-0.5 <= v <= 4095.5 for v in viewer.center)
    for bad in ([float("nan"), 0.0], [0.0, float("inf")]):
        with pytest.raises(traitlets.TraitError, match=r"Viewer\.center"):
            viewer.center = bad
    viewer.close()
