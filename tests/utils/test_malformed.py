"""Malformed metadata: every row is a document, and what ``from_zarr_node`` must do with it.

Each row builds a real zarr group in memory (arrays and attributes) from a
valid document with one thing broken, and names the outcome: a
``ValueError`` whose message names the field (``Err``), or a warning that
names it and what is read instead (``Warn``). Whatever is read must have a
finite geometry. Then a seeded fuzz pass breaks the valid documents at
random and checks that no raw ``TypeError``/``KeyError``/``OverflowError``/
``RecursionError`` ever gets out, nor reaches the reader's last-resort net.
"""

from __future__ import annotations

import copy
import json
import math
import random
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import zarr
import zarr.storage

from simplezarr.utils.multiscale import ChannelInfo, MultiscaleInfo
from tests.utils._ngff_examples import (
    EXAMPLES,
    example_attrs,
    load_json_with_comments,
    write_image_group,
)

FN = "MultiscaleInfo.from_zarr_node()"
Infos = list[MultiscaleInfo]


@dataclass(frozen=True)
class Err:
    """A ValueError starting with FN whose message matches ``match`` (the field)."""

    match: str


@dataclass(frozen=True)
class Warn:
    """A UserWarning matching ``match``; ``check`` says what was read."""

    match: str
    check: Callable[[Infos], bool] = lambda infos: True


# -- valid documents and their stores ----------------------------------------------------------


def image_attrs(**ms_extra: Any) -> dict[str, Any]:
    """A valid OME-NGFF 0.5 image: (c, y, x), two levels, two channels."""
    ms = {
        "name": "img",
        "axes": [
            {"name": "c", "type": "channel"},
            {"name": "y", "type": "space", "unit": "micrometer"},
            {"name": "x", "type": "space", "unit": "micrometer"},
        ],
        "datasets": [
            {
                "path": "0",
                "coordinateTransformations": [{"type": "scale", "scale": [1, 0.5, 0.5]}],
            },
            {"path": "1", "coordinateTransformations": [{"type": "scale", "scale": [1, 1, 1]}]},
        ],
        **ms_extra,
    }
    omero = {
        "channels": [
            {"label": "DAPI", "color": "0000FF", "window": {"start": 0, "end": 900}},
            {"label": "GFP", "color": "00FF00", "window": {"start": 5, "end": 100}},
        ]
    }
    return {"ome": {"version": "0.5", "multiscales": [ms], "omero": omero}}


SHAPES = {"0": (2, 16, 16), "1": (2, 8, 8)}


def image_group(
    attrs: dict[str, Any], shapes: dict[str, tuple[int, ...]] | None = None
) -> zarr.Group:
    group = zarr.open_group(zarr.storage.MemoryStore(), mode="w", zarr_format=3)
    group.attrs.update(attrs)
    for path, shape in (SHAPES if shapes is None else shapes).items():
        group.create_array(path, shape=shape, dtype="uint16", fill_value=0)
    return group


def image(mutate: Callable[[dict[str, Any]], Any] | None = None, **kw: Any) -> Callable[[], Any]:
    """Builder: the valid image with ``mutate(ms)`` applied to its multiscales[0]."""

    def build() -> zarr.Group:
        attrs = image_attrs()
        if mutate is not None:
            mutate(attrs["ome"]["multiscales"][0])
        return image_group(attrs, **kw)

    return build


def root(mutate: Callable[[dict[str, Any]], Any]) -> Callable[[], Any]:
    """Builder: the valid image with ``mutate(ome)`` applied to its whole ``ome`` dict."""

    def build() -> zarr.Group:
        attrs = image_attrs()
        mutate(attrs["ome"])
        return image_group(attrs)

    return build


def channel(mutate: Callable[[dict[str, Any]], Any]) -> Callable[[], Any]:
    """Builder: the valid image with ``mutate(channel 0)`` applied to ``omero.channels[0]``."""
    return root(lambda ome: mutate(ome["omero"]["channels"][0]))


