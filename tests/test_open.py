"""Tests of simplezarr._open.open() against real stores: disk, zip, memory and HTTP."""

from __future__ import annotations

import http.server
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr
import zarr.storage

from simplezarr._open import open as sz_open
from simplezarr._open import plane_chunks
from simplezarr.utils.multiscale import MultiscaleInfo
from tests._tiff import write_ome_tiff_pyramid

FN = "simplezarr.open()"


def write_image(path: Any, zarr_format: int = 3, consolidated: bool = False) -> np.ndarray:
    """A two-level OME-Zarr image (0.4 for v2, 0.5 for v3); returns the level-0 data."""
    data = np.arange(40 * 60, dtype="uint16").reshape(40, 60)
    ms = {
        "name": "img",
        "axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
        "datasets": [
            {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1]}]},
            {"path": "1", "coordinateTransformations": [{"type": "scale", "scale": [2, 2]}]},
        ],
    }
    attrs = (
        {"multiscales": [{"version": "0.4", **ms}]}
        if zarr_format == 2
        else {"ome": {"version": "0.5", "multiscales": [ms]}}
    )
    group = zarr.open_group(path, mode="w", zarr_format=zarr_format, attributes=attrs)  # type: ignore[arg-type]
    group.create_array("0", data=data, chunks=(16, 16))
    group.create_array("1", data=data[::2, ::2], chunks=(16, 16))
    if consolidated:
        zarr.consolidate_metadata(path)
    return data


# -- HTTP server on 127.0.0.1 that records the paths it is asked for -----------------------


class _Server:
    def __init__(self, root: Path) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(root), **kwargs)

            def do_GET(self) -> None:
                server.requests.append(self.path)
                super().do_GET()

            def do_HEAD(self) -> None:
                server.requests.append(self.path)
                super().do_HEAD()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[_Server]:
    server = _Server(tmp_path)
    yield server
    server.close()


# -- nodes and numpy --------------------------------------------------------------------------


def test_nodes_are_returned_as_is(tmp_path: Path) -> None:
    write_image(tmp_path / "a.zarr")
    group = zarr.open_group(tmp_path / "a.zarr", mode="r")
    assert sz_open(group) is group
    array = group["0"]
    assert sz_open(array) is array


@pytest.mark.parametrize(
    "shape",
    [(7,), (30, 1100), (3, 1000, 1100), (600, 700, 3), (5, 20, 30), (2, 3, 4, 600, 40)],
)
def test_numpy_is_wrapped_in_memory(shape: tuple[int, ...]) -> None:
    data = np.random.default_rng(1).random(shape).astype("float32")
    array = sz_open(data)
    assert isinstance(array, zarr.Array) and array.read_only
    assert array.shape == data.shape and array.dtype == data.dtype
    np.testing.assert_array_equal(array[...], data)
    assert array.chunks == plane_chunks(shape)
    info = MultiscaleInfo.from_zarr_node(array)[0]
    sp = info.scales[0].spatial_axes[-2:]
    # 512 (or the whole axis) along the last two spatial axes, whole after them, 1 before
    for i, (n, c) in enumerate(zip(shape, array.chunks, strict=True)):
        if i in sp:
            assert c == min(512, n)
        elif i > max(sp, default=-1):
            assert c == n
        else:
            assert c == 1
    with pytest.raises(ValueError, match="read-only"):
        array[(0,) * len(shape)] = 1


