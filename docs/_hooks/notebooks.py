"""mkdocs hook: every ``notebooks/*.ipynb`` becomes a page of the site, with its outputs.

Design
------
The notebooks are committed without outputs, and the build never runs them
(mkdocs-jupyter's ``execute`` is off): they are executed once beforehand by
``tests/_notebooks.py`` (``./dev docs`` does it, and so does the docs test),
into a folder named by ``$SIMPLEZARR_DOCS_NOTEBOOKS``. This hook

- lists ``notebooks/*.ipynb`` in name order and adds one nav entry per
  notebook, in a "Notebooks" section after the "User guide" (so a new notebook
  appears without editing ``mkdocs.yml``);
- takes each one's executed copy from that folder; a missing copy is an error.
  Without the variable the committed notebooks are shown, without outputs,
  and a warning says so (which fails a ``--strict`` build);
- makes them fit a static page, where no kernel runs a widget. nbconvert's
  display priority puts ``application/vnd.jupyter.widget-view+json`` first,
  which renders as an empty placeholder without a widget manager, so it is
  removed from every output: a widget output that carries ``image/png`` (the
  picture of the view, when the ``Viewer`` adds one) shows that picture; one
  without shows `NO_KERNEL_NOTE` instead of a repr like ``<Viewer object at
  0x...>``. The widget state saved in the notebook's metadata is removed too
  (for it nbconvert would load the widget manager from a CDN). These copies
  are written to ``<folder>/site/`` and are what mkdocs-jupyter converts;
- removes from each notebook page nbconvert's mermaid loader (a module script
  that imports mermaid from cdnjs when the page has a diagram; ours have
  none, and a warning says so if one ever does): the site loads nothing from
  elsewhere.

Its ``on_files`` runs before mkdocs-jupyter's (a higher event priority), so
the plugin sees the notebooks as pages.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import nbformat
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

__all__ = [
    "ENV_VAR",
    "NAV_SECTION",
    "NO_KERNEL_NOTE",
    "WIDGET_VIEW",
    "on_config",
    "on_files",
    "on_page_content",
    "static_copy",
]

ENV_VAR = "SIMPLEZARR_DOCS_NOTEBOOKS"
"""Names the folder of executed notebooks (``tests/_notebooks.py`` writes it)."""

NAV_SECTION = "Notebooks"
"""Title of the nav section that lists the notebooks."""

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
"""The mimetype of a widget's output; it needs a live kernel, which a static page has not."""

NO_KERNEL_NOTE = "*(An interactive widget: it appears when the notebook runs in Jupyter.)*"
"""Shown (as markdown) for a widget output that has no picture of itself."""

_SITE_URI = "notebooks"  # the notebooks' folder in the site: notebooks/01-quickstart/
_MERMAID_LOADER = re.compile(
    r'<script type="module">\s*document\.addEventListener\("DOMContentLoaded", async \(\) => \{'
    r'\s*const diagrams = document\.querySelectorAll\("\.jp-Mermaid > pre\.mermaid"\);'
    r".*?</script>",
    re.DOTALL,
)
log = logging.getLogger("mkdocs.hooks.simplezarr_notebooks")


def _committed(config: MkDocsConfig) -> list[Path]:
    root = Path(config.config_file_path).resolve().parent
    return sorted((root / "notebooks").glob("*.ipynb"))


def static_copy(source: Path, target: Path) -> None:
    """Write ``source`` to ``target`` without what needs a kernel (see the module docstring).

    Parameters
    ----------
    source : Path
        An (executed) notebook.
    target : Path
        Where its copy for the static site goes (its folder is created).
    """
    nb = nbformat.read(source, as_version=4)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data is not None and data.pop(WIDGET_VIEW, None) is not None:
                if "image/png" not in data:
                    output["data"] = {"text/markdown": NO_KERNEL_NOTE}
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Add a "Notebooks" section to the nav, one entry per committed notebook."""
    entries = [f"{_SITE_URI}/{path.name}" for path in _committed(config)]
    nav: list[Any] = config.nav or []
    after = next(
        (i + 1 for i, item in enumerate(nav) if isinstance(item, dict) and "User guide" in item),
        len(nav),
    )
    nav.insert(after, {NAV_SECTION: entries})
    config.nav = nav
    return config


@event_priority(100)
def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the static copies of the executed notebooks to the site's files."""
    committed = _committed(config)
    folder = os.environ.get(ENV_VAR)
    if folder:
        executed = Path(folder).expanduser().resolve()
        site = executed / "site"
        for path in committed:
            source = executed / path.name
            if not source.is_file():
                raise PluginError(
                    f"docs/_hooks/notebooks.py on_files(): {path.name} has no executed copy in "
                    f"{str(executed)!r} (${ENV_VAR}); run `./dev docs build`, which executes "
                    "every notebook first"
                )
            static_copy(source, site / _SITE_URI / path.name)
        src_dir = site
    else:
        log.warning(
            "the notebooks are shown without outputs: $%s is not set (`./dev docs` executes "
            "them and sets it)",
            ENV_VAR,
        )
        src_dir = committed[0].parent.parent if committed else Path(config.docs_dir)
    for path in committed:
        files.append(
            File(
                f"{_SITE_URI}/{path.name}",
                src_dir=str(src_dir),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        )
    return files


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Remove nbconvert's mermaid loader (it imports from a CDN) from a notebook page."""
    if not page.file.src_uri.endswith(".ipynb"):
        return html
    html, removed = _MERMAID_LOADER.subn("", html)
    if removed != 1:
        log.warning(
            "%s: expected nbconvert's mermaid loader once, found it %d times: the check of the "
            "site for off-site scripts (tests/test_docs.py) tells whether it still loads one",
            page.file.src_uri,
            removed,
        )
    if 'class="jp-Mermaid' in html:
        log.warning("%s: has a mermaid diagram, which the site cannot draw", page.file.src_uri)
    return html
