"""Real Chromium and a real JupyterLab server on 127.0.0.1, for the browser tests.

Follows ``shared/testing/browser.md``: Debian's Chromium with flags that keep
it off the network, and ``jupyter-lab`` from this venv on a free loopback port
with every config/data/runtime folder in a temp dir, so a test never touches
the user's Jupyter set-up or the repository (the notebook is copied first).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
_LAB_ONLY = [
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
]


def require_chromium() -> str:
    """The Chromium executable; fails the test (never skips silently in CI) when missing."""
    if not os.path.exists(CHROMIUM):
        msg = f"{CHROMIUM} is missing: ./dev setup installs Debian's chromium"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return CHROMIUM


def screenshot_dir() -> Path:
    """Where the browser tests keep their screenshots (printed so a person can look)."""
    path = Path(os.environ.get("SIMPLEZARR_SCREENSHOTS", "/tmp/simplezarr-screenshots"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _server(
    name: str,
    cmd: list[str],
    env: dict[str, str],
    log_path: Path,
    ready_url: str,
    cwd: Path | None,
) -> Iterator[None]:
    """Run ``cmd`` (a server on 127.0.0.1) until ``ready_url`` answers 200; stop its group after.

    Waits on the server's own status endpoint (the fact), at most 120 s, and
    fails with the end of the server's log if it exits first.
    """
    log = open(log_path, "wb")  # closed in the finally below
    proc = subprocess.Popen(
        cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=cwd
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {proc.returncode}: "
                    + log_path.read_text(errors="replace")[-3000:]
                )
            try:
                with urllib.request.urlopen(ready_url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=0.25)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@dataclass
class JupyterLab:
    """A running JupyterLab (``app="lab"``) or Notebook 7 (``app="notebook"``) server."""

    url: str
    token: str
    root: Path
    app: str = "lab"

    def notebook_url(self, name: str) -> str:
        path = "lab/tree" if self.app == "lab" else "notebooks"
        return f"{self.url}/{path}/{name}?token={self.token}"


@contextlib.contextmanager
def jupyterlab(tmp: Path, app: str = "lab") -> Iterator[JupyterLab]:
    """Start ``jupyter-lab`` (or Notebook 7's ``jupyter-notebook`` with ``app="notebook"``) on
    127.0.0.1 with everything under ``tmp``; stop it after."""
    cls = {"lab": "LabApp", "notebook": "JupyterNotebookApp"}[app]
    root, settings = tmp / "root", tmp / "settings"
    root.mkdir()
    settings.mkdir()
    if app == "lab":  # Notebook 7 has no news toast, and a settings file it has no schema for
        notif = settings / "@jupyterlab" / "apputils-extension"  # is a page error there
        notif.mkdir(parents=True)
        (notif / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    for name in ("CONFIG", "DATA", "RUNTIME"):
        env[f"JUPYTER_{name}_DIR"] = str(tmp / name.lower())
    # The kernel must import this checkout's simplezarr and find its demo cache.
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    cmd = [
        str(Path(sys.executable).parent / f"jupyter-{app}"),
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--{cls}.expose_app_in_browser=True",
        *(_LAB_ONLY if app == "lab" else []),
        f"--{cls}.user_settings_dir={settings}",
        f"--{cls}.workspaces_dir={tmp / 'workspaces'}",
    ]
    url = f"http://127.0.0.1:{port}"
    with _server(
        f"jupyter-{app}", cmd, env, tmp / "jupyterlab.log", f"{url}/api/status?token={token}", None
    ):
        yield JupyterLab(url=url, token=token, root=root, app=app)


def copy_notebook(name: str, lab: JupyterLab) -> None:
    """Copy ``notebooks/NAME`` into the server's root (autosave never writes into the repo)."""
    shutil.copy(REPO / "notebooks" / name, lab.root / name)


@dataclass
class Marimo:
    """A running ``marimo edit`` server for one notebook file."""

    url: str
    path: Path


@contextlib.contextmanager
def marimo_edit(tmp: Path, notebook: str) -> Iterator[Marimo]:
    """Write ``notebook`` (marimo's Python source) to ``tmp`` and serve it with ``marimo edit``.

    Headless, on 127.0.0.1, no token, no update check, marimo's config in ``tmp``; stopped after.
    """
    path = tmp / "notebook.py"
    path.write_text(notebook)
    port = _free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    env["XDG_CONFIG_HOME"] = str(tmp / "config")
    env["XDG_STATE_HOME"] = str(tmp / "state")
    env["XDG_CACHE_HOME"] = str(tmp / "cache")
    cmd = [
        str(Path(sys.executable).parent / "marimo"),
        "edit",
        str(path),
        "--headless",
        "--host=127.0.0.1",
        f"--port={port}",
        "--no-token",
        "--skip-update-check",
    ]
    url = f"http://127.0.0.1:{port}"
    with _server("marimo", cmd, env, tmp / "marimo.log", f"{url}/health", tmp):
        yield Marimo(url=url, path=path)
