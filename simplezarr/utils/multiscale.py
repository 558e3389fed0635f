"""Typed metadata of multiscale images: :class:`MultiscaleInfo` and :class:`ScaleInfo`.

Purpose
-------

This module turns the metadata of a zarr node into small frozen dataclasses
that the chunk pool and the viewer use. It reads metadata only: opening the
arrays reads their ``zarr.json``/``.zarray``, never a chunk.

``MultiscaleInfo.from_zarr_node(node)`` returns one :class:`MultiscaleInfo`
per multiscale image found at ``node``:

* OME-NGFF 0.4 (zarr v2, ``multiscales`` in ``.zattrs``) and 0.1-0.3;
* OME-NGFF 0.5 (zarr v3, ``attributes["ome"]["multiscales"]``);
* OME-NGFF 0.6 / RFC-5 ``coordinateSystems`` as far as the transforms reduce
  to an axis-aligned scale and translation (see :mod:`._ngff`), with a
  warning since the version is not final;
* the ``bioformats2raw.layout``: the series listed in ``OME/`` (``series``),
  else the groups ``"0"``, ``"1"``, ... that exist;
* HCS ``plate`` and ``well`` groups: every field of every well;
* label images (``image-label``): read like any image, with
  ``MultiscaleInfo.is_labels`` set;
* a plain zarr array: one single-level image with guessed axes (below);
* a plain group without OME metadata: if its arrays are named by level
  (``0, 1, 2`` or ``s0, s1``...), have one ndim and shrink level by level,
  one multiscale image whose scales are the shape ratios; otherwise one
  single-level image per array. A group without arrays is searched one level
  down for OME images. ``labels`` are not images of their own here: open the
  label group itself to see one.

Each image has a ``path``: where its group (or array) is inside the node
that was read, e.g. ``"A/1/0"`` for field 0 of well A/1 of a plate. Paths
are unique where names often are not (every field of an iohub plate is
called ``"0"``), so they are what selects an image; the metadata ``name``
stays as a label.

Unknown version strings (``0.6rc0``, ``0.7``) are read as far as possible
with a ``warnings.warn``.

Malformed metadata
------------------

Metadata is untrusted input. What cannot be read raises ``ValueError``
naming ``MultiscaleInfo.from_zarr_node()``, the node, the field and the
offending value (never a raw ``TypeError``, ``KeyError``,
``OverflowError`` or ``RecursionError``); what can be read around raises a
``warnings.warn`` that names the field and says what was read instead:

* errors: a field of the wrong type (``multiscales``, ``datasets``,
  ``axes``, ``plate``, ``plate.wells``, ``well.images``,
  ``coordinateSystems``), a missing or unusable dataset path, duplicate axis
  names, scales <= 0, numbers that are not finite floats (``1e999``, an
  integer of 400 digits), transforms nested more than 16 deep, images nested
  more than 8 groups deep, more than 64 levels, an empty level, and any
  geometry beyond the finite range below;
* warnings: a bad plate/well entry (skipped), an ``omero`` field of the
  wrong type or a window value that is not a finite number (ignored: the
  viewer then falls back as without a window), level shapes that grow
  while the scales grow, a 0.4+ dataset without ``coordinateTransformations``
  (its scale is derived from the shape ratio), mixed or unknown units.

Every geometry returned is finite: scales in ``[1e-100, 1e100]`` and all
world coordinates of every level (``offset``, ``offset + shape * scale``)
within ``+-1e100``, so that sums, centres and ratios of them stay finite.

Axes of arrays without metadata
-------------------------------

1D ``(x)``; 2D ``(y, x)``; 3D ``(c, y, x)`` when the first size is <= 4,
``(y, x, c)`` when the last size is 3 or 4 (interleaved RGB(A)), else
``(z, y, x)``; 4D ``(c, z, y, x)``; 5D ``(t, c, z, y, x)``; more dimensions
get untyped ``dim_0, dim_1, ...`` before ``(t, c, z, y, x)``. Scale 1,
offset 0, no unit. Dimension names, when the array has them (zarr v3
``dimension_names``, the xarray/tifffile attribute ``_ARRAY_DIMENSIONS``)
and they name at least two spatial axes, are used instead of the guess.

Levels without transforms
-------------------------

OME-NGFF 0.1-0.3 pyramids have no ``coordinateTransformations`` (every
``tifffile.imread(path, aszarr=True)`` pyramid of an OME-TIFF is such a 0.1
document), and neither do arrays named by level in a plain group. A level
without transforms gets the scale its shape implies: the ratio of the
finest level's size to its own along each spatial axis (an integer when
the shape is the finest one divided by it, rounded up or down), and the
pixel-centre translation below. In a 0.4+ document, where transforms are
required, this comes with a warning.

Coordinates: the pixel-centre convention
----------------------------------------

World coordinates put the *centre* of a pixel at its coordinate: pixel ``i``
of a level with scale ``s`` and offset ``o`` is centred at ``o + i * s`` and
covers ``o + (i - 1/2) * s .. o + (i + 1/2) * s``. OME-NGFF 0.6 states this
explicitly; for earlier versions it is the common reading.

A pyramid level usually averages 2 (or more) pixels of the level below::

      world  0   1   2   3   4   5   6   7      (level-0 scale 1)
           |_o_|_o_|_o_|_o_|_o_|_o_|_o_|_o_|    level 0, offset 0
           |___o___|___o___|___o___|___o___|    level 1, centres at 0.5, 2.5, ...
           |_______o_______|_______o_______|    level 2, centres at 1.5, 5.5
           ^ the images share this outer edge

So a level with scale ``s`` lines up with level 0 (scale ``s0``) only when
it is shifted by ``s / 2 - s0 / 2``. Many writers give that translation;
some omit it. A missing translation could mean "aligned as expected", the
pixel-corner convention, or a real zero shift (sampling at level-0 centres).
As the upstream API does (see ome/ngff#89), a level whose own
``coordinateTransformations`` have no translation gets the default
``scale / 2 - scale_level0 / 2`` on its *spatial* axes (level 0 gets 0).
Writers: please write translations, so nobody has to guess.

Composition: a level's transforms (scale, then translation, or the default
translation) map array indices to the image's coordinate system; the
multiscale-level ("global") ``coordinateTransformations`` are applied after
them. ``ScaleInfo.scale``/``offset`` hold the result per array axis: the
world position of pixel ``idx`` is ``offset + idx * scale``.

Axis order: a transform may permute axes (0.6 ``mapAxis``, or a rotation
matrix that is a permutation): the array axes are then named as the world
axes they become (``ScaleInfo.axes``, array order), and
``ScaleInfo.axis_order`` keeps the world order, so that
``ScaleInfo.spatial_axes`` lists the array axes in world order (``z, y,
x``) and the last two are the physical ``y`` and ``x`` plane.

Levels are ordered finest first (by mean spatial scale) even when the
datasets are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simplezarr.utils._ngff import SPACE_UNITS

__all__ = ["AxisInfo", "ChannelInfo", "MultiscaleInfo", "ScaleInfo"]


def _fmt(values: tuple[float, ...]) -> str:
    return "(" + ", ".join(f"{v:g}" for v in values) + ")"


@dataclass(frozen=True)
class AxisInfo:
    """One axis of an image.

    ``name`` is the axis name (``"x"``), ``type`` one of ``"time"``,
    ``"channel"``, ``"space"``, another string or ``None`` (unknown), and
    ``unit`` the unit (``"micrometer"``; common spellings such as ``"µm"``
    are normalised to the OME-NGFF name) or ``None``.
    """

    name: str
    type: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class ChannelInfo:
    """One channel from OME ``omero`` metadata.

    ``label`` is the channel name, ``color`` six lowercase hex digits
    (``"ff0000"``) or ``None``; ``window_start``/``window_end`` the display
    contrast limits and ``window_min``/``window_max`` the data range, in data
    units, each ``None`` when not given; ``active`` whether it is shown.
    """

    label: str
    color: str | None = None
    window_start: float | None = None
    window_end: float | None = None
    window_min: float | None = None
    window_max: float | None = None
    active: bool = True


@dataclass(frozen=True, eq=False)
class ScaleInfo:
    """One level of a multiscale image.

    Attributes
    ----------
    array : zarr.Array
        The array of this level (opened read-only).
    level : int
        0 is the finest level, then coarser and coarser.
    path : str
        Path of the array relative to the node given to
        ``MultiscaleInfo.from_zarr_node()`` (``""`` for the node itself).
    axes : tuple of AxisInfo
        One per array axis, in array order.
    shape : tuple of int
        The array's shape.
    chunk_shape : tuple of int
        The read chunk: for a sharded array the *inner* chunk (zarr's
        ``array.chunks``), the unit the pool reads.
    dtype : numpy.dtype
        The array's data type.
    scale, offset : tuple of float
        Per array axis: world size of one pixel and world position of the
        centre of pixel 0 (see the module docstring).
    shard_shape : tuple of int or None
        The shard shape of a sharded (zarr v3) array, else ``None``.
    axis_order : tuple of int or None
        The array axis of each axis of the image's coordinate system, in
        that system's order, when a transform permutes the axes (e.g.
        ``(2, 0, 1)``: world ``z`` is array axis 2); ``None`` when it is the
        array order.
    """

    array: Any  # zarr.Array
    level: int
    path: str
    axes: tuple[AxisInfo, ...]
    shape: tuple[int, ...]
    chunk_shape: tuple[int, ...]  # the read chunk: inner chunk of a sharded array
    dtype: np.dtype[Any]
    scale: tuple[float, ...]  # per array axis
    offset: tuple[float, ...]  # per array axis, world position of pixel 0's centre
    shard_shape: tuple[int, ...] | None = None
    axis_order: tuple[int, ...] | None = None  # array axis of each world axis, if permuted

    def __repr__(self) -> str:
        return (
            f"ScaleInfo(level={self.level}, path={self.path!r}, axes={self.axes_names!r}, "
            f"shape={self.shape}, chunk_shape={self.chunk_shape}, dtype={self.dtype}, "
            f"scale={_fmt(self.scale)}, offset={_fmt(self.offset)})"
        )

    @property
    def ndim(self) -> int:
        """Number of array axes."""
        return len(self.shape)

    @property
    def axes_names(self) -> tuple[str, ...]:
        """The axis names in array order, e.g. ``("c", "y", "x")``."""
        return tuple(a.name for a in self.axes)

    @property
    def spatial_axes(self) -> tuple[int, ...]:
        """Indices of the array axes of type ``"space"``, in world order.

        World order is the array order unless a transform permutes the axes
        (see :attr:`axis_order`); the last two are the image's ``y`` and
        ``x``.
        """
        order = self.axis_order if self.axis_order is not None else range(len(self.axes))
        return tuple(i for i in order if self.axes[i].type == "space")

    @property
    def channel_axis(self) -> int | None:
        """Index of the (first) channel axis, or ``None``."""
        for i, a in enumerate(self.axes):
            if a.type == "channel":
                return i
        return None

    @property
    def time_axis(self) -> int | None:
        """Index of the (first) time axis, or ``None``."""
        for i, a in enumerate(self.axes):
            if a.type == "time":
                return i
        return None

    @property
    def spatial_shape(self) -> tuple[int, ...]:
        """Shape along the spatial axes, e.g. ``(z, y, x)``."""
        return tuple(self.shape[i] for i in self.spatial_axes)

    @property
    def spatial_chunk_shape(self) -> tuple[int, ...]:
        """Read-chunk shape along the spatial axes."""
        return tuple(self.chunk_shape[i] for i in self.spatial_axes)

    @property
    def spatial_scale(self) -> tuple[float, ...]:
        """Pixel size along the spatial axes, in world units."""
        return tuple(self.scale[i] for i in self.spatial_axes)

    @property
    def spatial_offset(self) -> tuple[float, ...]:
        """World position of pixel 0's centre along the spatial axes."""
        return tuple(self.offset[i] for i in self.spatial_axes)

    @property
    def mean_scale(self) -> float:
        """Mean of the spatial scales (1.0 without spatial axes): orders the levels."""
        s = self.spatial_scale
        return float(sum(s) / len(s)) if s else 1.0

    @property
    def nchannels(self) -> int:
        """Size of the channel axis (1 without one)."""
        c = self.channel_axis
        return 1 if c is None else self.shape[c]

    @property
    def ntimes(self) -> int:
        """Size of the time axis (1 without one)."""
        t = self.time_axis
        return 1 if t is None else self.shape[t]

    @property
    def chunk_grid_shape(self) -> tuple[int, ...]:
        """Number of (read) chunks along each axis."""
        return tuple(-(-s // c) for s, c in zip(self.shape, self.chunk_shape, strict=True))


@dataclass(frozen=True, eq=False)
class MultiscaleInfo:
    """One multiscale image: its axes, unit, channels and levels (finest first).

    Attributes
    ----------
    name : str
        The image name from the metadata, else its path (or the array name).
    axes : tuple of AxisInfo
        One per array axis, in array order (the same for every level).
    scales : tuple of ScaleInfo
        The levels, finest first; ``scales[i].level == i``.
    channels : tuple of ChannelInfo or None
        From OME ``omero`` metadata, ``None`` when absent.
    version : str or None
        The OME-NGFF version (``"0.4"``, ``"0.5"``, ``"0.6rc0"``), ``None``
        for arrays without OME metadata.
    path : str
        Where the image is inside the node given to ``from_zarr_node()``:
        its group's path (``"A/1/0"`` for a plate field, ``"0"`` for a
        bioformats2raw series), the array's path for a plain array, ``""``
        for the node itself. Unique unless one group holds several
        ``multiscales`` (select those by index or name).
    is_labels : bool
        Whether the image is a label image (``image-label`` metadata): its
        values are ids, not intensities. Label images keep the axes of the
        image they label, often with a channel axis of size 1.
    """

    name: str
    axes: tuple[AxisInfo, ...]
    scales: tuple[ScaleInfo, ...]
    channels: tuple[ChannelInfo, ...] | None = None
    version: str | None = None
    path: str = ""
    is_labels: bool = False

    def __repr__(self) -> str:
        levels = ", ".join(str(s.shape) for s in self.scales)
        labels = ", is_labels=True" if self.is_labels else ""
        return (
            f"MultiscaleInfo(name={self.name!r}, path={self.path!r}, version={self.version!r}, "
            f"axes={self.axes_names!r}, unit={self.unit!r}{labels}, levels=[{levels}])"
        )

    @property
    def axes_names(self) -> tuple[str, ...]:
        """The axis names in array order."""
        return tuple(a.name for a in self.axes)

    @property
    def nlevels(self) -> int:
        """Number of levels."""
        return len(self.scales)

    @property
    def unit(self) -> str | None:
        """The spatial unit: that of the last spatial axis that has one, else ``None``."""
        for a in reversed(self.axes):
            if a.type == "space" and a.unit:
                return a.unit
        return None

    @property
    def unit_factor(self) -> float:
        """Factor from :attr:`unit` to metres (micrometer -> 1e-6).

        1.0 when the unit is ``None`` or not a known spatial unit.
        """
        unit = self.unit
        return SPACE_UNITS.get(unit, 1.0) if unit is not None else 1.0

    @classmethod
    def from_zarr_node(cls, node: Any) -> list[MultiscaleInfo]:
        """Read the multiscale images of a zarr group or array.

        Parameters
        ----------
        node : zarr.Group or zarr.Array
            E.g. from :func:`simplezarr.open`.

        Returns
        -------
        list of MultiscaleInfo
            One per multiscale image (several for a ``bioformats2raw`` layout,
            a plate, or a ``multiscales`` list with several entries).

        Raises
        ------
        ValueError
            Malformed or uninterpretable metadata (the message names the
            node, the field and the value; see the module docstring), or no
            image found.
        TypeError
            ``node`` is not a zarr group or array.

        Warns
        -----
        UserWarning
            Metadata read with a best guess: unknown versions, units, bad
            ``omero`` fields, missing transforms (see the module docstring).
        """
        from simplezarr.utils._omezarr import read_node

        return read_node(node)
