"""The viewer: an anywidget that streams PNG tiles of a multiscale image.

Layers (each one-way, see ``docs/architecture.md``): :mod:`.geometry` (pure
math), :mod:`.encode` (values -> PNG), :mod:`.tiles` (:class:`TileStreamer`:
viewport -> wanted chunks -> tiles), :mod:`.widget` (:class:`Viewer`:
traitlets), :mod:`.channels` (:class:`Channel`: how one channel is drawn),
:mod:`.link` (:func:`link`: viewers kept in step), :mod:`.ortho`
(:class:`OrthoViewer`: xy, xz and zy views with a crosshair), :mod:`.layers`
(:class:`Layer`: one image, label image or computed image drawn over the
others).
"""

from __future__ import annotations

from ._layout import ImageLayout, image_layout
from .channels import Channel
from .encode import EncodedTile, encode_labels, encode_png, encode_tile, to_codes
from .geometry import LevelGeometry, TileHeader, Viewport
from .layers import Layer
from .link import ViewLink, link
from .ortho import OrthoViewer
from .tiles import TileStreamer
from .widget import Viewer

__all__ = [
    "Channel",
    "EncodedTile",
    "ImageLayout",
    "Layer",
    "LevelGeometry",
    "OrthoViewer",
    "TileHeader",
    "TileStreamer",
    "ViewLink",
    "Viewer",
    "Viewport",
    "encode_labels",
    "encode_png",
    "encode_tile",
    "image_layout",
    "link",
    "to_codes",
]
