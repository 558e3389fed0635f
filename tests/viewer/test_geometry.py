"""Pure geometry: level choice, visible chunks, centre-out order, bounds, mapping, fit."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from simplezarr.viewer._layout import ImageLayout, SliderAxis
from simplezarr.viewer.geometry import (
    LevelGeometry,
    Viewport,
    choose_level,
    chunk_bounds,
    chunk_range,
    chunk_shape,
    fit,
    map_index,
    pixel_at,
    wanted_chunks,
)


def pyramid(
    shape: tuple[int, int], chunk: tuple[int, int], n: int, s0: float = 1.0
) -> list[LevelGeometry]:
    """Levels downsampled by 2, following the pixel-centre convention."""
    levels = []
    for i in range(n):
        f = 2**i
        levels.append(
            LevelGeometry(
                shape=(-(-shape[0] // f), -(-shape[1] // f)),
                chunk=chunk,
                scale=(s0 * f, s0 * f),
                offset=((f - 1) / 2 * s0, (f - 1) / 2 * s0),
            )
        )
    return levels


def intersects(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_viewport_bounds_and_device_pixels() -> None:
    vp = Viewport(center=(10.0, 20.0), scale=0.5, size=(100.0, 300.0), dpr=2.0)
    assert vp.bounds == (10 - 25, 20 - 75, 10 + 25, 20 + 75)
    assert vp.world_per_device_pixel == 0.25
    assert not vp.is_empty
    assert Viewport((0.0, 0.0), 1.0, (0.0, 10.0)).is_empty


@pytest.mark.parametrize(
    "world_per_css", [0.1, 0.5, 0.999, 1.0, 1.5, 2.0, 3.9, 4.0, 7.0, 8.0, 1e6]
)
@pytest.mark.parametrize("dpr", [1.0, 1.5, 2.0])
def test_choose_level_is_the_coarsest_not_coarser_than_a_device_pixel(
    world_per_css: float, dpr: float
) -> None:
    levels = pyramid((5000, 7000), (256, 256), 4)
    vp = Viewport((0.0, 0.0), world_per_css, (500.0, 800.0), dpr)
    chosen = choose_level(levels, vp)
    device = world_per_css / dpr
    fitting = [i for i, lv in enumerate(levels) if max(lv.scale) <= device * (1 + 1e-9)]
    assert chosen == (max(fitting) if fitting else 0)
    # never finer than needed: the next level is coarser than a device pixel
    if chosen + 1 < len(levels):
        assert max(levels[chosen + 1].scale) > device


def test_choose_level_anisotropic_needs_both_axes() -> None:
    levels = [
        LevelGeometry((100, 100), (10, 10), (1.0, 1.0), (0.0, 0.0)),
        LevelGeometry((50, 100), (10, 10), (2.0, 1.0), (0.5, 0.0)),
        LevelGeometry((25, 50), (10, 10), (4.0, 2.0), (1.5, 0.5)),
    ]
    assert choose_level(levels, Viewport((0.0, 0.0), 2.0, (10.0, 10.0))) == 1
    assert choose_level(levels, Viewport((0.0, 0.0), 3.0, (10.0, 10.0))) == 1
    assert choose_level(levels, Viewport((0.0, 0.0), 4.0, (10.0, 10.0))) == 2


def test_choose_level_zoomed_in_past_level_0_uses_level_0() -> None:
    levels = pyramid((100, 100), (10, 10), 3, s0=2.0)
    assert choose_level(levels, Viewport((0.0, 0.0), 0.01, (10.0, 10.0))) == 0
    with pytest.raises(ValueError, match="choose_level"):
        choose_level([], Viewport((0.0, 0.0), 1.0, (10.0, 10.0)))


def test_chunk_bounds_tile_the_level_without_gaps() -> None:
    level = LevelGeometry((700, 900), (256, 256), (0.5, 2.0), (3.0, -1.0))
    gy, gx = level.grid_shape
    assert (gy, gx) == (3, 4)
    for iy, ix in itertools.product(range(gy), range(gx)):
        b = chunk_bounds(level, (iy, ix))
        h, w = chunk_shape(level, (iy, ix))
        assert math.isclose(b[2] - b[0], h * 0.5) and math.isclose(b[3] - b[1], w * 2.0)
        if ix + 1 < gx:
            assert chunk_bounds(level, (iy, ix + 1))[1] == b[3]
        if iy + 1 < gy:
            assert chunk_bounds(level, (iy + 1, ix))[0] == b[2]
    first, last = chunk_bounds(level, (0, 0)), chunk_bounds(level, (gy - 1, gx - 1))
    assert (first[0], first[1], last[2], last[3]) == level.bounds
    assert chunk_shape(level, (gy - 1, gx - 1)) == (700 - 2 * 256, 900 - 3 * 256)
    with pytest.raises(ValueError, match="chunk_shape"):
        chunk_shape(level, (gy, 0))


def test_levels_of_a_pyramid_share_their_outer_edges() -> None:
    levels = pyramid((1024, 2048), (256, 256), 4)
    for level in levels:
        assert level.bounds == levels[0].bounds


def test_chunk_range_matches_brute_force() -> None:
    rng = random.Random(3)
    level = LevelGeometry((1000, 1300), (128, 200), (0.7, 1.3), (5.0, -20.0))
    gy, gx = level.grid_shape
    for _ in range(300):
        y0 = rng.uniform(-200, 900)
        x0 = rng.uniform(-300, 1900)
        rect = (y0, x0, y0 + rng.uniform(0.01, 500), x0 + rng.uniform(0.01, 900))
        ry, rx = chunk_range(level, rect)
        got = {(iy, ix) for iy in ry for ix in rx}
        expected = {
            (iy, ix)
            for iy in range(gy)
            for ix in range(gx)
            if intersects(chunk_bounds(level, (iy, ix)), rect)
        }
        assert got == expected, rect


def test_wanted_chunks_cover_view_plus_margin_centre_out() -> None:
    level = pyramid((5000, 7000), (256, 256), 1)[0]
    vp = Viewport(center=(2100.0, 3333.0), scale=1.0, size=(800.0, 1200.0))
    chunks = wanted_chunks(level, vp, margin=0.1)
    y0, x0, y1, x1 = vp.bounds
    grown = (y0 - 80, x0 - 120, y1 + 80, x1 + 120)
    gy, gx = level.grid_shape
    expected = {
        (iy, ix)
        for iy in range(gy)
        for ix in range(gx)
        if intersects(chunk_bounds(level, (iy, ix)), grown)
    }
    assert set(chunks) == expected and len(chunks) == len(expected)

    def distance(c: tuple[int, int]) -> float:
        b = chunk_bounds(level, c)
        return math.hypot((b[0] + b[2]) / 2 - vp.center[0], (b[1] + b[3]) / 2 - vp.center[1])

    dists = [distance(c) for c in chunks]
    assert dists == sorted(dists)
    # the chunk under the centre comes first
    b = chunk_bounds(level, chunks[0])
    assert b[0] <= vp.center[0] < b[2] and b[1] <= vp.center[1] < b[3]


def test_wanted_chunks_empty_view_or_outside_image() -> None:
    level = pyramid((500, 500), (100, 100), 1)[0]
    assert wanted_chunks(level, Viewport((250.0, 250.0), 1.0, (0.0, 100.0))) == []
    assert wanted_chunks(level, Viewport((5000.0, 250.0), 1.0, (100.0, 100.0))) == []


def test_wanted_chunks_capped_around_the_centre() -> None:
    level = LevelGeometry((10**6, 10**6), (512, 512), (1.0, 1.0), (0.0, 0.0))
    vp = Viewport(center=(500_000.0, 300_000.0), scale=200.0, size=(1000.0, 1000.0))
    chunks = wanted_chunks(level, vp, max_chunks=100)
    assert 0 < len(chunks) <= 100
    centre_chunk = (500_000 // 512, 300_000 // 512)
    assert chunks[0] == centre_chunk
    assert len(set(chunks)) == len(chunks)


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_map_index_finds_the_pixel_containing_the_centre(factor: int) -> None:
    s0, o0 = 0.5, 10.0
    s1, o1 = s0 * factor, o0 + (factor - 1) / 2 * s0
    size1 = 37
    for i in range(size1 * factor + 5):
        j = map_index(i, (s0, o0), (s1, o1), size1)
        world = o0 + i * s0
        if i < size1 * factor:
            assert o1 + (j - 0.5) * s1 <= world < o1 + (j + 0.5) * s1
            assert j == i // factor
        else:
            assert j == size1 - 1  # clamped
    assert map_index(5, (1.0, 0.0), (1.0, 0.0), 10) == 5
    assert map_index(-3, (1.0, 0.0), (1.0, 0.0), 10) == 0


def test_fit_shows_the_whole_level() -> None:
    level = LevelGeometry((700, 2000), (256, 256), (0.5, 0.5), (3.0, 7.0))
    center, scale = fit(level, (400.0, 600.0))
    vp = Viewport(center, scale, (400.0, 600.0))
    lb, vb = level.bounds, vp.bounds
    assert vb[0] <= lb[0] + 1e-9 and vb[1] <= lb[1] + 1e-9
    assert vb[2] >= lb[2] - 1e-9 and vb[3] >= lb[3] - 1e-9
    # tight along the limiting axis (x here)
    assert math.isclose(vb[3] - vb[1], lb[3] - lb[1])


def test_image_layout_locates_planes() -> None:
    # axes (t, z, y, x); z is downsampled by 2 at level 1, t is not
    levels = tuple(pyramid((64, 64), (16, 16), 2))
    layout = ImageLayout(
        ndim=4,
        y_axis=2,
        x_axis=3,
        levels=levels,
        sliders=(
            SliderAxis("t", 0, "time", None, 5, 1.0, 0.0),
            SliderAxis("z", 1, "space", None, 10, 1.0, 0.0),
        ),
        slider_levels=(
            ((1.0, 0.0, 5, 1), (1.0, 0.0, 10, 4)),
            ((1.0, 0.0, 5, 1), (2.0, 0.5, 5, 4)),
        ),
    )
    position = {"t": 3, "z": 7}
    assert layout.slider_indices(0, position) == (3, 7)
    assert layout.slider_indices(1, position) == (3, 3)
    assert layout.locate(0, position) == ((3, 1), (0, 3))
    assert layout.locate(1, position) == ((3, 0), (0, 3))
    assert layout.chunk_index((2, 1), (3, 1)) == (3, 1, 2, 1)
    assert layout.plane_selection((0, 3)) == (0, 3, slice(None), slice(None))
    assert layout.slider_names == ("t", "z")
    # A new view starts at the first time point, in the middle of the stack.
    assert layout.default_position() == {"t": 0, "z": 4}
    assert layout.channel_slider is None
    assert layout.channel_count == 1 and layout.plane_names == ("t", "z")


def test_the_channel_axis_is_a_slider_but_not_part_of_the_plane() -> None:
    # axes (c, z, y, x): 5 channels in chunks of 2; z halves at level 1, c never does
    levels = tuple(pyramid((64, 64), (16, 16), 2))
    layout = ImageLayout(
        ndim=4,
        y_axis=2,
        x_axis=3,
        levels=levels,
        sliders=(
            SliderAxis("c", 0, "channel", None, 5, 1.0, 0.0),
            SliderAxis("z", 1, "space", None, 10, 1.0, 0.0),
        ),
        slider_levels=(
            ((1.0, 0.0, 5, 2), (1.0, 0.0, 10, 4)),
            ((1.0, 0.0, 5, 2), (2.0, 0.5, 5, 4)),
        ),
    )
    assert layout.channel_slider == "c" and layout.channel_count == 5
    assert layout.plane_names == ("z",) and layout.slider_names == ("c", "z")
    position = {"c": 1, "z": 7}
    # channel 3: the chunk c // 2 = 1, index 1 inside it, on every level
    assert layout.locate(0, position, channel=3) == ((1, 1), (1, 3))
    assert layout.locate(1, position, channel=3) == ((1, 0), (1, 3))
    assert layout.locate(0, position) == ((0, 1), (1, 3))  # the position's channel, 1
    assert layout.locate(0, position, channel=99) == ((2, 1), (0, 3))  # clamped: channel 4
    assert layout.channel_chunk(0) == layout.channel_chunk(1) == 2


@pytest.mark.parametrize(
    ("world", "pixel"),
    [
        ((0.0, 0.0), (0, 0)),
        ((-0.5, -0.5), (0, 0)),  # the outer edge of pixel 0 belongs to it
        ((-0.5001, 0.0), None),
        ((63.49, 63.49), (63, 63)),
        ((63.5, 10.0), None),  # the far edge belongs to no pixel
        ((10.5, 20.49), (11, 20)),
        ((float("nan"), 0.0), None),
        ((1e308, -1e308), None),
    ],
)
def test_pixel_at_follows_the_pixel_centre_convention(
    world: tuple[float, float], pixel: tuple[int, int] | None
) -> None:
    (level0,) = pyramid((64, 64), (16, 16), 1)
    assert pixel_at(level0, world) == pixel
    level1 = pyramid((64, 64), (16, 16), 2)[1]  # scale 2, offset 0.5: pixel 0 is -0.5..1.5
    assert pixel_at(level1, (1.49, -0.5)) == (0, 0) and pixel_at(level1, (1.5, 0.0)) == (1, 0)
