"""Tests of simplezarr.utils._ngff: transform algebra, units and axis guesses (no stores)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from simplezarr.utils._ngff import (
    FN,
    MAX_NESTING,
    SPACE_UNITS,
    AxisMap,
    axes_from_names,
    guess_axes,
    normalize_unit,
    parse_transform,
    parse_transforms,
    shape_factor,
)
from tests.utils._ngff_examples import EXAMPLES, load_json_with_comments

TRANSFORMS = sorted((EXAMPLES / "0.6rc0" / "transformations").glob("*.json"))


def test_comment_stripping_keeps_urls_in_strings(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"a": "http://x//y", // comment\n "b": 1}')
    assert load_json_with_comments(path) == {"a": "http://x//y", "b": 1}


def _system(doc: dict[str, Any], ref: Any) -> list[dict[str, Any]]:
    name = ref["name"] if isinstance(ref, dict) else ref
    return next(cs["axes"] for cs in doc["coordinateSystems"] if cs["name"] == name)


# transformations/*.json that reduce to an AxisMap, with a point and its image computed by
# hand from the file's numbers (out[i] = scale[i] * in[source[i]] + translation[i]).
EXPECTED_POINTS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "identity.json": ((3.0, 4.0), (3.0, 4.0)),
    "scale.json": ((1.0, 1.0), (2.0, 3.12)),
    "translation.json": ((0.0, 0.0), (9.0, -1.42)),
    # translation (0.1, 0.9) first, then scale (2, 3)
    "sequence.json": ((1.0, 1.0), (2.2, 5.7)),
    # x = i - 1 on output 1 (from input 1), y = 2 j on output 0 (from input 0)
    "byDimension1.json": ((3.0, 5.0), (6.0, 4.0)),
    # z = 2 j (input 1), y = i + 0.5 (input 3), x = k + 1.5 (input 2)
    "byDimension2.json": ((7.0, 1.0, 2.0, 3.0), (2.0, 3.5, 3.5)),
    "scale_with_discrete.json": ((1.0, 1.0, 1.0), (1.0, 3.12, 2.0)),
    # the first transform in the file: mapAxis [0, 1]
    "mapAxis1.json": ((1.0, 2.0), (1.0, 2.0)),
}

# Files whose transforms cannot be reduced, with the name the error must carry.
UNSUPPORTED = {
    "affine2d2d.json": "affine",
    "affine2d2d_with_channel.json": "affine",
    "affine2d3d.json": "affine",
    "rotation.json": "rotation",
    "bijection.json": "coordinates",
    "bijection_verbose.json": "coordinates",
    "byDimensionXarray.json": "coordinates",
    "xarrayLike.json": "coordinates",
    "sequenceSubspace1.json": "coordinates",
    "projectAxis.json": "projectAxis",
    "projectAxis2.json": "projectAxis",
    "byDimensionInvalid1.json": "byDimension",
    "byDimensionInvalid2.json": "byDimension",
}


def _first_transform(doc: dict[str, Any]) -> tuple[dict[str, Any], int]:
    if "coordinateTransformations" in doc:
        t = doc["coordinateTransformations"][0]
        return t, len(_system(doc, t["input"]))
    return doc, 2  # bijection_verbose.json is a bare transform between 2D systems


@pytest.mark.skipif(not TRANSFORMS, reason="OME-NGFF examples not available")
@pytest.mark.parametrize("path", TRANSFORMS, ids=lambda p: p.name)
def test_every_06_transformation_example(path: Path) -> None:
    doc = load_json_with_comments(path)
    t, n_in = _first_transform(doc)
    name = path.name
    assert name in EXPECTED_POINTS or name in UNSUPPORTED, f"unclassified example {name}"
    if name in UNSUPPORTED:
        with pytest.raises(ValueError, match=UNSUPPORTED[name]) as info:
            parse_transform(t, n_in, f"example {name}")
        assert FN in str(info.value) and name in str(info.value)
        return
    amap = parse_transform(t, n_in, name)
    point, expected = EXPECTED_POINTS[name]
    assert amap.apply(point) == pytest.approx(expected)
    if "coordinateSystems" in doc and isinstance(t.get("output"), dict):
        assert amap.ndim_out == len(_system(doc, t["output"]))


def test_map_axis_permutation_and_array_order() -> None:
    amap = parse_transform({"type": "mapAxis", "mapAxis": [1, 0]}, 2, "t")
    assert amap.apply((10.0, 20.0)) == (20.0, 10.0)
    # array axis 0 becomes output axis 1 and vice versa
    assert amap.array_order(2, "t") == (1, 0)


def test_then_composes_in_order() -> None:
    scale = parse_transform({"type": "scale", "scale": [2.0, 4.0]}, 2, "t")
    shift = parse_transform({"type": "translation", "translation": [1.0, -1.0]}, 2, "t")
    p = (3.0, 5.0)
    assert scale.then(shift).apply(p) == shift.apply(scale.apply(p)) == (7.0, 19.0)
    assert shift.then(scale).apply(p) == scale.apply(shift.apply(p)) == (8.0, 16.0)
    assert not scale.has_translation and shift.has_translation
    assert scale.then(shift).has_translation


def test_axis_aligned_affine_is_read() -> None:
    t = {"type": "affine", "affine": [[0.0, 2.0, 5.0], [3.0, 0.0, 7.0]]}
    amap = parse_transform(t, 2, "t")
    assert amap.apply((1.0, 10.0)) == (25.0, 10.0)
    assert amap.has_translation


def test_parse_transforms_none_is_identity() -> None:
    assert parse_transforms(None, 3, "t") == AxisMap.identity(3)


@pytest.mark.parametrize(
    ("transform", "match"),
    [
        ({"type": "scale", "scale": [1.0]}, r"scale \[1.0\] has 1 values, expected 2"),
        ({"type": "scale", "scale": [1.0, 0.0]}, r"<= 0"),
        ({"type": "scale", "scale": [1.0, -2.0]}, r"<= 0"),
        ({"type": "scale", "scale": [1.0, "a"]}, r"list of numbers"),
        ({"type": "scale", "scale": [1.0, math.inf]}, r"non-finite"),
        ({"type": "scale", "path": "s.zarr"}, r"stored in the array 's.zarr'"),
        ({"type": "translation"}, r"no 'translation' values"),
        ({"type": "warp"}, r"'warp'"),
        ("scale", r"must be a dict"),
        ({"type": "rotation", "rotation": [[0.6, -0.8], [0.8, 0.6]]}, r"not an axis-aligned"),
    ],
)
def test_bad_transforms_raise_naming_the_value(transform: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        parse_transform(transform, 2, "dataset 's0'")
    assert str(info.value).startswith(FN) and "dataset 's0'" in str(info.value)


def test_array_order_rejects_non_permutations() -> None:
    amap = AxisMap((0, 0), (1.0, 1.0), (0.0, 0.0))
    with pytest.raises(ValueError, match=r"one-to-one"):
        amap.array_order(2, "t")


@pytest.mark.parametrize(
    ("shape", "names"),
    [
        ((7,), "x"),
        ((5, 6), "yx"),
        ((3, 50, 60), "cyx"),
        ((10, 50, 60), "zyx"),
        ((50, 60, 3), "yxc"),
        ((50, 60, 4), "yxc"),
        ((2, 10, 50, 60), "czyx"),
        ((2, 2, 10, 50, 60), "tczyx"),
    ],
)
def test_guess_axes(shape: tuple[int, ...], names: str) -> None:
    axes = guess_axes(shape)
    assert "".join(n for n, _ in axes) == names
    kinds = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}
    assert [k for _, k in axes] == [kinds[n] for n in names]


def test_guess_axes_many_dims() -> None:
    axes = guess_axes((2, 3, 4, 5, 6, 7, 8))
    assert [n for n, _ in axes] == ["dim_0", "dim_1", "t", "c", "z", "y", "x"]
    assert axes[0][1] is None


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ("micrometer", "micrometer"),
        ("um", "micrometer"),
        ("µm", "micrometer"),
        ("μm", "micrometer"),
        ("Micrometer", "micrometer"),
        ("nm", "nanometer"),
        ("Å", "angstrom"),
        ("", None),
        (None, None),
        ("furlong", "furlong"),
    ],
)
def test_normalize_unit(unit: str | None, expected: str | None) -> None:
    assert normalize_unit(unit) == expected


def test_space_units_factors() -> None:
    assert SPACE_UNITS["micrometer"] == 1e-6
    assert SPACE_UNITS["nanometer"] == 1e-9
    assert SPACE_UNITS["meter"] == 1.0
    assert SPACE_UNITS["inch"] == pytest.approx(0.0254)


# -- dimension names, shape factors, untrusted numbers ---------------------------------------


@pytest.mark.parametrize(
    ("names", "ndim", "expected"),
    [
        (["C", "Y", "X"], 3, (("c", "channel"), ("y", "space"), ("x", "space"))),  # tifffile
        (["Y", "X", "S"], 3, (("y", "space"), ("x", "space"), ("c", "channel"))),  # RGB samples
        (
            ["C", "Y", "X", "S"],
            4,
            (("c", "channel"), ("y", "space"), ("x", "space"), ("s", "channel")),
        ),
        (["T", "Q", "Y", "X"], 4, (("t", "time"), ("q", None), ("y", "space"), ("x", "space"))),
        (
            ["time", "z", "y", "x"],
            4,
            (("time", "time"), ("z", "space"), ("y", "space"), ("x", "space")),
        ),
        (["x"], 1, (("x", "space"),)),
        (["y", "y"], 2, None),  # not unique
        (["a", "b"], 2, None),  # no spatial axis: guess instead
        (["t", "x"], 2, None),  # only one spatial axis of two
        (["y", "x"], 3, None),  # one name short
        (["y", ""], 2, None),
        (["y", 5], 2, None),
        ("yx", 2, None),
        (None, 2, None),
    ],
)
def test_axes_from_names(names: Any, ndim: int, expected: Any) -> None:
    assert axes_from_names(names, ndim) == expected


@pytest.mark.parametrize(
    ("n0", "n", "factor"),
    [(1000, 500, 2.0), (1001, 501, 2.0), (1001, 500, 2.0), (1001, 250, 4.0), (100, 100, 1.0),
     (100, 30, 100 / 30), (7, 1, 7.0), (0, 5, 1.0)],
)  # fmt: skip
def test_shape_factor(n0: int, n: int, factor: float) -> None:
    assert shape_factor(n0, n) == pytest.approx(factor)


@pytest.mark.parametrize(
    ("transform", "match"),
    [
        ({"type": "scale", "scale": [10**400, 1]}, r"non-finite value"),
        ({"type": "translation", "translation": [-(10**400), 1]}, r"non-finite value"),
        ({"type": "scale", "scale": [True, 1]}, r"must be a list of numbers"),
        ({"type": "affine", "affine": [[10**400, 0, 0], [0, 1, 0]]}, r"non-finite value"),
    ],
)
def test_untrusted_numbers_are_value_errors(transform: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_transform(transform, 2, "here")


def test_nesting_is_bounded() -> None:
    t: Any = {"type": "scale", "scale": [2.0, 2.0]}
    for _ in range(MAX_NESTING):
        t = {"type": "sequence", "transformations": [t]}
    assert parse_transform(t, 2, "here").scale == (2.0, 2.0)
    with pytest.raises(ValueError, match=r"nested more than 16 deep"):
        parse_transform({"type": "bijection", "forward": t}, 2, "here")


def test_composed_overflow_is_a_value_error() -> None:
    big = {"type": "scale", "scale": [1e300, 1.0]}
    with pytest.raises(ValueError, match=r"overflow"):
        parse_transforms([big, big], 2, "here")