def ds_scale(k: int, scale: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda ms: ms["datasets"][k]["coordinateTransformations"][0].update(scale=scale)


def ds_transforms(k: int, ts: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda ms: ms["datasets"][k].update(coordinateTransformations=ts)


def plate(
    wells: Any = None, images: Any = None, *, plate_value: Any = None, well_value: Any = None
) -> Callable[[], Any]:
    """Builder: a plate of wells A/1 and A/2 with field "0" each; parts can be replaced."""

    def build() -> zarr.Group:
        group = zarr.open_group(zarr.storage.MemoryStore(), mode="w", zarr_format=3)
        good_wells = [{"path": "A/1", "rowIndex": 0, "columnIndex": 0},
                      {"path": "A/2", "rowIndex": 0, "columnIndex": 1}]  # fmt: skip
        p = {"rows": [{"name": "A"}], "columns": [{"name": "1"}, {"name": "2"}]}
        p["wells"] = good_wells if wells is None else wells
        group.attrs["ome"] = {"version": "0.5", "plate": p if plate_value is None else plate_value}
        for w in ("A/1", "A/2"):
            well = group.require_group(w)
            good = {"images": [{"path": "0"}]}
            if images is not None:
                good["images"] = images
            well.attrs["ome"] = {
                "version": "0.5",
                "well": good if well_value is None else well_value,
            }
            field = well.create_group("0")
            field.attrs.update(image_attrs())
            for path, shape in SHAPES.items():
                field.create_array(path, shape=shape, dtype="uint16", fill_value=0)
        group.create_array("A/3", shape=(4, 4), dtype="uint8")  # an array where a well may point
        return group

    return build


def ms06(mutate: Callable[[dict[str, Any]], Any] | None = None) -> Callable[[], Any]:
    """Builder: a valid 0.6 image (coordinate systems), with ``mutate(ms)`` applied."""

    def build() -> zarr.Group:
        ms = {
            "name": "img",
            "coordinateSystems": [
                {
                    "name": "physical",
                    "axes": [
                        {"name": "y", "type": "space", "unit": "micrometer"},
                        {"name": "x", "type": "space", "unit": "micrometer"},
                    ],
                }
            ],
            "datasets": [
                {
                    "path": "0",
                    "coordinateTransformations": [
                        {"type": "scale", "scale": [0.5, 0.5], "input": "0", "output": "physical"}
                    ],
                }
            ],
        }
        if mutate is not None:
            mutate(ms)
        attrs = {"ome": {"version": "0.6", "multiscales": [ms]}}
        return image_group(attrs, {"0": (16, 16)})

    return build


def bf2raw(series: Any) -> Callable[[], Any]:
    def build() -> zarr.Group:
        group = zarr.open_group(zarr.storage.MemoryStore(), mode="w", zarr_format=3)
        group.attrs["ome"] = {"version": "0.5", "bioformats2raw.layout": 3}
        for name in ("0", "1"):
            sub = group.create_group(name)
            sub.attrs.update(image_attrs())
            for path, shape in SHAPES.items():
                sub.create_array(path, shape=shape, dtype="uint16", fill_value=0)
        group.create_group("OME").attrs["ome"] = {"version": "0.5", "series": series}
        return group

    return build


def nested_wells(depth: int) -> Callable[[], Any]:
    """Builder: wells whose single image is another well, ``depth`` times."""

    def build() -> zarr.Group:
        group = zarr.open_group(zarr.storage.MemoryStore(), mode="w", zarr_format=3)
        node = group
        for _ in range(depth):
            node.attrs["ome"] = {"version": "0.5", "well": {"images": [{"path": "w"}]}}
            node = node.create_group("w")
        node.attrs.update(image_attrs())
        for path, shape in SHAPES.items():
            node.create_array(path, shape=shape, dtype="uint16", fill_value=0)
        return group

    return build


def sequence(depth: int) -> dict[str, Any]:
    t: dict[str, Any] = {"type": "scale", "scale": [1, 0.5, 0.5]}
    for _ in range(depth):
        t = {"type": "sequence", "transformations": [t]}
    return t


def first(infos: Infos) -> MultiscaleInfo:
    return infos[0]


def ch0(infos: Infos) -> ChannelInfo:
    channels = infos[0].channels
    assert channels is not None
    return channels[0]


# -- the table ---------------------------------------------------------------------------------

ROWS: list[tuple[str, Callable[[], Any], Err | Warn]] = [
    # multiscales and datasets
    ("multiscales is a dict", root(lambda o: o.update(multiscales={"datasets": []})),
     Err(r"'multiscales' must be a non-empty list")),
    ("multiscales is empty", root(lambda o: o.update(multiscales=[])),
     Err(r"'multiscales' must be a non-empty list")),
    ("multiscales entry is a string", root(lambda o: o.update(multiscales=["img"])),
     Err(r"multiscales\[0\] .*expected a dict")),
    ("datasets missing", image(lambda ms: ms.pop("datasets")), Err(r"'datasets' is missing")),
    ("datasets is a dict", image(lambda ms: ms.update(datasets={"path": "0"})),
     Err(r"'datasets' is missing or empty")),
    ("datasets entry is a string", image(lambda ms: ms["datasets"].__setitem__(1, "1")),
     Err(r"datasets\[1\] must be a dict")),
    ("dataset path missing", image(lambda ms: ms["datasets"][0].pop("path")),
     Err(r"datasets\[0\]\.path must be a non-empty relative path")),
    ("dataset path empty", image(lambda ms: ms["datasets"][0].update(path="")),
     Err(r"datasets\[0\]\.path must be a non-empty")),
    ("dataset path '/'", image(lambda ms: ms["datasets"][0].update(path="/")),
     Err(r"datasets\[0\]\.path must be a non-empty")),
    ("dataset path '..'", image(lambda ms: ms["datasets"][0].update(path="../0")),
     Err(r"datasets\[0\]\.path .*without '\.' or '\.\.'")),
    ("dataset path a number", image(lambda ms: ms["datasets"][0].update(path=0)),
     Err(r"datasets\[0\]\.path must be a non-empty")),
    ("dataset path missing array", image(lambda ms: ms["datasets"][1].update(path="nope")),
     Err(r"datasets\[1\]\.path 'nope' does not exist")),
    ("65 datasets", image(lambda ms: ms.update(datasets=ms["datasets"] * 33)),
     Err(r"'datasets' lists 66 levels, more than 64")),
    ("name is a dict", image(lambda ms: ms.update(name={"a": 1})),
     Warn(r"'name' must be a string", lambda i: first(i).name == "image")),
    ("version is a dict", root(lambda o: o.update(version={"v": 5})),
     Warn(r"version .* not known", lambda i: first(i).nlevels == 2)),
    ("attribute ome is a list", lambda: image_group({"ome": [1, 2]}),
     Warn(r"attribute 'ome' must be a dict", lambda i: first(i).version is None)),
    # axes
    ("axes is a string", image(lambda ms: ms.update(axes="cyx")), Err(r"'axes' must be a list")),
    ("axis is a number", image(lambda ms: ms["axes"].__setitem__(2, 7)),
     Err(r"axis 2 has no name: 7")),
    ("axis name empty", image(lambda ms: ms["axes"][0].update(name="")),
     Err(r"axis 0 has no name")),
    ("axis name a list", image(lambda ms: ms["axes"][0].update(name=["c"])),
     Err(r"axis 0 has no name")),
    ("duplicate axis names", image(lambda ms: ms["axes"][1].update(name="x")),
     Err(r"axis names must be unique, got \['c', 'x', 'x'\]")),
    ("duplicate 0.3 axis names", image(lambda ms: ms.update(axes=["c", "y", "y"])),
     Err(r"axis names must be unique")),
    ("axis type a number", image(lambda ms: ms["axes"][1].update(type=3)),
     Err(r"axis 'y': 'type' must be a string")),
    ("axis unit a list", image(lambda ms: ms["axes"][1].update(unit=["um"])),
     Err(r"axis 'y': 'unit' must be a string")),
    ("fewer axes than dimensions", image(lambda ms: ms["axes"].pop()),
     Err(r"2 axes \['c', 'y'\] but dataset '0' has 3 dimensions")),
    ("unknown unit", image(lambda ms: [a.update(unit="furlong") for a in ms["axes"][1:]]),
     Warn(r"unknown spatial unit 'furlong'", lambda i: first(i).unit == "furlong")),
    ("mixed units", image(lambda ms: ms["axes"][1].update(unit="nanometer")),
     Warn(r"different units", lambda i: first(i).unit == "micrometer")),
    # numbers and transforms
    ("scale of 10**400", image(ds_scale(0, [1, 10**400, 0.5])), Err(r"scale .*non-finite")),
    ("scale of Infinity", image(ds_scale(0, [1, math.inf, 0.5])), Err(r"scale .*non-finite")),
    ("scale of NaN", image(ds_scale(0, [1, math.nan, 0.5])), Err(r"scale .*non-finite")),
    ("scale of 0", image(ds_scale(0, [1, 0, 0.5])), Err(r"scale \[1, 0, 0.5\] has a value <= 0")),
    ("negative scale", image(ds_scale(0, [1, -0.5, 0.5])), Err(r"has a value <= 0")),
    ("scale of strings", image(ds_scale(0, ["1", "0.5", "0.5"])),
     Err(r"scale must be a list of numbers")),
    ("scale of bools", image(ds_scale(0, [True, True, True])),
     Err(r"scale must be a list of numbers")),
    ("scale of wrong length", image(ds_scale(0, [0.5, 0.5])),
     Err(r"scale \[0.5, 0.5\] has 2 values, expected 3")),
    ("scale a number", image(ds_scale(0, 0.5)), Err(r"scale must be a list of numbers, got 0.5")),
    ("translation of 1e308", image(ds_transforms(0, [
        {"type": "scale", "scale": [1, 0.5, 0.5]},
        {"type": "translation", "translation": [0, 1e308, 0]}])),
     Err(r"level 0 \('0'\), axis 'y': .*beyond the finite range")),
    ("translation of 10**400", image(ds_transforms(0, [
        {"type": "scale", "scale": [1, 0.5, 0.5]},
        {"type": "translation", "translation": [0, 10**400, 0]}])),
     Err(r"translation .*non-finite")),
    ("scales that overflow", image(lambda ms: (ds_scale(0, [1, 1e300, 1e300])(ms), ds_scale(
        1, [1, 1e301, 1e301])(ms), ms.update(coordinateTransformations=[
            {"type": "scale", "scale": [1, 1e300, 1e300]}]))),
     Err(r"overflow|beyond the finite range")),
    ("scale of 1e-200", image(lambda ms: (ds_scale(0, [1, 1e-200, 1e-200])(ms),
                                         ds_scale(1, [1, 2e-200, 2e-200])(ms))),
     Err(r"beyond the finite range")),
    ("transforms a dict", image(ds_transforms(0, {"type": "scale", "scale": [1, 1, 1]})),
     Err(r"coordinateTransformations must be a list")),
    ("transform a string", image(ds_transforms(0, ["scale"])),
     Err(r"must be a dict, got 'scale'")),
    ("unknown transform", image(ds_transforms(0, [{"type": "shear"}])),
     Err(r"cannot interpret the 'shear' coordinate transformation")),
    ("scale without values", image(ds_transforms(0, [{"type": "scale"}])),
     Err(r"the 'scale' transformation has no 'scale' values")),
    ("sequence nested 40 deep", image(ds_transforms(0, [sequence(40)])),
     Err(r"nested more than 16 deep")),
    ("global transforms a string", image(lambda ms: ms.update(coordinateTransformations="x")),
     Err(r"coordinateTransformations must be a list")),
    ("no transforms in 0.5", image(lambda ms: [d.pop("coordinateTransformations")
                                               for d in ms["datasets"]]),
     Warn(r"'0', '1' have no coordinateTransformations",
          lambda i: first(i).scales[1].scale == (1.0, 2.0, 2.0))),
    ("level shapes that grow", image(shapes={"0": (2, 16, 16), "1": (2, 32, 32)}),
     Warn(r"level 1 \('1'\) has larger pixels but more of them.*'y' 16 -> 32",
          lambda i: first(i).scales[1].shape == (2, 32, 32))),
    ("an empty level", image(shapes={"0": (2, 16, 16), "1": (2, 0, 8)}),
     Err(r"level 1 \('1'\) has an empty shape \(2, 0, 8\)")),
    # omero
    ("omero a list", root(lambda o: o.update(omero=[1])),
     Warn(r"'omero' must be a dict", lambda i: first(i).channels is None)),
    ("omero.channels a dict", root(lambda o: o["omero"].update(channels={"0": {}})),
     Warn(r"'omero.channels' must be a list", lambda i: first(i).channels is None)),
    ("channel a number", root(lambda o: o["omero"]["channels"].__setitem__(0, 5)),
     Warn(r"omero.channels\[0\] must be a dict", lambda i: ch0(i) == ChannelInfo("0"))),
    ("window start -Infinity", channel(lambda c: c["window"].update(start=-math.inf)),
     Warn(r"omero.channels\[0\].window.start -inf is not a finite number",
          lambda i: ch0(i).window_start is None and ch0(i).window_end == 900)),
    ("window end 10**400", channel(lambda c: c["window"].update(end=10**400)),
     Warn(r"window.end 1000.*is not a finite number", lambda i: ch0(i).window_end is None)),
    ("window start NaN", channel(lambda c: c["window"].update(start=math.nan)),
     Warn(r"window.start nan", lambda i: ch0(i).window_start is None)),
    ("window a list", channel(lambda c: c.update(window=[0, 900])),
     Warn(r"window must be a dict", lambda i: ch0(i).window_end is None)),
    ("window start a string", channel(lambda c: c["window"].update(start="0")),
     Warn(r"window.start '0' is not a finite number", lambda i: ch0(i).window_start is None)),
    ("window start above end", channel(lambda c: c["window"].update(start=1000)),
     Warn(r"window start 1000 is not below end 900", lambda i: ch0(i).window_start == 1000)),
    ("colour a name", channel(lambda c: c.update(color="purple")),
     Warn(r"color 'purple' is not a colour", lambda i: ch0(i).color is None)),
    ("active a string", channel(lambda c: c.update(active="no")),
     Warn(r"active must be true or false", lambda i: ch0(i).active is True)),
    ("label a dict", channel(lambda c: c.update(label={"x": 1})),
     Warn(r"label must be a string", lambda i: ch0(i).label == "0")),
    ("more channels than the c axis", root(lambda o: o["omero"]["channels"].append({})),
     Warn(r"omero lists 3 channel\(s\) but axis 'c' has 2",
          lambda i: len(first(i).channels or ()) == 3)),
    # plates and wells
    ("plate a list", plate(plate_value=[{"path": "A/1"}]), Err(r"'plate' must be a dict")),
    ("plate.wells a dict", plate(wells={"path": "A/1"}), Err(r"'plate.wells' must be a list")),
    ("plate.wells a string", plate(wells="A/1"), Err(r"'plate.wells' must be a list")),
    ("plate.wells a number", plate(wells=3), Err(r"'plate.wells' must be a list")),
    ("well path empty", plate(wells=[{"path": ""}, {"path": "A/2"}]),
     Warn(r"plate.wells\[0\] .* is not a usable path; skipped",
          lambda i: [x.path for x in i] == ["A/2/0"])),
    ("well path '/'", plate(wells=[{"path": "/"}, {"path": "A/1"}]),
     Warn(r"plate.wells\[0\]", lambda i: [x.path for x in i] == ["A/1/0"])),
    ("well path '..'", plate(wells=[{"path": ".."}, {"path": "A/1"}]),
     Warn(r"plate.wells\[0\]", lambda i: [x.path for x in i] == ["A/1/0"])),
    ("well path a number", plate(wells=[{"path": 7}, {"path": "A/1"}]),
     Warn(r"plate.wells\[0\]", lambda i: [x.path for x in i] == ["A/1/0"])),
    ("well entry a string", plate(wells=["A/1", {"path": "A/2"}]),
     Warn(r"plate.wells\[0\] 'A/1'", lambda i: [x.path for x in i] == ["A/2/0"])),
    ("well listed twice", plate(wells=[{"path": "A/1"}, {"path": "A/1/"}]),
     Warn(r"plate.wells\[1\] .* is listed twice", lambda i: [x.path for x in i] == ["A/1/0"])),
    ("well path missing group", plate(wells=[{"path": "B/9"}]),
     Err(r"the plate.wells path 'B/9' does not exist")),
    ("well path is an array", plate(wells=[{"path": "A/3"}]),
     Err(r"the plate.wells path 'A/3' is an array")),
    ("well a string", plate(well_value="0"), Err(r"'well' must be a dict")),
    ("well.images a dict", plate(images={"path": "0"}), Err(r"'well.images' must be a list")),
    ("well image path empty", plate(images=[{"path": ""}, {"path": "0"}]),
     Warn(r"well.images\[0\]", lambda i: [x.path for x in i] == ["A/1/0", "A/2/0"])),
    ("wells nested 10 deep", nested_wells(10), Err(r"nested more than 8 groups deep")),
    # 0.6 coordinate systems
    ("coordinateSystems a dict", ms06(lambda ms: ms.update(coordinateSystems={"name": "p"})),
     Err(r"'coordinateSystems' must be a non-empty list")),
    ("coordinateSystems entry a string", ms06(lambda ms: ms["coordinateSystems"].append("p")),
     Err(r"coordinateSystems\[1\] must be a dict with a 'name' string")),
    ("coordinate system name a list",
     ms06(lambda ms: ms["coordinateSystems"][0].update(name=["physical"])),
     Err(r"coordinateSystems\[0\] must be a dict with a 'name' string")),
    ("coordinate system axes a number", ms06(lambda ms: ms["coordinateSystems"][0].update(axes=2)),
     Err(r"coordinateSystems\[0\] \('physical'\): 'axes' must be a list")),
    ("coordinate system named twice",
     ms06(lambda ms: ms["coordinateSystems"].append(copy.deepcopy(ms["coordinateSystems"][0]))),
     Err(r"coordinate system name 'physical' is used twice")),
    ("output to an unknown system",
     ms06(lambda ms: ms["datasets"][0]["coordinateTransformations"][0].update(output="world")),
     Err(r"maps to coordinate system 'world', which is not in coordinateSystems")),
    ("mapAxis that repeats an axis",
     ms06(lambda ms: ms["datasets"][0]["coordinateTransformations"].append(
         {"type": "mapAxis", "mapAxis": [0, 0], "output": "physical"})),
     Err(r"only a one-to-one mapping of axes")),
    ("rotation by 30 degrees",
     ms06(lambda ms: ms["datasets"][0]["coordinateTransformations"].append(
         {"type": "rotation", "rotation": [[0.87, -0.5], [0.5, 0.87]], "output": "physical"})),
     Err(r"not an axis-aligned scaling")),
    ("duplicate names in a system",
     ms06(lambda ms: ms["coordinateSystems"][0]["axes"][0].update(name="x")),
     Err(r"axis names must be unique")),
    # bioformats2raw
    ("bf2raw series a string", bf2raw("0"),
     Warn(r"'series' must be a list", lambda i: [x.path for x in i] == ["0", "1"])),
    ("bf2raw series with an empty path", bf2raw(["0", ""]),
     Warn(r"'series' entries must be non-empty strings", lambda i: [x.path for x in i] == ["0"])),
]  # fmt: skip


def test_the_table_is_large_enough() -> None:
    assert len(ROWS) >= 60
    assert len({r[0] for r in ROWS}) == len(ROWS)  # every row has its own description


def assert_finite_geometry(infos: Infos) -> None:
    for info in infos:
        for s in info.scales:
            for n, k, o in zip(s.shape, s.scale, s.offset, strict=True):
                assert math.isfinite(k) and k > 0 and math.isfinite(o)
                assert math.isfinite(o + n * k) and abs(o + n * k) <= 1e100
        json.dumps([list(s.scale) + list(s.offset) for s in info.scales], allow_nan=False)


@pytest.mark.parametrize(("build", "outcome"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_malformed_document(build: Callable[[], Any], outcome: Err | Warn) -> None:
    group = build()
    if isinstance(outcome, Err):
        with pytest.raises(ValueError, match=outcome.match) as info, warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*version '0.6' .* is not known")
            MultiscaleInfo.from_zarr_node(group)
        message = str(info.value)
        assert message.startswith(FN) and "memory://" in message
        assert "malformed metadata (" not in message  # named, not caught by the last resort
        return
    with pytest.warns(UserWarning, match=outcome.match) as caught:
        infos = MultiscaleInfo.from_zarr_node(group)
    assert all(str(w.message).startswith(FN) for w in caught)
    assert outcome.check(infos)
    assert_finite_geometry(infos)


# -- fuzz: the valid documents broken at random ------------------------------------------------

JUNK: list[Any] = [None, "", "/", "..", 0, -1, 2.5, True, [], {}, [1, 2], {"a": 1},
                   10**400, -(10**400), math.nan, math.inf, -math.inf, 1e308,
                   "x" * 300]  # fmt: skip


def _places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document."""
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _places(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _places(v, (*path, i))
    return out


def _replace(doc: Any, path: tuple[Any, ...], new: Any) -> Any:
    """``doc`` with the value at ``path`` replaced (unchanged if an earlier break removed it)."""
    if not path:
        return new
    out = copy.deepcopy(doc)
    parent = out
    try:
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = new
    except (KeyError, IndexError, TypeError):
        return doc
    return out


def _fuzz_bases() -> list[tuple[Any, Callable[[Any], zarr.Group]]]:
    """(valid attributes, builder of a group with those arrays and the given attributes)."""

    def img(attrs: Any) -> zarr.Group:
        return image_group(attrs if isinstance(attrs, dict) else {"ome": attrs})

    bases: list[tuple[Any, Callable[[Any], zarr.Group]]] = [(image_attrs(), img)]
    spec = EXAMPLES / "0.5" / "multiscales_strict" / "multiscales_example.json"
    if spec.is_file():
        spec_attrs, _ = example_attrs(load_json_with_comments(spec))

        def corpus(attrs: Any) -> zarr.Group:
            group = zarr.open_group(zarr.storage.MemoryStore(), mode="w", zarr_format=3)
            write_image_group(group, spec_attrs)  # the arrays of the valid document
            group.attrs.put(attrs if isinstance(attrs, dict) else {"ome": attrs})
            return group

        bases.append((spec_attrs, corpus))
    return bases


@pytest.mark.parametrize("seed", range(4))
def test_fuzzed_documents_fail_only_clearly(seed: int) -> None:
    rng = random.Random(seed)
    tried = 0
    for doc, build in _fuzz_bases():
        places = _places(doc)
        for _ in range(100):
            broken = doc
            for _ in range(rng.choice([1, 1, 2, 3])):
                broken = _replace(broken, rng.choice(places), rng.choice(JUNK))
            try:
                group = build(broken)
            except (TypeError, ValueError):  # zarr refuses to store it (not JSON): not our case
                continue
            tried += 1
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    infos = MultiscaleInfo.from_zarr_node(group)
                except ValueError as exc:
                    assert str(exc).startswith(FN), exc
                    assert "malformed metadata (" not in str(exc), (broken, exc)
                    continue
            assert_finite_geometry(infos)
    assert tried >= 150
