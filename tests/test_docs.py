"""The documentation site builds, strictly, with every public name and page in it.

The site (``mkdocs.yml``) is built with ``mkdocs build --strict`` (a warning
fails it: griffe's docstring checks, broken links and cross-references) into
a temp dir, from the notebooks executed once for this session
(``tests/_notebooks.py``, shared with ``tests/test_notebooks.py``). Then:

- every name in the ``__all__`` of each public module has an entry (an
  anchor ``id="module.name"``) on that module's API page — mkdocstrings
  leaves out a name without a docstring, so a new public name without one
  fails here;
- every user-guide page and every notebook page is in the site, the
  notebooks with their outputs and no widget placeholders;
- no page or stylesheet loads a script, style or font from another site;
- the API pages show no Sphinx role (``:class:``) of the docstrings.
"""

from __future__ import annotations

import html
import importlib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

from tests._notebooks import NOTEBOOKS, ExecutedNotebooks

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
API_PAGES = {
    "simplezarr": "api/simplezarr",
    "simplezarr.viewer": "api/viewer",
    "simplezarr.utils": "api/utils",
    "simplezarr.data": "api/data",
}
BUILD_TIMEOUT = 240.0  # seconds; the build takes ~15 s on the project's machines

_IDS = re.compile(r'\sid="([^"]+)"')
_SCRIPT_SRC = re.compile(r"<script\b[^>]*\bsrc=[\"']?([^\"'\s>]*)", re.IGNORECASE)
_LINK_HREF = re.compile(r"<link\b[^>]*\bhref=[\"']?([^\"'\s>]*)", re.IGNORECASE)
_CSS_URL = re.compile(r"(?:url\(\s*|@import\s+(?:url\(\s*)?)[\"']?([^\"')\s;]*)", re.IGNORECASE)
_JS_IMPORT = re.compile(r"\bimport\s*\(\s*[\"']([^\"']*)", re.IGNORECASE)


def _hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_docs_hook", DOCS / "_hooks" / "notebooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _page(site: Path, uri: str) -> str:
    path = site / uri / "index.html" if uri else site / "index.html"
    assert path.is_file(), f"{uri or 'index'} is not in the site ({path})"
    return path.read_text(encoding="utf-8")


def _off_site(url: str) -> bool:
    return bool(re.match(r"(?i)^([a-z][a-z0-9+.-]*:)?//", url)) and not url.startswith("file:")


@pytest.fixture(scope="module")
def site(executed_notebooks: ExecutedNotebooks, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built strictly from the session's executed notebooks."""
    folder = executed_notebooks.all()
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, _hook().ENV_VAR: str(folder), "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)]
    proc = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT
    )
    if proc.returncode != 0:
        log = [line for line in proc.stderr.splitlines() if not line.startswith("INFO")]
        pytest.fail("mkdocs build --strict failed:\n" + "\n".join(log[-60:]), pytrace=False)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("module_name", sorted(API_PAGES))
def test_every_public_name_has_an_api_entry(site: Path, module_name: str) -> None:
    module = importlib.import_module(module_name)
    ids = set(_IDS.findall(_page(site, API_PAGES[module_name])))
    missing = [name for name in module.__all__ if f"{module_name}.{name}" not in ids]
    assert missing == [], (
        f"{module_name}: public names without an entry on {API_PAGES[module_name]}.md "
        "(give each a docstring)"
    )


@pytest.mark.slow
@pytest.mark.parametrize("module_name", sorted(API_PAGES))
def test_api_pages_show_no_sphinx_roles(site: Path, module_name: str) -> None:
    text = _page(site, API_PAGES[module_name])
    roles = re.findall(r":(?:mod|class|func|meth|attr|data|exc|obj):<code>[^<]*", text)
    assert roles == []


