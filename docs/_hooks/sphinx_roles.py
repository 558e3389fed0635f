"""mkdocs hook: Sphinx roles in docstrings read as plain code on the API pages.

The docstrings are numpy-style and written for readers of the source and of
``help()``; many name things with Sphinx roles (``:class:`~.tiles.TileStreamer```).
mkdocstrings renders their text as Markdown, where the role stays as literal text
before the code span: ``:class:<code>~.tiles.TileStreamer</code>``. This hook
drops the role and keeps what Sphinx would show: the last part of a ``~`` name,
the title of a ``title <target>`` reference. Only the API pages (``api/``) are
touched; nothing is linked (many targets are private names).
"""

from __future__ import annotations

import re

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

__all__ = ["on_page_content", "strip_roles"]

_ROLE = re.compile(
    r":(?:py:)?(?:mod|class|func|meth|attr|data|exc|obj|const|ref|term):<code>([^<]*)</code>"
)
_TITLED = re.compile(r"^(.*?)\s*&lt;[^&]*&gt;$")


def _shown(match: re.Match[str]) -> str:
    text = match.group(1)
    titled = _TITLED.match(text)
    if titled:
        text = titled.group(1)
    elif text.startswith("~"):
        text = text.rsplit(".", 1)[-1]
    return f"<code>{text}</code>"


def strip_roles(html: str) -> str:
    """``:role:<code>target</code>`` -> ``<code>shown</code>``, as Sphinx would show it.

    Parameters
    ----------
    html : str
        A page's HTML.

    Returns
    -------
    str
        The same HTML without the roles.
    """
    return _ROLE.sub(_shown, html)


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Strip the roles from an API page."""
    return strip_roles(html) if page.file.src_uri.startswith("api/") else html
