"""``simplezarr.open()``: any image source to a read-only zarr node.

One entry point for everything the viewer and the chunk pool accept:

========================================  =====================================
source                                    opened as
========================================  =====================================
``zarr.Group`` / ``zarr.Array``           returned as is
zarr store (``zarr.abc.store.Store``)     ``zarr.open(store, mode="r")``, read-only
local directory                           ``LocalStore(read_only=True)``
local ``.zip`` file                       ``ZipStore(mode="r")``
local TIFF file (``.ome.tif``, ``.tif``)  tifffile's zarr store, see :mod:`._tiff`
                                          (``pip install simplezarr[tiff]``)
``file://`` URL                           as a local path
``http(s)://``, ``s3://``, other fsspec   ``FsspecStore.from_url(read_only=True)``
numpy array                               a copy in memory: a zarr v3 array, or an
                                          OME-Zarr pyramid when a plane is large
========================================  =====================================

Zarr format 2 or 3 is detected by zarr. Consolidated metadata (v2
``.zmetadata``, v3 ``consolidated_metadata``) is used when present, which
saves one request per array over HTTP.

Errors name the source and say what is wrong, as one exception:
``FileNotFoundError`` for a local path that does not exist or a URL with no
zarr metadata, ``ValueError`` for an existing path that is not a zarr store,
``ConnectionError`` for a URL that cannot be reached, ``OSError`` for other
remote failures (e.g. missing credentials), ``ImportError`` when the fsspec
backend for a URL scheme, or tifffile for a TIFF file, is missing (the
message names the extra to install). A file is a TIFF by its first bytes,
whatever its name.

A numpy array is chunked 512 pixels along its last two spatial axes (as
guessed by :mod:`simplezarr.utils.multiscale`), whole along axes after them
(interleaved RGB), and 1 along the others, so that a 2D view reads one plane.
A 3D uint8 array whose last axis is 3 or 4 long is an RGB(A) image, axes
``(y, x, c)`` whatever its other sizes (the general guess would take a
``(4, 5, 3)`` array for ``(c, y, x)``); its axis names are written as the
array's ``dimension_names``.
When its y or x side is larger than 2048 pixels it becomes an in-memory
OME-Zarr pyramid instead (y and x halved per level, mean downsampling for
intensities, nearest for bool), so a viewer zoomed out on a big array reads
a few coarse chunks rather than every full-resolution one. The copy costs
about 1.33x the array's memory once.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import zarr
import zarr.storage
from zarr.abc.store import Store

from simplezarr._tiff import is_tiff, tiff_store
from simplezarr.utils._ngff import guess_axes

_Axes = tuple[tuple[str, str | None], ...]

__all__ = ["open"]

_PLANE_CHUNK = 512
_PYRAMID_ABOVE = 2048  # a y or x side above this makes an in-memory pyramid
_FN = "simplezarr.open()"


def open(  # the public name is simplezarr.open
    source: Any, *, storage_options: dict[str, Any] | None = None
) -> zarr.Group | zarr.Array:
    """Open an image source read-only as a zarr group or array.

    Parameters
    ----------
    source : str, os.PathLike, zarr store, zarr.Group, zarr.Array or numpy.ndarray
        A local directory, ``.zip`` or TIFF path, an ``http(s)://``/``s3://``/...
        URL, a zarr-python store, an already open zarr node (returned as is)
        or a numpy array (copied into an in-memory zarr array).
    storage_options : dict, optional
        Passed to fsspec for URLs, e.g. ``{"anon": True}`` for a public S3
        bucket.

    Returns
    -------
    zarr.Group or zarr.Array
        What the source holds at its root.

    Raises
    ------
    FileNotFoundError, ValueError, ConnectionError, OSError, ImportError, TypeError
        See the module docstring; the message names the source.
    """
    if isinstance(source, zarr.Group | zarr.Array):
        return source
    if isinstance(source, np.ndarray):
        return numpy_node(source)
    if isinstance(source, Store):
        return _open_store(_read_only(source), repr(source), remote=False)
    if isinstance(source, str | os.PathLike):
        text = os.fspath(source)
        if not isinstance(text, str):
            text = os.fsdecode(text)
        if text.startswith("file://"):
            return _open_local(text[len("file://") :])
        if "://" in text:
            return _open_url(text, storage_options)
        return _open_local(text)
    raise TypeError(
        f"{_FN}: cannot open a {type(source).__name__}; expected a path, URL, zarr store, "
        "zarr.Group, zarr.Array or numpy array"
    )


def _read_only(store: Store) -> Store:
    if store.read_only:
        return store
    try:
        return store.with_read_only(True)
    except (NotImplementedError, AttributeError, TypeError):
        return store  # zarr.open(mode="r") still opens it read-only


def _open_local(text: str) -> zarr.Group | zarr.Array:
    path = Path(text).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{_FN}: {text!r} is not a zarr store: no such file or directory")
    if path.is_file():
        if path.name in ("zarr.json", ".zgroup", ".zarray", ".zattrs", ".zmetadata"):
            return _open_local(str(path.parent))
        if is_tiff(path):
            return _open_store(tiff_store(path, _FN, text), text, remote=False)
        if not zipfile.is_zipfile(path):
            raise ValueError(
                f"{_FN}: {text!r} is not a zarr store: a file that is not a .zip archive or a TIFF"
            )
        store: Store = zarr.storage.ZipStore(path, mode="r", read_only=True)
    else:
        store = zarr.storage.LocalStore(path, read_only=True)
    return _open_store(store, text, remote=False)


def _open_url(url: str, storage_options: dict[str, Any] | None) -> zarr.Group | zarr.Array:
    try:
        store = zarr.storage.FsspecStore.from_url(
            url.rstrip("/"), storage_options=storage_options, read_only=True
        )
    except ImportError as exc:
        scheme = url.split("://", 1)[0]
        raise ImportError(
            f"{_FN}: {url!r} needs an fsspec backend for {scheme!r} URLs ({exc}); "
            "install simplezarr[remote] for http(s), simplezarr[s3] for s3"
        ) from exc
    except ValueError as exc:
        raise ValueError(f"{_FN}: {url!r} is not a zarr store: {exc}") from exc
    return _open_store(store, url, remote=True)


def _is_connection_error(exc: BaseException) -> bool:
    """Whether ``exc`` (or its cause) means the server could not be reached."""
    seen: BaseException | None = exc
    while seen is not None:
        name = type(seen).__name__
        if isinstance(seen, ConnectionError | TimeoutError) or name in (
            "ClientConnectorError",
            "ClientConnectionError",
            "ServerDisconnectedError",
            "ServerTimeoutError",
            "ClientOSError",
            "EndpointConnectionError",  # botocore (s3)
            "ConnectTimeoutError",
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _open_store(store: Store, label: str, *, remote: bool) -> zarr.Group | zarr.Array:
    try:
        return zarr.open(store=store, mode="r")
    except Exception as exc:
        if _is_connection_error(exc):
            raise ConnectionError(f"{_FN}: {label!r} is not reachable: {exc}") from exc
        found = "no zarr metadata (zarr.json, .zgroup or .zarray) found"
        not_found = (zarr.errors.GroupNotFoundError, FileNotFoundError, KeyError)
        if remote and isinstance(exc, not_found):
            raise FileNotFoundError(f"{_FN}: {label!r} is not a zarr store: {found}") from exc
        if remote:
            hint = ""
            if "credential" in f"{type(exc).__name__} {exc}".lower():
                hint = " (for a public bucket pass storage_options={'anon': True})"
            raise OSError(
                f"{_FN}: {label!r} could not be read: {type(exc).__name__}: {exc}{hint}"
            ) from exc
        if isinstance(exc, not_found):
            raise ValueError(f"{_FN}: {label!r} is not a zarr store: {found}") from exc
        raise ValueError(
            f"{_FN}: {label!r} is not a readable zarr store: {type(exc).__name__}: {exc}"
        ) from exc


def numpy_axes(shape: tuple[int, ...], dtype: Any) -> _Axes:
    """``(name, type)`` per axis of a numpy array: RGB(A) uint8 is ``(y, x, c)``, else guessed."""
    if np.dtype(dtype) == np.uint8 and len(shape) == 3 and shape[2] in (3, 4):
        return (("y", "space"), ("x", "space"), ("c", "channel"))
    return guess_axes(shape)


def plane_chunks(shape: tuple[int, ...], axes: _Axes | None = None) -> tuple[int, ...]:
    """Chunks for an in-memory copy of an array (see the module docstring)."""
    axes = guess_axes(shape) if axes is None else axes
    spatial = [i for i, (_, kind) in enumerate(axes) if kind == "space"][-2:]
    last = spatial[-1] if spatial else len(shape) - 1
    chunks = []
    for i, n in enumerate(shape):
        if i in spatial:
            chunks.append(min(_PLANE_CHUNK, n))
        elif i > last:
            chunks.append(n)
        else:
            chunks.append(1)
    return tuple(max(1, c) for c in chunks)


def numpy_node(data: np.ndarray[Any, Any], *, labels: bool = False) -> zarr.Array | zarr.Group:
    """A numpy array as an in-memory zarr node (see the module docstring).

    ``labels``: its pyramid, when it gets one, is downsampled by the mode (the
    most common id of each 2 x 2 block), so zoomed out a label is never a blend
    of ids.
    """
    if data.ndim == 0:
        raise ValueError(f"{_FN}: a numpy array needs at least one dimension, got shape ()")
    if data.dtype.kind not in "biuf":
        raise ValueError(
            f"{_FN}: numpy dtype {data.dtype} is not supported (use bool, int, uint or float)"
        )
    axes = numpy_axes(tuple(data.shape), data.dtype)
    names = [name for name, _ in axes]
    if (
        data.ndim <= 5
        and {"y", "x"} <= set(names)
        and max(data.shape[names.index("y")], data.shape[names.index("x")]) > _PYRAMID_ABOVE
    ):
        return _pyramid_from_numpy(data, axes, labels=labels)
    store = zarr.storage.MemoryStore()
    array = zarr.create_array(
        store,
        shape=data.shape,
        dtype=data.dtype,
        chunks=plane_chunks(tuple(data.shape), axes),
        compressors=None,
        fill_value=0,
        zarr_format=3,
        dimension_names=names if axes != guess_axes(tuple(data.shape)) else None,
    )
    array[...] = data
    return zarr.open_array(store=store.with_read_only(True), mode="r")


def _pyramid_from_numpy(data: np.ndarray[Any, Any], axes: _Axes, *, labels: bool) -> zarr.Group:
    from simplezarr.utils._pyramid import write_multiscale

    store = zarr.storage.MemoryStore()
    write_multiscale(
        data,
        store,
        axes=[{"name": name, "type": kind} for name, kind in axes],
        downscale={"y": 2, "x": 2},
        chunks=dict(zip((n for n, _ in axes), plane_chunks(tuple(data.shape), axes), strict=True)),
        method="mode" if labels else "nearest" if data.dtype.kind == "b" else "mean",
        name="array",
    )
    return zarr.open_group(store=store.with_read_only(True), mode="r")