@pytest.mark.slow
def test_every_guide_page_is_in_the_site(site: Path) -> None:
    pages = sorted(p for p in DOCS.rglob("*.md") if "_hooks" not in p.parts)
    assert {"index.md", "guide/install.md", "guide/troubleshooting.md"} <= {
        p.relative_to(DOCS).as_posix() for p in pages
    }
    for page in pages:
        uri = page.relative_to(DOCS).with_suffix("").as_posix()
        text = _page(site, "" if uri == "index" else uri)
        titles = [line[2:] for line in page.read_text().splitlines() if line.startswith("# ")]
        for title in titles[:1]:  # the API pages have none: mkdocstrings makes their heading
            assert html.escape(title.strip(), quote=False) in text, f"{uri}: no title"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_is_in_the_site_with_its_outputs(
    site: Path, executed_notebooks: ExecutedNotebooks, path: Path
) -> None:
    text = _page(site, f"notebooks/{path.stem}")
    executed = executed_notebooks(path)
    streams = [
        o.text for c in executed.cells for o in c.get("outputs", []) if o.output_type == "stream"
    ]
    results = [
        o.data["text/plain"]
        for c in executed.cells
        for o in c.get("outputs", [])
        if o.output_type == "execute_result" and set(o.data) == {"text/plain"}
    ]
    shown = [s.strip().splitlines()[0] for s in streams + results if s.strip()]
    assert shown, f"{path.name}: the executed notebook has no text output to look for"
    for line in shown:
        assert html.escape(line, quote=False) in text, f"{path.name}: output {line!r} missing"
    # No widget placeholder: a static page cannot run a widget.
    assert "application/vnd.jupyter.widget-view+json" not in text
    assert "application/vnd.jupyter.widget-state+json" not in text


@pytest.mark.slow
def test_nothing_is_loaded_from_another_site(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 10
    off_site: list[str] = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        urls = _SCRIPT_SRC.findall(text) + _LINK_HREF.findall(text)
        urls += _JS_IMPORT.findall(text) + _CSS_URL.findall(text)
        off_site += [f"{page.relative_to(site)}: {u}" for u in urls if _off_site(u)]
    for sheet in sorted(site.rglob("*.css")):
        urls = _CSS_URL.findall(sheet.read_text(encoding="utf-8"))
        off_site += [f"{sheet.relative_to(site)}: {u}" for u in urls if _off_site(u)]
    assert off_site == []


def _viewer_adds_png() -> bool:
    from simplezarr.viewer import Viewer

    return any(
        "_repr_mimebundle_" in vars(cls) and cls.__module__.startswith("simplezarr.")
        for cls in Viewer.__mro__
    )


@pytest.mark.slow
def test_quickstart_shows_a_picture_of_each_viewer(site: Path) -> None:
    if not _viewer_adds_png():
        pytest.skip(
            "simplezarr.viewer.Viewer has no _repr_mimebundle_ of its own yet, so the notebooks "
            "carry no image/png of a view to show"
        )
    text = _page(site, "notebooks/01-quickstart")
    assert re.search(r"<img\b[^>]*\bsrc=\"data:image/png;base64,", text)


def test_static_copy_shows_a_widget_by_its_picture_or_a_note(tmp_path: Path) -> None:
    hook = _hook()
    view = {"model_id": "abc", "version_major": 2, "version_minor": 0}
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb.cells = [
        nbformat.v4.new_code_cell(
            "v",
            outputs=[
                nbformat.v4.new_output(
                    "execute_result",
                    {hook.WIDGET_VIEW: view, "image/png": "iVBORw0KGgo=", "text/plain": "V"},
                    execution_count=1,
                ),
                nbformat.v4.new_output(
                    "display_data", {hook.WIDGET_VIEW: view, "text/plain": "HBox(...)"}
                ),
                nbformat.v4.new_output("display_data", {"text/plain": "42"}),
            ],
        )
    ]
    nbformat.write(nb, tmp_path / "in.ipynb")
    hook.static_copy(tmp_path / "in.ipynb", tmp_path / "out" / "out.ipynb")
    out = nbformat.read(tmp_path / "out" / "out.ipynb", as_version=4)
    assert "widgets" not in out.metadata
    first, second, third = (dict(o.data) for o in out.cells[0].outputs)
    assert first == {"image/png": "iVBORw0KGgo=", "text/plain": "V"}
    assert second == {"text/markdown": hook.NO_KERNEL_NOTE}
    assert third == {"text/plain": "42"}
