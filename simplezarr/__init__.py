"""simplezarr: explore huge multiscale (OME-)Zarr images in a notebook.

- :func:`open` opens a path, URL, store or node read-only;
- :func:`info` describes every multiscale image in a source;
- :class:`Viewer` shows one in a notebook cell (an anywidget), :func:`link`
  keeps viewers in step,
  :class:`OrthoViewer` shows xy, xz and zy views of a 3D image;
- :class:`ComputedImage` is an image computed chunk by chunk from another, as it is read;
- :mod:`simplezarr.utils` is the chunk core (no Jupyter needed);
- :mod:`simplezarr.data` makes demo images locally.

The viewer (and with it anywidget) is imported on first use, so the chunk core
and the command line work without the notebook stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simplezarr._info import format_info as info
from simplezarr._open import open
from simplezarr.computed import ComputedImage

if TYPE_CHECKING:
    from simplezarr.viewer import OrthoViewer, Viewer, link

__version__ = "0.1.0"
"""The version of simplezarr."""
__all__ = ["ComputedImage", "OrthoViewer", "Viewer", "__version__", "info", "link", "open"]


def __getattr__(name: str) -> Any:
    if name in ("OrthoViewer", "Viewer", "link"):
        import simplezarr.viewer

        return getattr(simplezarr.viewer, name)
    raise AttributeError(f"module 'simplezarr' has no attribute {name!r}")
