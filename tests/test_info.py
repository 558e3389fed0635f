"""Tests of simplezarr._info: the text report and the ``info`` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zarr

from simplezarr._info import format_info, main_info
from simplezarr.utils.multiscale import MultiscaleInfo

ROOT = Path(__file__).resolve().parents[1]
OMERO = {
    "channels": [
        {
            "label": "DAPI",
            "color": "0000FF",
            "window": {"start": 5, "end": 900, "min": 0, "max": 4095},
        },
        {"label": "GFP", "color": "00FF00", "active": False, "window": {"start": 0, "end": 1}},
    ]
}


def write_store(path: Path) -> None:
    """A sharded OME-Zarr 0.5 image with channels: 2 levels of (c, y, x)."""
    ms = {
        "name": "cells",
        "axes": [
            {"name": "c", "type": "channel"},
            {"name": "y", "type": "space", "unit": "micrometer"},
            {"name": "x", "type": "space", "unit": "micrometer"},
        ],
        "datasets": [
            {
                "path": "s0",
                "coordinateTransformations": [{"type": "scale", "scale": [1, 0.5, 0.5]}],
            },
            {
                "path": "s1",
                "coordinateTransformations": [{"type": "scale", "scale": [1, 1, 1]}],
            },
        ],
    }
    attrs = {"ome": {"version": "0.5", "multiscales": [ms], "omero": OMERO}}
    group = zarr.open_group(path, mode="w", zarr_format=3, attributes=attrs)
    group.create_array(
        "s0", shape=(2, 100, 120), chunks=(1, 10, 20), shards=(1, 50, 60), dtype="u2"
    )
    group.create_array("s1", shape=(2, 50, 60), chunks=(1, 10, 20), shards=(1, 50, 60), dtype="u2")


def _shape(values: tuple[int, ...] | None) -> str:
    assert values is not None
    return " x ".join(str(v) for v in values)


def test_report_lists_levels_axes_and_channels(tmp_path: Path) -> None:
    write_store(tmp_path / "img.zarr")
    text = format_info(str(tmp_path / "img.zarr"))
    (info,) = MultiscaleInfo.from_zarr_node(zarr.open_group(tmp_path / "img.zarr", mode="r"))
    lines = text.splitlines()
    assert lines[0].startswith(str(tmp_path / "img.zarr")) and "zarr v3 group" in lines[0]
    assert f"image {info.name!r} (OME-NGFF 0.5, 2 level(s))" in text
    assert "c [channel], y [space, micrometer], x [space, micrometer]" in text
    assert "unit: micrometer (1 micrometer = 1e-06 m)" in text
    header = next(line for line in lines if line.strip().startswith("level"))
    columns = ["level", "path", "shape", "chunks", "shards", "dtype", "scale", "offset"]
    assert header.split() == columns
    starts = [header.index(c) for c in columns]
    for si in info.scales:
        row = next(line for line in lines if line.split()[:2] == [str(si.level), si.path])
        cells = [
            str(si.level),
            si.path,
            _shape(si.shape),
            _shape(si.chunk_shape),
            _shape(si.shard_shape),
            str(si.dtype),
            "(" + ", ".join(f"{v:g}" for v in si.scale) + ")",
            "(" + ", ".join(f"{v:g}" for v in si.offset) + ")",
        ]
        # every cell starts under its header: an aligned table
        assert [row[s:].split("  ")[0] for s in starts] == cells
    assert info.channels is not None
    for ch in info.channels:
        row = next(line for line in lines if f" {ch.label} " in line)
        assert f"#{ch.color}" in row
        assert f"{ch.window_start:g} .. {ch.window_end:g}" in row
        assert ("yes" if ch.active else "no") in row.split()[-1]
    assert "- .. -" in text  # GFP has no min/max


def test_report_without_shards_or_channels() -> None:
    text = format_info(np.zeros((3, 40, 50), dtype="float32"))
    assert "shards" not in text and "channels" not in text
    assert "(no OME metadata, 1 level(s))" in text
    assert "c [channel], y [space], x [space]" in text
    assert "3 x 40 x 50" in text and "float32" in text


def test_main_info_returns_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_store(tmp_path / "img.zarr")
    assert main_info([str(tmp_path / "img.zarr")]) == 0
    out = capsys.readouterr()
    assert out.out == format_info(str(tmp_path / "img.zarr")) and out.err == ""
    missing = str(tmp_path / "missing.zarr")
    assert main_info([missing]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("simplezarr info: error: ")
    assert repr(missing) in err
    assert main_info([]) == 2  # argparse usage error


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )


CALL = "import sys; from simplezarr._info import main_info; sys.exit(main_info(sys.argv[1:]))"


def test_subprocess_python_c(tmp_path: Path) -> None:
    write_store(tmp_path / "img.zarr")
    ok = _run(["-c", CALL, str(tmp_path / "img.zarr")])
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == format_info(str(tmp_path / "img.zarr"))
    (tmp_path / "empty").mkdir()
    bad = _run(["-c", CALL, str(tmp_path / "empty")])
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "is not a zarr store" in bad.stderr


@pytest.mark.skipif(
    not (ROOT / "simplezarr" / "__main__.py").exists(), reason="simplezarr/__main__.py not wired"
)
def test_python_m_simplezarr_info(tmp_path: Path) -> None:
    write_store(tmp_path / "img.zarr")
    ok = _run(["-m", "simplezarr", "info", str(tmp_path / "img.zarr")])
    assert ok.returncode == 0, ok.stderr
    assert "image 'cells'" in ok.stdout
    bad = _run(["-m", "simplezarr", "info", str(tmp_path / "nope.zarr")])
    assert bad.returncode == 2 and "nope.zarr" in bad.stderr


def test_info_of_an_ome_tiff(tmp_path: Path) -> None:
    from tests._tiff import write_ome_tiff_pyramid

    write_ome_tiff_pyramid(tmp_path / "x.ome.tif", shape=(2, 300, 200), physical=(0.5, 0.5))
    ok = _run(["-m", "simplezarr", "info", str(tmp_path / "x.ome.tif")])
    assert ok.returncode == 0, ok.stderr
    assert "zarr v2 group, 1 image(s)" in ok.stdout and "path: ." in ok.stdout
    assert "(OME-NGFF 0.4, 3 level(s))" in ok.stdout
    assert "unit: micrometer" in ok.stdout
    lines = ok.stdout.splitlines()
    level2 = next(line for line in lines if line.split()[:2] == ["2", "2"])
    assert "2 x 75 x 50" in level2 and "(1, 2, 2)" in level2  # 0.5 um x 4


def test_info_lists_image_paths_and_labels(tmp_path: Path) -> None:
    from simplezarr.utils._pyramid import write_labels, write_multiscale

    group = write_multiscale(np.zeros((2, 16, 16), "uint16"), str(tmp_path / "i.zarr"), axes="cyx")
    write_labels(np.zeros((16, 16), "uint32"), group, "cells")
    text = format_info(str(tmp_path / "i.zarr" / "labels" / "cells"))
    assert "label image 'cells'" in text and "path: ." in text
    root = zarr.open_group(tmp_path / "bf.zarr", mode="w", zarr_format=3)
    root.attrs["ome"] = {"version": "0.5", "bioformats2raw.layout": 3}
    for i in range(2):
        write_multiscale(np.zeros((8, 8), "uint8"), str(tmp_path / "bf.zarr" / str(i)), axes="yx")
    text = format_info(str(tmp_path / "bf.zarr"))
    assert [line.strip() for line in text.splitlines() if "path:" in line] == [
        "path: 0",
        "path: 1",
    ]