@pytest.mark.parametrize(
    ("shape", "axes"),
    [
        ((2100, 3000), ("y", "x")),
        ((2, 2500, 600), ("c", "y", "x")),
        ((2200, 900, 3), ("y", "x", "c")),
    ],
)
def test_a_large_numpy_array_becomes_an_in_memory_pyramid(
    shape: tuple[int, ...], axes: tuple[str, ...]
) -> None:
    data = np.random.default_rng(2).integers(0, 60000, shape, dtype="uint16")
    group = sz_open(data)
    assert isinstance(group, zarr.Group) and group.read_only
    (info,) = MultiscaleInfo.from_zarr_node(group)
    assert info.axes_names == axes
    assert len(info.scales) >= 3
    first = info.scales[0]
    np.testing.assert_array_equal(first.array[...], data)
    y, x = axes.index("y"), axes.index("x")
    for s in info.scales[1:]:
        # y and x halve per level (rounding up); other axes are kept.
        prev = info.scales[s.level - 1]
        for i, n in enumerate(s.shape):
            assert n == (-(-prev.shape[i] // 2) if i in (y, x) else prev.shape[i])
        assert s.spatial_scale == tuple(2.0**s.level for _ in s.spatial_scale)
    top = info.scales[-1]
    assert max(top.shape[y], top.shape[x]) <= 512
    # Level 1 is the 2x2 mean of level 0 (an even block far from the edges).
    block = np.moveaxis(data, (y, x), (0, 1))[:4, :4].astype(float)
    level1 = np.moveaxis(np.asarray(info.scales[1].array[...]), (y, x), (0, 1))[:2, :2]
    expected = block.reshape(2, 2, 2, 2, *block.shape[2:]).mean(axis=(1, 3))
    np.testing.assert_allclose(level1, expected, atol=1)
    assert sz_open(data[:2048, :2048]).__class__ is zarr.Array  # at the limit: one level


def test_numpy_bad_inputs() -> None:
    with pytest.raises(ValueError, match=r"at least one dimension"):
        sz_open(np.asarray(3.0))
    with pytest.raises(ValueError, match=r"dtype <U1 is not supported"):
        sz_open(np.array(["a", "b"]))


# -- local paths, zip and stores ---------------------------------------------------------------


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("form", ["str", "path", "file-url", "metadata-file"])
def test_local_directory(tmp_path: Path, zarr_format: int, form: str) -> None:
    path = tmp_path / "img.zarr"
    data = write_image(path, zarr_format)
    source: Any = {
        "str": str(path),
        "path": path,
        "file-url": f"file://{path}",
        "metadata-file": path / ("zarr.json" if zarr_format == 3 else ".zgroup"),
    }[form]
    group = sz_open(source)
    assert isinstance(group, zarr.Group) and group.read_only
    assert group.metadata.zarr_format == zarr_format
    np.testing.assert_array_equal(group["0"][...], data)
    with pytest.raises(ValueError, match="read-only"):
        group.attrs["x"] = 1


def test_local_array_path(tmp_path: Path) -> None:
    data = write_image(tmp_path / "img.zarr")
    array = sz_open(tmp_path / "img.zarr" / "1")
    assert isinstance(array, zarr.Array)
    np.testing.assert_array_equal(array[...], data[::2, ::2])


def test_zip(tmp_path: Path) -> None:
    store = zarr.storage.ZipStore(tmp_path / "img.zip", mode="w")
    data = write_image(store)
    store.close()
    group = sz_open(tmp_path / "img.zip")
    assert isinstance(group, zarr.Group)
    np.testing.assert_array_equal(group["0"][...], data)


def test_store_objects_are_opened_read_only(tmp_path: Path) -> None:
    write_image(tmp_path / "img.zarr")
    writable = zarr.storage.LocalStore(tmp_path / "img.zarr")
    group = sz_open(writable)
    assert isinstance(group, zarr.Group) and group.read_only
    memory = zarr.storage.MemoryStore()
    data = write_image(memory)
    group = sz_open(memory)
    np.testing.assert_array_equal(group["0"][...], data)
    assert group.read_only


def test_missing_path(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.zarr")
    with pytest.raises(FileNotFoundError, match=r"no such file or directory") as info:
        sz_open(missing)
    assert str(info.value).startswith(f"{FN}: {missing!r} is not a zarr store")


def test_directory_that_is_not_zarr(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match=r"no zarr metadata") as info:
        sz_open(tmp_path / "plain")
    assert str(tmp_path / "plain") in str(info.value) and str(info.value).startswith(FN)


def test_file_that_is_not_a_zip(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(ValueError, match=r"'.*x.txt' is not a zarr store: a file that is not"):
        sz_open(tmp_path / "x.txt")


def test_unsupported_type() -> None:
    with pytest.raises(TypeError, match=r"cannot open a int"):
        sz_open(42)


# -- HTTP -----------------------------------------------------------------------------------


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_http(tmp_path: Path, http_server: _Server, zarr_format: int) -> None:
    data = write_image(tmp_path / "img.zarr", zarr_format)
    group = sz_open(f"{http_server.url}/img.zarr/")
    assert isinstance(group, zarr.Group) and group.read_only
    (info,) = MultiscaleInfo.from_zarr_node(group)
    assert [s.shape for s in info.scales] == [data.shape, data[::2, ::2].shape]
    np.testing.assert_array_equal(info.scales[0].array[...], data)
    if zarr_format == 2:  # no consolidated metadata: each array's .zarray is fetched
        assert "/img.zarr/0/.zarray" in http_server.requests


def test_http_v2_uses_consolidated_metadata(tmp_path: Path, http_server: _Server) -> None:
    write_image(tmp_path / "img.zarr", 2, consolidated=True)
    group = sz_open(f"{http_server.url}/img.zarr")
    MultiscaleInfo.from_zarr_node(group)
    assert "/img.zarr/.zmetadata" in http_server.requests
    per_array = [r for r in http_server.requests if r.endswith((".zarray", "/.zattrs"))]
    assert not [r for r in per_array if r.startswith(("/img.zarr/0/", "/img.zarr/1/"))]


def test_http_missing_store(http_server: _Server) -> None:
    url = f"{http_server.url}/nothing.zarr"
    with pytest.raises(FileNotFoundError, match=r"no zarr metadata") as info:
        sz_open(url)
    assert str(info.value).startswith(f"{FN}: {url!r} is not a zarr store")


def test_unreachable_url() -> None:
    with socket.socket() as sock:  # a port that nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/img.zarr"
    with pytest.raises(ConnectionError, match=r"is not reachable") as info:
        sz_open(url)
    assert url in str(info.value) and str(info.value).startswith(FN)


# -- TIFF files (tifffile's zarr store) ---------------------------------------------------------


def test_ome_tiff_pyramid_opens_with_physical_scales(tmp_path: Path) -> None:
    channels = [
        {"Name": "DAPI", "Color": -16776961},
        {"Name": "GFP", "Color": 16711935},
        {"Name": "RFP", "Color": 65535},
    ]  # fmt: skip  (OME colours: signed RGBA)
    data = write_ome_tiff_pyramid(tmp_path / "x.ome.tif", physical=(0.4, 0.25), channels=channels)
    group = sz_open(tmp_path / "x.ome.tif")
    assert isinstance(group, zarr.Group) and group.store.read_only
    (info,) = MultiscaleInfo.from_zarr_node(group)
    assert info.axes_names == ("c", "y", "x") and info.unit == "micrometer"
    assert [s.shape for s in info.scales] == [(3, 1001, 777), (3, 500, 388), (3, 250, 194)]
    for level, f in enumerate([1, 2, 4]):
        si = info.scales[level]
        assert si.scale == pytest.approx((1.0, 0.4 * f, 0.25 * f))
        assert si.offset == pytest.approx((0.0, 0.4 * (f - 1) / 2, 0.25 * (f - 1) / 2))
        assert si.chunk_shape == (1, 128, 128)
    assert info.channels is not None
    assert [(c.label, c.color) for c in info.channels] == [
        ("DAPI", "ff0000"), ("GFP", "00ff00"), ("RFP", "0000ff")]  # fmt: skip
    np.testing.assert_array_equal(info.scales[0].array[:, 500:700, 100:300],
                                  data[:, 500:700, 100:300])  # fmt: skip
    np.testing.assert_array_equal(info.scales[2].array[...], data[:, ::4, ::4][:, :250, :194])


def test_plain_tiff_opens_as_an_array(tmp_path: Path) -> None:
    tifffile = pytest.importorskip("tifffile")
    data = np.arange(60 * 80, dtype="uint8").reshape(60, 80)
    tifffile.imwrite(tmp_path / "plain.tiff", data)
    (tmp_path / "renamed.dat").write_bytes((tmp_path / "plain.tiff").read_bytes())
    for name in ("plain.tiff", "renamed.dat"):  # a TIFF by its first bytes, not its name
        node = sz_open(tmp_path / name)
        (info,) = MultiscaleInfo.from_zarr_node(node)
        assert info.axes_names == ("y", "x") and info.nlevels == 1
        np.testing.assert_array_equal(info.scales[0].array[...], data)


def test_tiff_without_tifffile_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_ome_tiff_pyramid(tmp_path / "x.ome.tif", shape=(1, 64, 64))
    monkeypatch.setitem(sys.modules, "tifffile", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "tifffile.zarr", None)
    with pytest.raises(ImportError, match=r"'.*x.ome.tif' is a TIFF file.*simplezarr\[tiff\]"):
        sz_open(tmp_path / "x.ome.tif")


def test_broken_tiff_is_named(tmp_path: Path) -> None:
    pytest.importorskip("tifffile")
    (tmp_path / "broken.tif").write_bytes(b"II*\x00" + b"\xff" * 20)
    broken = r"'.*broken.tif' is (not a readable TIFF file|a TIFF file without an image series)"
    with pytest.raises(ValueError, match=broken):
        sz_open(tmp_path / "broken.tif")


def test_a_big_numpy_label_array_gets_a_pyramid_of_ids_never_a_blend() -> None:
    from simplezarr._open import numpy_node

    # Stripes 3 px wide of ids 10 and 20: every 2 x 2 block across a border has both.
    labels = np.broadcast_to((np.arange(2100) // 3 % 2 * 10 + 10).astype(np.uint32), (2100, 2100))
    (info,) = MultiscaleInfo.from_zarr_node(numpy_node(np.ascontiguousarray(labels), labels=True))
    assert info.nlevels > 1
    for scale in info.scales[1:]:
        assert set(np.unique(scale.array[...]).tolist()) <= {10, 20}
    # As an image (the default), the mean blends them: the reason labels differ.
    (image,) = MultiscaleInfo.from_zarr_node(numpy_node(np.ascontiguousarray(labels)))
    assert 15 in set(np.unique(image.scales[1].array[...]).tolist())
