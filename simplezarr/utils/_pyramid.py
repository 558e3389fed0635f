"""Write an OME-Zarr multiscale pyramid, block by block, in bounded memory.

Design
------
``write_multiscale`` turns one array (numpy, dask, zarr, or anything with
``shape``, ``dtype`` and numpy-style slicing) into an OME-Zarr image group:
OME-Zarr 0.5 on Zarr v3 (optionally sharded) or OME-Zarr 0.4 on Zarr v2 (with
consolidated metadata, ``/`` dimension separator).

The pyramid is written level by level, and each level block by block::

    source ──read block──► level 0 ──read 2x2 blocks──► level 1 ──► ... ──► level n

- A *block* is one chunk of the output array, or one shard when the array is
  sharded (a shard must be written whole). Blocks are aligned to the output
  grid, so no two writers ever touch the same stored object.
- Level l+1 is computed from level l *as written* (read back from the store),
  never from the source: the source is read exactly once and the memory in use
  is a few blocks per worker thread, whatever the image size. A pyramid much
  larger than memory can be written from a lazily computed source.
- Blocks are processed by a small thread pool with a bounded window of
  blocks in flight (numpy and the zarr codecs release the GIL).

Downsampling (per spatial axis, by an integer factor per level):

- ``"mean"`` (intensities): the mean of each factor block; partial blocks at
  the image edge average only the pixels that exist. Integers are rounded.
- ``"nearest"``: the first pixel of each factor block (labels, fast).
- ``"mode"``: the most frequent value of each factor block (labels); ties go
  to the largest value, so small objects survive against background 0.

Coordinates follow the pixel-centre convention: with level-0 ``scale`` s0
and ``translation`` t0, level l with cumulative factor F has
``scale = s0 * F`` and ``translation = t0 + (F - 1) / 2 * s0``: the centre of
pixel 0 of level l sits at the centre of the F x F block it summarises.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Literal

import numpy as np
import zarr

from simplezarr.utils._pyramid_meta import (
    channels_metadata,
    multiscales_metadata,
    normalize_axes,
    per_axis,
    read_image_metadata,
)

__all__ = ["downsample", "write_labels", "write_multiscale"]

Method = Literal["mean", "nearest", "mode"]
_DEFAULT_PLANE_CHUNK = 512


def write_multiscale(
    data: Any,
    path_or_store: Any,
    *,
    axes: str | Sequence[str | Mapping[str, Any]] | None = None,
    scale: Sequence[float] | Mapping[str, float] | None = None,
    translation: Sequence[float] | Mapping[str, float] | None = None,
    units: str | Sequence[str | None] | Mapping[str, str] | None = None,
    chunks: int | Sequence[int] | Mapping[str, int] | None = None,
    shards: int | Sequence[int] | Mapping[str, int] | None = None,
    downscale: int | Sequence[int] | Mapping[str, int] = 2,
    levels: int | None = None,
    method: Method = "mean",
    version: Literal["0.4", "0.5"] = "0.5",
    name: str | None = None,
    channels: Sequence[str | Mapping[str, Any]] | None = None,
    image_label: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
    workers: int | None = None,
) -> zarr.Group:
    """Write ``data`` as an OME-Zarr multiscale image and return the group (read-write).

    Parameters
    ----------
    data : array-like
        numpy, dask or zarr array, or any object with ``shape``, ``dtype`` and
        numpy-style slicing (``data[0:512, 512:1024]`` returning an array).
        Read once, one block at a time.
    path_or_store : str, os.PathLike or zarr store
        Where the image group goes (a directory path, a ``zarr.abc.store.Store``,
        or ``(store, "sub/path")``).
    axes : str or sequence, optional
        Axis names (``"czyx"`` or ``["c", "z", "y", "x"]``) or dicts with
        ``name``/``type``/``unit``. Default by ndim: yx, zyx, czyx, tczyx.
        Types follow the names: t=time, c=channel, x/y/z=space.
    scale, translation : sequence or mapping, optional
        Level-0 pixel size and the world position of pixel 0's centre, per
        axis (default 1 and 0).
    units : str, sequence or mapping, optional
        A string applies to every space axis; else per axis.
    chunks : int, sequence or mapping, optional
        Chunk shape. An int sets y and x; default 512 for y and x, 1 elsewhere.
        Clipped to each level's shape.
    shards : int, sequence or mapping, optional
        Shard shape (multiple of the chunks, version "0.5" only). An int sets
        y and x. Default: no sharding.
    downscale : int, sequence or mapping
        Factor per level along each spatial axis (an int applies to all of
        them). Non-spatial axes are never downsampled; an axis of size 1 stops.
    levels : int, optional
        Number of levels, level 0 included. Default: until every downsampled
        axis fits in one chunk.
    method : {"mean", "nearest", "mode"}
        "mean" for intensities, "nearest" or "mode" for labels.
    version : {"0.5", "0.4"}
        OME-Zarr 0.5 (Zarr v3) or 0.4 (Zarr v2, consolidated metadata).
    name : str, optional
        The multiscale's name.
    channels : sequence, optional
        ``omero`` channels: names, or dicts with ``label``, ``color`` ("rrggbb")
        and optional ``window`` (``start``/``end``/``min``/``max``). Missing
        windows come from the coarsest level (0.1 and 99.9 percentiles).
    image_label : mapping, optional
        ``image-label`` metadata (``colors``, ``properties``, ``source``), for
        a label image (see `write_labels`).
    overwrite : bool
        Replace an existing group at the destination; otherwise raise.
    progress : bool, optional
        Show a tqdm progress bar (if tqdm is installed). Default: only for
        writes of more than 256 blocks.
    workers : int, optional
        Threads processing blocks. Default ``min(4, os.cpu_count())``.

    Returns
    -------
    zarr.Group
        The written image group.
    """
    fn = "write_multiscale()"
    shape = tuple(int(s) for s in data.shape)
    dtype = np.dtype(data.dtype)
    axis_specs = normalize_axes(axes, len(shape), units, fn)
    names = [a.name for a in axis_specs]
    spatial = [i for i, a in enumerate(axis_specs) if a.type == "space"]
    if method not in ("mean", "nearest", "mode"):
        raise ValueError(f"{fn}: method {method!r} is not one of 'mean', 'nearest', 'mode'")
    if version not in ("0.4", "0.5"):
        raise ValueError(f"{fn}: version {version!r} is not '0.4' or '0.5'")
    if shards is not None and version == "0.4":
        raise ValueError(f"{fn}: shards={shards!r} needs version '0.5' (Zarr v3)")
    if levels is not None and levels < 1:
        raise ValueError(f"{fn}: levels={levels!r} must be >= 1")
    scale0 = per_axis(scale, names, 1.0, fn, "scale")
    offset0 = per_axis(translation, names, 0.0, fn, "translation")
    factor = [int(f) for f in per_axis(downscale, names, 1, fn, "downscale", spatial)]
    if any(f < 1 for f in factor):
        raise ValueError(f"{fn}: downscale={downscale!r} must be >= 1 on every axis")
    chunk0 = _plane_default(chunks, names, spatial, _DEFAULT_PLANE_CHUNK, fn, "chunks")
    shard0 = None if shards is None else _plane_default(shards, names, spatial, 0, fn, "shards")

    shapes, factors = _level_shapes(shape, factor, chunk0, spatial, levels)
    store, subpath = path_or_store if isinstance(path_or_store, tuple) else (path_or_store, None)
    try:
        group = zarr.open_group(
            store,
            path=subpath,
            mode="w" if overwrite else "w-",
            zarr_format=3 if version == "0.5" else 2,
        )
    except FileExistsError as exc:
        raise FileExistsError(
            f"{fn}: {path_or_store!r} already holds data; pass overwrite=True to replace it"
        ) from exc
    arrays = [
        _create_level(group, str(lvl), s, dtype, chunk0, shard0, names, version)
        for lvl, s in enumerate(shapes)
    ]
    nblocks = [int(np.prod(_grid(a.shape, _block_shape(a)))) for a in arrays]
    bar = _progress_bar(sum(nblocks), progress, name or "write_multiscale")
    try:
        nworkers = workers or min(4, os.cpu_count() or 1)
        with ThreadPoolExecutor(nworkers) as pool:
            _run_level(
                pool, 2 * nworkers, arrays[0], lambda sl: data[sl], (1,) * len(shape), method, bar
            )
            for lvl in range(1, len(arrays)):
                ratio = tuple(b // a for a, b in zip(factors[lvl - 1], factors[lvl], strict=True))
                src = arrays[lvl - 1]
                _run_level(pool, 2 * nworkers, arrays[lvl], src.__getitem__, ratio, method, bar)
    finally:
        if bar is not None:
            bar.close()

    ome: dict[str, Any] = {
        "multiscales": multiscales_metadata(
            axis_specs, factors, scale0, offset0, name, method, version
        )
    }
    if channels is not None:
        caxis = next((i for i, a in enumerate(axis_specs) if a.type == "channel"), None)
        ome["omero"] = channels_metadata(channels, arrays[-1], caxis, version, fn)
    if image_label is not None:
        ome["image-label"] = dict(image_label)
        if version == "0.4":
            ome["image-label"].setdefault("version", "0.4")
    if version == "0.5":
        group.attrs["ome"] = {"version": "0.5", **ome}
    else:
        group.attrs.update(ome)
        zarr.consolidate_metadata(group.store, path=group.path or None)
    return group


def write_labels(
    labels: Any,
    image: Any,
    name: str,
    *,
    colors: Mapping[int, Sequence[int]] | None = None,
    properties: Sequence[Mapping[str, Any]] | None = None,
    method: Method = "mode",
    overwrite: bool = False,
    progress: bool | None = None,
) -> zarr.Group:
    """Write a label image into an OME-Zarr image's ``labels`` group.

    The labels get the image's axes, scales, translations, chunks and number
    of levels (downsampled by ``method``, default the mode), ``image-label``
    metadata pointing back at the image, and their name is added to
    ``labels/``'s list.

    Parameters
    ----------
    labels : array-like
        Integer labels with the image's shape, except a channel axis (which
        must be absent or of size 1).
    image : str, os.PathLike or zarr.Group
        The image group (written by `write_multiscale` or any OME-Zarr writer).
    name : str
        Name of the label image inside ``labels/``.
    colors : mapping, optional
        Label value -> RGBA (0-255), written as ``image-label.colors``.
    properties : sequence of mappings, optional
        Each with a ``label-value`` key, written as ``image-label.properties``.
    method, overwrite, progress
        As in `write_multiscale`.

    Returns
    -------
    zarr.Group
        The label image group.
    """
    fn = "write_labels()"
    group = image if isinstance(image, zarr.Group) else zarr.open_group(image, mode="r+")
    meta = read_image_metadata(group, fn)
    if not np.issubdtype(np.dtype(labels.dtype), np.integer):
        raise TypeError(f"{fn}: labels dtype {labels.dtype!r} is not an integer type")
    axes = meta.axes
    lshape = tuple(labels.shape)
    caxis = next((i for i, a in enumerate(axes) if a.type == "channel"), None)
    if caxis is not None and len(lshape) == len(axes) - 1:
        labels = _InsertAxis(labels, caxis)
        lshape = tuple(labels.shape)
    want = tuple(1 if i == caxis else s for i, s in enumerate(meta.shape))
    if lshape != want:
        raise ValueError(f"{fn}: labels shape {lshape!r} does not match the image's {want!r}")
    version: Literal["0.4", "0.5"] = "0.5" if group.metadata.zarr_format == 3 else "0.4"
    root = zarr.open_group(
        group.store,
        path=_join(group.path, "labels"),
        mode="a",
        zarr_format=group.metadata.zarr_format,
    )
    image_label: dict[str, Any] = {"source": {"image": "../../"}}
    if colors is not None:
        image_label["colors"] = [
            {"label-value": int(k), "rgba": [int(c) for c in v]} for k, v in colors.items()
        ]
    if properties is not None:
        image_label["properties"] = [dict(p) for p in properties]
    out = write_multiscale(
        labels,
        (group.store, _join(group.path, "labels", name)),
        axes=[{"name": a.name, "type": a.type, "unit": a.unit} for a in axes],
        scale=meta.scale,
        translation=meta.translation,
        chunks=tuple(1 if i == caxis else c for i, c in enumerate(meta.chunks)),
        downscale=meta.downscale,
        levels=meta.levels,
        method=method,
        version=version,
        name=name,
        image_label=image_label,
        overwrite=overwrite,
        progress=progress,
    )
    if version == "0.5":
        attrs: dict[str, Any] = dict(root.attrs)
        ome = dict(attrs.get("ome", {"version": "0.5"}))
        ome["labels"] = sorted({*ome.get("labels", []), name})
        root.attrs["ome"] = ome
    else:
        attrs = dict(root.attrs)
        root.attrs["labels"] = sorted({*attrs.get("labels", []), name})
        zarr.consolidate_metadata(group.store, path=group.path or None)
    return out


# ---------------------------------------------------------------------------
# levels and arrays
# ---------------------------------------------------------------------------


def _plane_default(
    value: int | Sequence[int] | Mapping[str, int] | None,
    names: list[str],
    spatial: list[int],
    plane: int,
    fn: str,
    what: str,
) -> list[int]:
    """Per-axis sizes; an int (or None: ``plane``) sets the last two spatial axes."""
    yx = spatial[-2:]
    if value is None or isinstance(value, int | np.integer):
        size = plane if value is None else int(value)
        out = [size if i in yx else 1 for i in range(len(names))]
    else:
        out = [int(v) for v in per_axis(value, names, 1, fn, what)]
    if any(v < 1 for v in out if not (what == "shards" and v == 0)):
        raise ValueError(f"{fn}: {what}={value!r} must be >= 1 on every axis")
    return out


def _level_shapes(
    shape: tuple[int, ...],
    factor: list[int],
    chunk: list[int],
    spatial: list[int],
    levels: int | None,
) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    """Shapes and cumulative factors of every level (level 0 first)."""
    # the stop rule looks at the displayed plane (y, x) when it is downsampled
    plane = [i for i in spatial[-2:] if factor[i] > 1] or [i for i in spatial if factor[i] > 1]
    shapes = [shape]
    factors = [(1,) * len(shape)]
    while levels is None or len(shapes) < levels:
        cur = shapes[-1]
        step = [f if (i in spatial and cur[i] > 1) else 1 for i, f in enumerate(factor)]
        if all(s == 1 for s in step):
            break
        if levels is None and all(cur[i] <= chunk[i] for i in plane):
            break
        shapes.append(tuple(-(-s // f) for s, f in zip(cur, step, strict=True)))
        factors.append(tuple(a * f for a, f in zip(factors[-1], step, strict=True)))
    return shapes, factors


def _create_level(
    group: zarr.Group,
    path: str,
    shape: tuple[int, ...],
    dtype: np.dtype[Any],
    chunk: list[int],
    shard: list[int] | None,
    names: list[str],
    version: str,
) -> zarr.Array:
    chunks = tuple(max(1, min(c, s)) for c, s in zip(chunk, shape, strict=True))
    kwargs: dict[str, Any] = {"shape": shape, "dtype": dtype, "chunks": chunks, "fill_value": 0}
    if version == "0.5":
        kwargs["dimension_names"] = names
        if shard is not None:
            # whole chunks per shard, no larger than the (chunk-rounded) level
            kwargs["shards"] = tuple(
                c * max(1, min(-(-sh // c), -(-s // c)))
                for c, sh, s in zip(chunks, shard, shape, strict=True)
            )
    else:
        from numcodecs import Blosc

        kwargs["chunk_key_encoding"] = {"name": "v2", "separator": "/"}
        kwargs["compressor"] = Blosc(cname="zstd", clevel=5, shuffle=Blosc.SHUFFLE)
    return group.create_array(path, **kwargs)


def _block_shape(array: zarr.Array) -> tuple[int, ...]:
    """The unit one writer owns: the shard if sharded, else the chunk."""
    shards = array.shards
    return tuple(shards if shards is not None else array.chunks)


def _grid(shape: tuple[int, ...], block: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(-(-s // b) for s, b in zip(shape, block, strict=True))


def _join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


# ---------------------------------------------------------------------------
# block processing
# ---------------------------------------------------------------------------


def _run_level(
    pool: ThreadPoolExecutor,
    window: int,
    out: zarr.Array,
    read: Callable[[tuple[slice, ...]], Any],
    ratio: tuple[int, ...],
    method: str,
    bar: Any,
) -> None:
    """Fill ``out`` block by block from ``read`` (the level above, or the source).

    At most ``window`` blocks are in flight: memory stays a few blocks per worker.
    """
    block = _block_shape(out)
    pending: deque[Future[None]] = deque()
    lock = threading.Lock()

    def work(index: tuple[int, ...]) -> None:
        out_sl = tuple(
            slice(i * b, min((i + 1) * b, s))
            for i, b, s in zip(index, block, out.shape, strict=True)
        )
        in_sl = tuple(slice(o.start * r, o.stop * r) for o, r in zip(out_sl, ratio, strict=True))
        values = np.asarray(read(in_sl))
        if any(r > 1 for r in ratio):
            values = downsample(values, ratio, method)
        out[out_sl] = values.astype(out.dtype, copy=False)
        if bar is not None:
            with lock:
                bar.update(1)

    for index in _indices(_grid(out.shape, block)):
        pending.append(pool.submit(work, index))
        if len(pending) >= window:
            pending.popleft().result()
    while pending:
        pending.popleft().result()


def _indices(grid: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    return itertools.product(*(range(g) for g in grid))


def downsample(values: np.ndarray, ratio: Sequence[int], method: str) -> np.ndarray:
    """Downsample ``values`` by an integer ``ratio`` per axis (output: ceil(shape / ratio)).

    ``"mean"`` averages only the pixels present in partial edge blocks;
    ``"nearest"`` takes each block's first pixel; ``"mode"`` the most frequent
    value (ties: the largest).
    """
    ratio = tuple(int(r) for r in ratio)
    if method == "nearest":
        return values[tuple(slice(None, None, r) for r in ratio)]
    out_shape = tuple(-(-s // r) for s, r in zip(values.shape, ratio, strict=True))
    pad = [(0, o * r - s) for o, r, s in zip(out_shape, ratio, values.shape, strict=True)]
    split = tuple(v for o, r in zip(out_shape, ratio, strict=True) for v in (o, r))
    factor_axes = tuple(range(1, 2 * len(ratio), 2))
    if method == "mean":
        acc = (
            np.float32 if values.dtype.itemsize <= 2 or values.dtype == np.float32 else np.float64
        )
        if values.dtype == np.bool_:
            acc = np.float32
        padded = np.pad(values, pad) if any(p[1] for p in pad) else values
        total = np.zeros(out_shape, dtype=acc)
        for offset in itertools.product(*(range(r) for r in ratio)):
            total += padded[tuple(slice(o, None, r) for o, r in zip(offset, ratio, strict=True))]
        count = np.ones((), dtype=acc)
        for axis, (o, r, s) in enumerate(zip(out_shape, ratio, values.shape, strict=True)):
            n = np.full(o, r, dtype=acc)
            n[-1] = s - (o - 1) * r  # a partial last block holds fewer pixels
            count = count * n.reshape([-1 if a == axis else 1 for a in range(len(ratio))])
        total /= count  # in place from here on: memory is a few blocks per worker
        if values.dtype == np.bool_:
            return total >= 0.5
        if np.issubdtype(values.dtype, np.integer):
            info = np.iinfo(values.dtype)
            np.rint(total, out=total)
            np.clip(total, info.min, info.max, out=total)
        return total.astype(values.dtype)
    if method == "mode":
        padded = np.pad(values, pad, mode="edge") if any(p[1] for p in pad) else values
        blocks = (
            padded.reshape(split)
            .transpose(*range(0, 2 * len(ratio), 2), *factor_axes)
            .reshape(*out_shape, -1)
        )
        blocks = np.sort(blocks, axis=-1)
        k = blocks.shape[-1]
        counts = np.zeros(blocks.shape, dtype=np.int32)
        for j in range(k):
            counts += blocks == blocks[..., j : j + 1]
        # the last maximum in sorted order: ties go to the largest value
        best = k - 1 - np.argmax(counts[..., ::-1], axis=-1)
        return np.take_along_axis(blocks, best[..., None], axis=-1)[..., 0]
    raise ValueError(f"downsample(): method {method!r} is not one of 'mean', 'nearest', 'mode'")


class _InsertAxis:
    """A read-only view of ``data`` with a new axis of size 1 at ``axis``."""

    def __init__(self, data: Any, axis: int) -> None:
        self._data = data
        self._axis = axis
        self.shape = (*data.shape[:axis], 1, *data.shape[axis:])
        self.dtype = np.dtype(data.dtype)

    def __getitem__(self, key: tuple[slice, ...]) -> np.ndarray:
        inner = key[: self._axis] + key[self._axis + 1 :]
        return np.expand_dims(np.asarray(self._data[inner]), self._axis)


def _progress_bar(total: int, progress: bool | None, desc: str) -> Any:
    if progress is False or (progress is None and total <= 256):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="block")
