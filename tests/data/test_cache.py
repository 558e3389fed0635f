"""Tests for simplezarr/data/_cache.py: cache folder, reuse, and writes that never half-land."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zarr

from simplezarr.data._cache import data_dir, ensure_image, recorded_params, stamp

PARAMS = {"kind": "test", "seed": 1}


def _writer(calls: list[Path], params: dict[str, object] = PARAMS):  # type: ignore[no-untyped-def]
    def write(tmp: Path) -> None:
        calls.append(tmp)
        group = zarr.open_group(str(tmp), mode="w")
        group.create_array("0", data=np.arange(10, dtype=np.uint8))
        stamp(tmp, params)

    return write


def test_data_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMPLEZARR_DATA_DIR", str(tmp_path / "cache" / "here"))
    folder = data_dir()
    assert folder == tmp_path / "cache" / "here" and folder.is_dir()
    monkeypatch.delenv("SIMPLEZARR_DATA_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_dir() == tmp_path / "home" / ".cache" / "simplezarr"


def test_written_once_then_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMPLEZARR_DATA_DIR", str(tmp_path))
    calls: list[Path] = []
    first = ensure_image("f()", "img.zarr", PARAMS, None, _writer(calls))
    second = ensure_image("f()", "img.zarr", PARAMS, None, _writer(calls))
    assert first == second == tmp_path / "img.zarr"
    assert len(calls) == 1 and not calls[0].exists()  # written under a temporary name
    assert recorded_params(first) == PARAMS
    ensure_image("f()", "img.zarr", PARAMS, None, _writer(calls), overwrite=True)
    assert len(calls) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["img.zarr"]


def test_an_interrupted_write_leaves_nothing(tmp_path: Path) -> None:
    def write(tmp: Path) -> None:
        zarr.open_group(str(tmp), mode="w").create_array("0", shape=(4,), dtype="u1")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ensure_image("f()", "img.zarr", PARAMS, tmp_path / "img.zarr", write)
    assert list(tmp_path.iterdir()) == []
    # and the next call writes it whole
    calls: list[Path] = []
    path = ensure_image("f()", "img.zarr", PARAMS, tmp_path / "img.zarr", _writer(calls))
    assert recorded_params(path) == PARAMS


def test_partials_of_dead_processes_are_removed(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = int(done.stdout)
    stale = tmp_path / f".img.zarr.partial-{dead}-abcd1234"
    (stale / "0").mkdir(parents=True)
    ensure_image("f()", "img.zarr", PARAMS, tmp_path / "img.zarr", _writer([]))
    assert not stale.exists()


def test_something_else_at_the_path_is_not_touched(tmp_path: Path) -> None:
    other = tmp_path / "img.zarr"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"f\(\): .*img.zarr.* overwrite=True"):
        ensure_image("f()", "img.zarr", PARAMS, other, _writer([]))
    assert (other / "notes.txt").read_text() == "mine"
    ensure_image(
        "f()",
        "img.zarr",
        {"kind": "test", "seed": 2},
        other,
        _writer([], {"kind": "test", "seed": 2}),
        overwrite=True,
    )
    assert recorded_params(other) == {"kind": "test", "seed": 2}


def test_a_writer_that_forgets_to_stamp_is_an_error(tmp_path: Path) -> None:
    def write(tmp: Path) -> None:
        zarr.open_group(str(tmp), mode="w")

    with pytest.raises(RuntimeError, match="did not record its parameters"):
        ensure_image("f()", "img.zarr", PARAMS, tmp_path / "img.zarr", write)
    assert list(tmp_path.iterdir()) == []
