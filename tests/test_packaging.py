"""The packages: an sdist carries the built bundle, and a wheel built from it needs no npm.

The bundle (``simplezarr/static/widget.js``) is git-ignored and built by
``pip install`` through hatch-jupyter-builder. A user installing from an sdist
may have no Node.js at all, so the sdist must ship the bundle and the wheel
build must then skip npm (``skip-if-exists``). Both builds run here with a
``PATH`` that has no ``npm`` on it, from a copy of the checkout's tracked files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BUNDLE = "simplezarr/static/widget.js"

pytestmark = pytest.mark.slow
pytest.importorskip("hatchling")
pytest.importorskip("hatch_jupyter_builder")


def _build(src: Path, target: str, out: Path) -> Path:
    env = {k: v for k, v in os.environ.items() if k != "PATH"}
    env["PATH"] = str(Path(sys.executable).parent)  # the venv's python only: no npm, no node
    assert shutil.which("npm", path=env["PATH"]) is None
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", target, "-d", str(out)],
        cwd=src,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.iterdir()
    return built


def test_wheel_from_sdist_has_the_bundle_without_npm(tmp_path: Path) -> None:
    if not (REPO / BUNDLE).is_file():
        pytest.fail(f"{BUNDLE} is missing: ./dev setup builds it")
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.split()
    src = tmp_path / "src"
    for name in [*tracked, BUNDLE]:
        if (REPO / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, src / name)

    sdist = _build(src, "sdist", tmp_path / "sdist")
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
        assert any(n.endswith(BUNDLE) for n in names), names
        tar.extractall(tmp_path / "unpacked", filter="data")
    (unpacked,) = (tmp_path / "unpacked").iterdir()

    wheel = _build(unpacked, "wheel", tmp_path / "wheel")
    with zipfile.ZipFile(wheel) as z:
        bundle = z.read(BUNDLE)
    assert bundle == (REPO / BUNDLE).read_bytes()
