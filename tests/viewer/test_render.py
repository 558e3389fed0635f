"""The view rendered in the kernel: screenshot(), save_png() and the notebook's picture.

Real pyramids in real zarr stores (a failing wrapper store for failures);
expected pixels are computed from the data with the documented display rule
(``t = clip((v - lo) / (hi - lo)) ** (1 / gamma)``, entry ``round(255 t)``),
never copied from a run.
"""

from __future__ import annotations

import base64
import io
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import zarr
from PIL import Image

from simplezarr.viewer import widget as widget_module
from simplezarr.viewer._colormaps import colormap_lut
from simplezarr.viewer._protocol import PROTOCOL_VERSION
from simplezarr.viewer._scalebar import TARGET_CSS_PX, choose_scale_bar
from simplezarr.viewer.render import render_view
from simplezarr.viewer.widget import Viewer
from tests._stores import FailingStore, GatedStore

from .conftest import make_image

pytestmark = pytest.mark.skipif(
    not widget_module._BUNDLE_FOUND, reason="front-end bundle not built (npm run build)"
)

REPO = Path(__file__).resolve().parents[2]


def index_of(values: np.ndarray, lo: float, hi: float, gamma: float = 1.0) -> np.ndarray:
    """The colormap entry of each value: the display rule, written out."""
    t = np.clip((values.astype(np.float64) - lo) / (hi - lo), 0.0, 1.0) ** (1.0 / gamma)
    return np.floor(t * 255.0 + 0.5).astype(np.int64)


def aligned_center(size: tuple[int, int], zoom: float) -> list[float]:
    """The centre [y, x] putting device pixel centres on level-0 texel centres / edges.

    At zoom 1 device pixel i shows pixel i; at zoom 0.5 it straddles pixels 2i and 2i + 1.
    """
    w, h = size
    return [0.5 * h / zoom - 0.5, 0.5 * w / zoom - 0.5]


@pytest.fixture
def pattern() -> np.ndarray:
    """A 2D uint16 pattern whose values cover 0..1200 without symmetry."""
    y, x = np.mgrid[0:300, 0:400]
    return ((y * 7 + x * 3 + (x * y) % 11) % 1201).astype(np.uint16)


def test_single_channel_pixels_follow_the_contrast_and_colormap(pattern: np.ndarray) -> None:
    _, group, _ = make_image(pattern, axes="yx", chunks=(128, 128))
    v = Viewer(group, contrast_limits=(100, 1100), zoom=1.0, center=aligned_center((200, 150), 1))
    try:
        shot = v.screenshot((200, 150))
        assert shot.shape == (150, 200, 4) and shot.dtype == np.uint8
        idx = index_of(pattern[:150, :200], 100, 1100)
        assert np.array_equal(shot[..., 0], idx) and np.array_equal(shot[..., 2], idx)
        assert (shot[..., 3] == 255).all()

        v.colormap = "viridis"
        lut = colormap_lut("viridis")
        assert np.array_equal(v.screenshot((200, 150))[..., :3], lut[idx][..., :3])

        v.colormap = "gray"
        v.gamma = 2.0
        v.invert = True
        shot = v.screenshot((200, 150))
        assert np.array_equal(shot[..., 1], 255 - index_of(pattern[:150, :200], 100, 1100, 2.0))
    finally:
        v.close()


