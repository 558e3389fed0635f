"""simplezarr.link keeps viewers in step: camera, position (in world units), display."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import traitlets

import simplezarr
from simplezarr.viewer import widget as widget_module
from simplezarr.viewer.widget import Viewer

from .conftest import make_image

pytestmark = pytest.mark.skipif(
    not widget_module._BUNDLE_FOUND, reason="front-end bundle not built (npm run build)"
)


def _zyx(scale: tuple[float, float, float], translation: tuple[float, float, float]) -> Any:
    data = np.random.default_rng(1).integers(0, 255, (10, 200, 300), dtype=np.uint8)
    _, group, _ = make_image(data, axes="zyx", scale=scale, translation=translation)
    return group


@pytest.fixture
def pair() -> Any:
    a = Viewer(_zyx((2.0, 1.0, 1.0), (0.0, 0.0, 0.0)))
    # Half the resolution in y/x, z planes at other depths.
    b = Viewer(_zyx((1.0, 2.0, 2.0), (3.0, 0.0, 0.0)))
    yield a, b
    a.close()
    b.close()


def test_camera_follows_in_world_units(pair: Any) -> None:
    a, b = pair
    ln = simplezarr.link(a, b)
    a.center = [50.0, 60.0]
    a.zoom = 4.0
    assert b.center == [50.0, 60.0]
    # 4 CSS px per 1-unit pixel of a = 8 CSS px per 2-unit pixel of b.
    assert b.zoom == pytest.approx(8.0)
    b.zoom = 2.0  # both ways
    assert a.zoom == pytest.approx(1.0)
    ln.unlink()
    a.zoom = 3.0
    assert b.zoom == pytest.approx(2.0)


def test_position_matches_depth_not_index(pair: Any) -> None:
    a, b = pair
    simplezarr.link(a, b, camera=False)
    a.position = {"z": 4}  # z = 8 in world units
    assert b.position == {"z": 5}  # 3 + 5 * 1 = 8
    a.position = {"z": 9}  # z = 18: beyond b's last plane (3 + 9) -> clamped
    assert b.position == {"z": 9}
    b.position = {"z": 1}  # z = 4 -> a's plane 2
    assert a.position == {"z": 2}


def test_display_is_linked_only_when_asked(pair: Any) -> None:
    a, b = pair
    simplezarr.link(a, b)
    a.colormap = "magma"
    assert b.colormap != "magma"
    simplezarr.link(a, b, camera=False, position=False, display=True)
    a.colormap = "viridis"
    a.channels[0].contrast_limits = [10.0, 100.0]
    assert b.colormap == "viridis"
    assert b.channels[0].contrast_limits == [10.0, 100.0]


def test_link_starts_from_the_first_viewer_and_validates() -> None:
    data = np.zeros((100, 100), dtype=np.uint8)
    a, b = Viewer(data, center=[20.0, 30.0], zoom=2.0), Viewer(data)
    try:
        simplezarr.link(a, b)
        assert b.center == [20.0, 30.0] and b.zoom == 2.0
        with pytest.raises(ValueError, match=r"link\(\): give at least two viewers, not 1"):
            simplezarr.link(a)
        with pytest.raises(TypeError, match=r"link\(\): 3 is not a simplezarr Viewer"):
            simplezarr.link(a, 3)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="the same viewer is given twice"):
            simplezarr.link(a, a)
    finally:
        a.close()
        b.close()


def test_traitlets_and_ipywidgets_links_work_on_the_traits() -> None:
    data = np.zeros((100, 100), dtype=np.uint8)
    a, b = Viewer(data), Viewer(data)
    try:
        traitlets.link((a, "center"), (b, "center"))
        a.center = [10.0, 90.0]
        assert b.center == [10.0, 90.0]
    finally:
        a.close()
        b.close()