def test_composite_adds_each_channels_ramp_clipped_at_255() -> None:
    rng = np.random.default_rng(3)
    data = rng.integers(0, 256, (3, 64, 96), dtype=np.uint8)
    _, group, _ = make_image(data, axes="cyx", chunks=(1, 32, 32))
    v = Viewer(
        group, rgb=False, contrast_limits=(0, 255), zoom=1.0, center=aligned_center((96, 64), 1)
    )
    try:
        assert v.channel_mode == "composite"
        v.channels[0].color = "#ffffff"
        v.channels[1].color = "#ff0000"
        v.channels[2].color = "#00ff00"
        v.channels[2].visible = False
        shot = v.screenshot((96, 64)).astype(np.int64)
        a, b = data[0].astype(np.int64), data[1].astype(np.int64)
        assert np.array_equal(shot[..., 0], np.minimum(a + b, 255))
        assert np.array_equal(shot[..., 1], a)  # the hidden green channel adds nothing
        assert np.array_equal(shot[..., 2], a)

        v.channels[0].color = "#808080"  # a ramp to 128: round(128 * v / 255)
        v.channels[1].visible = False
        shot = v.screenshot((96, 64)).astype(np.int64)
        assert np.array_equal(shot[..., 0], (2 * 128 * a + 255) // 510)

        v.channel_mode = "single"  # the channel at position["c"] through the colormap
        v.position = {"c": 1}
        assert np.array_equal(v.screenshot((96, 64))[..., 0], b)
    finally:
        v.close()


def test_nan_is_transparent_or_nan_color() -> None:
    data = np.linspace(0, 1, 64 * 64, dtype=np.float32).reshape(64, 64)
    data[10:20, 30:40] = np.nan
    _, group, _ = make_image(data, axes="yx", chunks=(32, 32))
    v = Viewer(group, contrast_limits=(0, 1), zoom=1.0, center=aligned_center((64, 64), 1))
    try:
        shot = v.screenshot((64, 64))
        nan = np.isnan(data)
        assert (shot[nan][:, 3] == 0).all() and (shot[~nan][:, 3] == 255).all()
        # float data travels as 16-bit codes of each tile's range: within one step of 255 t
        err = np.abs(shot[~nan][:, 0].astype(int) - np.floor(data[~nan] * 255 + 0.5))
        assert err.max() <= 1
        v.nan_color = "#ff0000"
        shot = v.screenshot((64, 64))
        assert (shot[nan] == [255, 0, 0, 255]).all()
    finally:
        v.close()


def test_zoomed_out_reads_the_coarser_level_and_outside_is_transparent() -> None:
    y, x = np.mgrid[0:512, 0:1024]
    data = ((x // 3 + y // 5) % 256).astype(np.uint8)
    _, group, _ = make_image(data, axes="yx", chunks=(128, 128), levels=4)
    v = Viewer(group, contrast_limits=(0, 255))
    try:
        # The fit of 1024 x 512 pixels in 256 x 256 CSS px: 4 pixels per CSS px, level 2.
        rendering = render_view(
            v.pool,
            center=None,
            zoom=0.0,
            size=(256, 256),
            position=v.position,
            display=v._display_state(),
        )
        assert rendering.level == 2
        shot = v.screenshot((256, 256))
        level2 = np.asarray(group["2"][:])
        assert level2.shape == (128, 256)
        inside = shot[64:192]
        assert np.array_equal(inside[..., 0], level2) and (inside[..., 3] == 255).all()
        assert (shot[:64, :, 3] == 0).all() and (shot[192:, :, 3] == 0).all()
        assert (shot[:64, :, :3] == 0).all()
    finally:
        v.close()


def test_minified_pixels_are_the_box_mean_of_the_texels() -> None:
    rng = np.random.default_rng(5)
    data = rng.integers(0, 256, (128, 128), dtype=np.uint8)
    _, group, _ = make_image(data, axes="yx", chunks=(64, 64), levels=1)
    v = Viewer(group, contrast_limits=(0, 255), zoom=0.5, center=aligned_center((64, 64), 0.5))
    try:
        shot = v.screenshot((64, 64))
        means = data.astype(np.float64).reshape(64, 2, 64, 2).mean(axis=(1, 3))
        assert np.array_equal(shot[..., 0], np.floor(means + 0.5).astype(np.int64))
    finally:
        v.close()


def test_a_failed_chunk_is_transparent_and_named(pattern: np.ndarray) -> None:
    store = FailingStore(zarr.storage.MemoryStore())
    make_image(pattern, store, axes="yx", chunks=(128, 128), levels=1)
    store.fail.add("0/c/0/1")
    v = Viewer(store, contrast_limits=(0, 1200), zoom=1.0, center=aligned_center((400, 300), 1))
    try:
        with pytest.warns(RuntimeWarning, match=r"Viewer\.screenshot\(\).*0/0/1//0.*injected"):
            shot = v.screenshot((400, 300))
        assert (shot[:128, 128:256, 3] == 0).all()
        assert (shot[:128, :128, 3] == 255).all() and (shot[128:, :, 3] == 255).all()
        with pytest.raises(RuntimeError, match=r"1 tile\(s\) of level 0"):
            v.screenshot((400, 300), strict=True)
    finally:
        v.close()


def test_chunks_not_there_in_time_are_transparent(pattern: np.ndarray) -> None:
    store = GatedStore(zarr.storage.MemoryStore())
    store.gate.set()  # writing the pyramid and the viewer's statistics (level 1) read freely
    make_image(pattern, store, axes="yx", chunks=(128, 128), levels=2)
    v = Viewer(store, contrast_limits=(0, 1200), zoom=1.0)
    store.gate.clear()
    try:
        with pytest.warns(RuntimeWarning, match=r"0/0/0//0: not loaded within 0\.2 s"):
            shot = v.screenshot((400, 300), timeout=0.2)
        assert (shot[..., 3] == 0).all()
        # The notebook's picture: the same bounded wait, and no warning for it.
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            data, _ = v._repr_mimebundle_()
        picture = Image.open(io.BytesIO(base64.b64decode(data["image/png"])))
        assert picture.mode == "RGBA" and (np.asarray(picture)[..., 3] == 0).all()
        # Nothing the renderings got is still held: their refs were dropped.
        assert all(not ref.startswith("render-") for c in v.pool.iter_chunks() for ref in c.refs)
    finally:
        store.gate.set()
        v.close()


def test_size_defaults_to_what_the_browser_reported(pattern: np.ndarray) -> None:
    _, group, _ = make_image(pattern, axes="yx", chunks=(128, 128))
    v = Viewer(group, contrast_limits=(0, 1200), height=120)
    try:
        assert v.screenshot().shape == (120, int(widget_module.DEFAULT_VIEW_WIDTH), 4)
        v._handle_message(v, {"type": "ready", "view": "a", "version": PROTOCOL_VERSION}, [])
        v._handle_message(
            v,
            {
                "type": "viewport",
                "view": "a",
                "seq": 1,
                "center": [150.0, 200.0],
                "scale": 1.0,
                "size": [90, 160],
                "dpr": 2.0,
                "channels": [0],
            },
            [],
        )
        assert v.screenshot().shape == (90, 160, 4)
        assert v.screenshot(dpr=2).shape == (180, 320, 4)
    finally:
        v.close()


def test_save_png_round_trip_with_and_without_scale_bar(
    pattern: np.ndarray, tmp_path: Path
) -> None:
    _, group, _ = make_image(
        pattern, axes="yx", chunks=(128, 128), scale=(0.5, 0.5), units="micrometer"
    )
    v = Viewer(group, contrast_limits=(0, 1200), zoom=1.0, center=[75.0, 100.0])
    try:
        shot = v.screenshot((300, 200))
        v.save_png(tmp_path / "plain.png", scale_bar=False, size=(300, 200))
        with Image.open(tmp_path / "plain.png") as im:
            assert im.mode == "RGBA"
            assert np.array_equal(np.asarray(im), shot)
        v.save_png(tmp_path / "bar.png", size=(300, 200))
        with Image.open(tmp_path / "bar.png") as im:
            bar = np.asarray(im)
        # zoom 1 at 0.5 µm per pixel: 0.5 µm per CSS px, a 50 µm bar 100 px long.
        spec = choose_scale_bar(0.5, "micrometer")
        assert spec is not None and spec.label == "50 µm" and spec.px == pytest.approx(100)
        ink = np.all(bar[..., :3] == [0xF4, 0xF4, 0xF6], axis=-1)
        rows = np.nonzero(ink.sum(axis=1) >= 100)[0]
        assert list(rows) == [186, 187, 188, 189]  # 4 px high, 10 px above the bottom
        cols = np.nonzero(ink[187])[0]
        assert (cols.min(), cols.max()) == (188, 287)  # 100 px, ending 12 px from the right
        assert ink[160:184, 200:288].any()  # the label, above the bar
        assert np.array_equal(bar[:150, :180], shot[:150, :180])  # nothing else changed
    finally:
        v.close()


def test_repr_mimebundle_carries_the_widget_and_a_png_of_the_view(pattern: np.ndarray) -> None:
    _, group, _ = make_image(pattern, axes="yx", chunks=(64, 64), levels=3)
    v = Viewer(group, contrast_limits=(0, 1200), height=150)
    try:
        data, metadata = v._repr_mimebundle_()
        assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == v.model_id
        assert "text/plain" in data and isinstance(metadata, dict)
        with Image.open(io.BytesIO(base64.b64decode(data["image/png"]))) as im:
            picture = np.asarray(im)
        assert picture.shape == (150, int(widget_module.DEFAULT_VIEW_WIDTH), 4)
        # 400 x 300 pixels fitted into 800 x 150 CSS px: 200 x 150 in the middle.
        opaque = picture[..., 3] == 255
        assert opaque[:, 300:500].all() and not opaque[:, :300].any() and not opaque[:, 500:].any()
        json.dumps(data)  # what a notebook stores
    finally:
        v.close()


# -- the twins of the front end's tables and rules ------------------------------------------


def test_colormap_tables_have_one_source_shared_with_the_front_end() -> None:
    source = (REPO / "js" / "colormaps.ts").read_text(encoding="utf-8")
    assert 'from "../simplezarr/viewer/colormaps.json"' in source
    assert not re.search(r"[A-Za-z0-9+/]{200}", source), "a table is inlined in colormaps.ts again"
    # The cases of js/colormaps.test.ts.
    ends = {
        "viridis": ("#440154", "#fde725"),
        "magma": ("#000004", "#fcfdbf"),
        "inferno": ("#000004", "#fcffa4"),
        "plasma": ("#0d0887", "#f0f921"),
        "cividis": ("#00224e", "#fee838"),
        "turbo": ("#30123b", "#7a0403"),
    }
    for name, (first, last) in ends.items():
        lut = colormap_lut(name)
        assert "#{:02x}{:02x}{:02x}".format(*lut[0, :3]) == first
        assert "#{:02x}{:02x}{:02x}".format(*lut[255, :3]) == last
        assert np.array_equal(colormap_lut(name + "_r"), lut[::-1])
        assert np.array_equal(colormap_lut(name + "_r", invert=True), lut)
    assert np.array_equal(colormap_lut("gray")[:, 0], np.arange(256))
    assert list(colormap_lut("#FF8000")[51, :3]) == [51, round(128 * 51 / 255), 0]
    assert list(colormap_lut("magenta")[255, :3]) == [255, 0, 255]
    assert np.array_equal(colormap_lut("yellow"), colormap_lut("#ffff00"))
    with pytest.raises(ValueError, match="colormap_lut\\(\\): unknown colormap 'jet'"):
        colormap_lut("jet")


def test_scale_bar_rule_matches_the_front_end_cases() -> None:
    # The cases of js/scalebar.test.ts.
    bar = choose_scale_bar(0.5, "micrometer")
    # px within float rounding: V8's 10 ** -5 is not Python's (1 ulp).
    assert bar is not None and bar.label == "50 µm" and bar.px == pytest.approx(100)
    nm = choose_scale_bar(0.002, "micrometer")
    assert nm is not None and nm.label == "200 nm" and nm.px == pytest.approx(100)
    mm = choose_scale_bar(20, "micrometer")
    assert mm is not None and mm.label == "2 mm" and mm.px == pytest.approx(100, abs=1e-9)
    assert getattr(choose_scale_bar(3, "nanometer"), "label", None) == "200 nm"
    assert getattr(choose_scale_bar(1e-4, "meter"), "label", None) == "10 mm"
    scale = 1e-4
    while scale < 1e4:
        b = choose_scale_bar(scale, "micrometer")
        assert b is not None and 0.4 * TARGET_CSS_PX <= b.px <= TARGET_CSS_PX + 1e-9
        scale *= 1.37
    plain = choose_scale_bar(2, "")
    assert plain is not None and plain.label == "200" and plain.px == pytest.approx(100)
    seconds = choose_scale_bar(2, "second")
    assert seconds is not None and seconds.label == "200 s" and seconds.px == pytest.approx(100)
    assert choose_scale_bar(0, "micrometer") is None
    assert choose_scale_bar(float("nan"), "micrometer") is None
