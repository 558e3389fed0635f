"""Computed images: ``fn(block) -> block`` applied to another image's chunks as they are read.

``ComputedImage(source, fn)`` is a multiscale image whose every chunk is
``fn`` of the source's chunk at the same level and index (a threshold, a
filter, a model's prediction), computed when the chunk is read, never
before. It is itself a read-only Zarr v3 store holding an OME-Zarr 0.5
group, so everything that reads images reads it unchanged::

    ci = simplezarr.ComputedImage("image.ome.zarr", lambda b: b > 1000)
    simplezarr.open(ci)["0"][0:100, 0:100]       # zarr: computes 1 chunk
    pool = ci.pool(cache_size=64)                # a ChunkPool of it
    Viewer(ci)                                   # computed as it is viewed

Design
------
**Metadata.** The group has the source image's axes, levels (as arrays
``"0"``, ``"1"``, ...), shapes, chunk grid (the source's read chunk, so one
computed chunk is one source chunk) and coordinate transforms (the source's
scale and pixel-centre offset per level), the output dtype, the source's
channel labels and colours (not its contrast windows: they describe other
values), no compression. ``dtype=None`` finds the dtype by calling ``fn``
once on a tiny block of zeros of the source's dtype (at most 4 pixels per
axis, plus the halo); pass ``dtype=`` when ``fn`` cannot take such a block.
Outputs are cast to that dtype.

**The block and the shape rule.** ``fn`` gets a fresh, writable numpy array
with the source's axes: the chunk's region grown by ``halo`` pixels on each
side of every spatial axis (y/x, and z if present), neighbouring chunks'
data inside the image and the nearest edge pixel repeated outside it. It
returns either that shape (the halo is cropped away) or the chunk's own
shape; anything else fails the chunk with an error naming ``fn``, the level,
the chunk and both shapes.

**Reading and bounds.** The source is read through one
:class:`~simplezarr.utils.ChunkPool` shared by all chunks of the image
(bounded: 64 chunks, 256 MB of cache), each computation holding the source
chunks it needs only while it runs. ``fn`` runs on compute threads, never
on an event loop; every wait is bounded by ``timeout`` (default 60 s), past
which the chunk fails with an error naming it (a pool reading the image
also applies its own ``read_timeout``: the smaller one wins). See
:mod:`simplezarr._computed_run`.

**Errors.** ``fn`` raising fails that chunk only: the read raises an error
naming ``ComputedImage``, the image, ``fn``'s name, the level and the chunk,
chained to the original exception; a pool reports it as a
:class:`~simplezarr.utils.ChunkReadError` (and a viewer as a failed tile
with that message).

**Replacing fn.** ``ci.fn = new_fn`` increases ``ci.generation``, destroys
every chunk of the pools made by :meth:`ComputedImage.pool` (tracked
weakly; their users' drop and destroy handlers are called, and a later
get computes with ``new_fn``), then calls the callbacks registered with
:meth:`ComputedImage.on_change` (in the setting thread), so a viewer can
get what it shows again. A pool made otherwise (``ChunkPool(info)``)
keeps what it holds or caches: call its ``destroy()`` from an
``on_change`` callback. A computation that ends after the change is
redone with ``new_fn``, so no read returns the old function's result.
A ComputedImage whose source is another one follows its source's changes.

**On a dask cluster** (``client=`` a ``dask.distributed.Client``, the
``dask`` extra): each chunk is one task, ``client.submit(..., pure=False)``,
computed where it runs: the worker opens the source itself from a
description sent once with ``client.scatter`` (a path or URL is opened
again there; an in-memory source, such as a numpy array or a zarr
``MemoryStore``, is sent with its data, once; a ComputedImage source is
computed on the worker) and reads its region through a pool of its own.
When the chunk is no longer wanted (a pool dropped it while it was being
computed, or the timeout passed) its dask future is cancelled.
"""

from __future__ import annotations

import logging
import math
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from simplezarr._computed_block import fn_name, source_pool
from simplezarr._computed_meta import documents, infer_dtype, pick_image
from simplezarr._computed_run import MAX_DEPTH, ChunkComputer
from simplezarr._computed_store import ComputedStore
from simplezarr._open import open as open_source
from simplezarr.utils.chunkpool import ChunkPool
from simplezarr.utils.multiscale import MultiscaleInfo

__all__ = ["ComputedImage"]

logger = logging.getLogger("simplezarr")

_FN = "ComputedImage()"
Fn = Callable[[np.ndarray], Any]


class _Subscription:
    """A registered :meth:`ComputedImage.on_change` callback; :meth:`remove` unregisters it."""

    def __init__(self, image: ComputedImage, key: int) -> None:
        self._image = weakref.ref(image)
        self._key = key

    def remove(self) -> None:
        """Stop calling the callback (idempotent)."""
        image = self._image()
        if image is not None:
            with image._lock:
                image._callbacks.pop(self._key, None)


class ComputedImage(ComputedStore):
    """A multiscale image computed chunk by chunk from another: ``fn(block) -> block``.

    A read-only Zarr v3 store (an OME-Zarr group); see the module docstring
    for the design.

    Parameters
    ----------
    source : path, URL, store, zarr node, numpy array, MultiscaleInfo or ComputedImage
        Anything :func:`simplezarr.open` accepts, a
        :class:`~simplezarr.utils.MultiscaleInfo`, or another ComputedImage
        (a chain: its chunks are computed first).
    fn : callable
        ``fn(block)`` returns the computed block (see the shape rule in the
        module docstring). Replace it later with ``ci.fn = new_fn``.
    dtype : numpy dtype, optional
        Output dtype (bool, integer or float). Default: the dtype of ``fn``
        applied to a tiny block of zeros of the source's dtype.
    halo : int
        Pixels of neighbouring data on each side of each spatial axis that
        ``fn`` gets with the chunk (for filters). Default 0.
    client : dask.distributed.Client, optional
        Compute each chunk on that cluster (needs ``pip install simplezarr[dask]``).
    name : str, optional
        The image's name; default ``"<fn name>(<source name>)"``.
    image : int or str
        Which image of a source holding several: index, path or name.
    storage_options : dict, optional
        fsspec options for a URL source.
    timeout : float
        Seconds one chunk may take (reading its source and ``fn``). Default 60.

    Raises
    ------
    TypeError, ValueError
        A bad argument, an unusable dtype, or ``fn`` failing on the tiny
        block when ``dtype`` must be found; the message names the value.
    ImportError
        ``client=`` given without ``distributed`` installed.
    """

    def __init__(
        self,
        source: Any,
        fn: Fn,
        *,
        dtype: Any = None,
        halo: int = 0,
        client: Any = None,
        name: str | None = None,
        image: int | str = 0,
        storage_options: dict[str, Any] | None = None,
        timeout: float = 60.0,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"{_FN}: fn must be callable, got {fn!r}")
        if isinstance(halo, bool) or not isinstance(halo, int | np.integer) or halo < 0:
            raise ValueError(f"{_FN}: halo must be an integer >= 0, got {halo!r}")
        if isinstance(timeout, bool) or not (
            isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0
        ):
            raise ValueError(f"{_FN}: timeout must be a finite number > 0, got {timeout!r}")
        if client is not None:
            _check_distributed()
        upstream = source if isinstance(source, ComputedImage) else None
        if upstream is not None:
            info = upstream.multiscale_info
            depth = upstream.depth + 1
            if depth >= MAX_DEPTH:
                raise ValueError(f"{_FN}: chains of at most {MAX_DEPTH} ComputedImages")
        elif isinstance(source, MultiscaleInfo):
            info, depth = source, 0
        else:
            node = open_source(source, storage_options=storage_options)
            info, depth = pick_image(MultiscaleInfo.from_zarr_node(node), image, source), 0
        out = infer_dtype(fn, info, int(halo)) if dtype is None else np.dtype(dtype)
        if out.kind not in "biuf":
            raise ValueError(f"{_FN}: dtype {out} is not supported (use bool, int, uint or float)")
        self._name = name if name is not None else f"{fn_name(fn)}({info.name})"
        super().__init__(
            documents(info, out, self._name), [(s.shape, s.chunk_shape) for s in info.scales]
        )
        self._source_info = info
        self._upstream = upstream
        self._depth = depth
        self._fn: Fn = fn
        self._dtype = out
        self._dtype_given = dtype is not None
        self._halo = int(halo)
        self._timeout = float(timeout)
        self._generation = 0
        self._client = client
        self._local_state()
        if upstream is not None:
            self._upstream_sub: _Subscription | None = upstream.on_change(
                _follow(weakref.ref(self))
            )

    def _local_state(self) -> None:
        """What lives in this process only (not pickled): threads, pools, callbacks."""
        self._computer: ChunkComputer | None = None
        self._info: MultiscaleInfo | None = None
        self._pools: weakref.WeakSet[ChunkPool] = weakref.WeakSet()
        self._callbacks: dict[int, Callable[[ComputedImage], Any]] = {}
        self._next_key = 0

    # -- identity and pickling ------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        return other is self

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        where = "on a dask cluster" if self._client is not None else "locally"
        return (
            f"ComputedImage({self._name!r}, fn={fn_name(self._fn)}, dtype={self._dtype}, "
            f"halo={self._halo}, levels={len(self._levels)}, {where})"
        )

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        for key in ("_computer", "_info", "_pools", "_callbacks", "_next_key", "_upstream_sub"):
            state.pop(key, None)
        state["_client"] = None  # a copy (e.g. on a dask worker) computes where it is
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._local_state()
        self._upstream_sub = None

    # -- public ----------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The image's name."""
        return self._name

    @property
    def dtype(self) -> np.dtype[Any]:
        """The output dtype (fixed when the image is made)."""
        return self._dtype

    @property
    def halo(self) -> int:
        """Pixels of neighbouring data ``fn`` gets on each side of each spatial axis."""
        return self._halo

    @property
    def timeout(self) -> float:
        """Seconds one chunk may take."""
        return self._timeout

    @property
    def depth(self) -> int:
        """0 for an image computed from stored data; 1 + its source's for a chain."""
        return self._depth

    @property
    def generation(self) -> int:
        """Increases by one each time ``fn`` (or a ComputedImage source's ``fn``) changes."""
        return self._generation

    @property
    def source(self) -> MultiscaleInfo:
        """The source image's metadata."""
        return self._source_info

    @property
    def fn(self) -> Fn:
        """The function; setting it recomputes what is read next (see the module docstring).

        A new ``fn`` whose output cannot be cast to the image's dtype
        (``numpy.can_cast(..., "same_kind")``, tried on a tiny block) is
        refused with a ``ValueError``, unless ``dtype=`` was given.
        """
        return self._fn

    @fn.setter
    def fn(self, fn: Fn) -> None:
        if not callable(fn):
            raise TypeError(f"ComputedImage.fn: must be callable, got {fn!r}")
        if not self._dtype_given:
            got = infer_dtype(fn, self._source_info, self._halo, "ComputedImage.fn")
            if not np.can_cast(got, self._dtype, "same_kind"):
                raise ValueError(
                    f"ComputedImage.fn: {fn_name(fn)} returns {got}, which does not cast to "
                    f"the image's dtype {self._dtype}; make a new ComputedImage (or pass dtype=)"
                )
        with self._lock:
            self._fn = fn
        self._changed()

    @property
    def multiscale_info(self) -> MultiscaleInfo:
        """This image's :class:`~simplezarr.utils.MultiscaleInfo` (read from its own metadata)."""
        with self._lock:
            info = self._info
        if info is None:
            import zarr

            (info,) = MultiscaleInfo.from_zarr_node(zarr.open_group(self, mode="r"))
            with self._lock:
                self._info = info
        return info

    def pool(self, **kwargs: Any) -> ChunkPool:
        """A :class:`~simplezarr.utils.ChunkPool` of this image, cleared when ``fn`` changes.

        ``kwargs`` go to ``ChunkPool`` (``cache_size``, ``read_timeout``
        (default: this image's ``timeout``), ``memory_budget``).
        """
        kwargs.setdefault("read_timeout", self._timeout)
        pool = ChunkPool(self.multiscale_info, **kwargs)
        with self._lock:
            self._pools.add(pool)
        return pool

    def on_change(self, callback: Callable[[ComputedImage], Any]) -> _Subscription:
        """Call ``callback(image)`` after each change of ``fn`` (in the thread that set it).

        Returns a handle whose ``remove()`` unregisters the callback. An
        exception in a callback is logged, never raised.
        """
        if not callable(callback):
            raise TypeError(
                f"ComputedImage.on_change(): callback must be callable, got {callback!r}"
            )
        with self._lock:
            key = self._next_key
            self._next_key += 1
            self._callbacks[key] = callback
        return _Subscription(self, key)

    def close(self) -> None:
        """Free the source pool and the data scattered to a cluster (made again if read)."""
        with self._lock:
            computer = self._computer
        if computer is not None:
            computer.close()

    # -- internals -------------------------------------------------------------------

    def _current(self) -> tuple[Fn, int]:
        with self._lock:
            return self._fn, self._generation

    def _changed(self) -> None:
        with self._lock:
            self._generation += 1
            pools = list(self._pools)
            callbacks = list(self._callbacks.values())
            computer = self._computer
        if computer is not None:
            computer.source_changed()  # (only matters for a chain: its source changed)
        for pool in pools:
            pool.destroy()
        for callback in callbacks:
            try:
                callback(self)
            except Exception:
                logger.exception(
                    "simplezarr: ComputedImage %r: on_change callback raised", self._name
                )

    def _make_source_pool(self) -> ChunkPool:
        if self._upstream is not None:
            return source_pool_of(self._upstream, self._timeout)
        return source_pool(self._source_info, self._timeout)

    def _computer_now(self) -> ChunkComputer:
        with self._lock:
            if self._computer is None:
                self._computer = ChunkComputer(
                    name=self._name,
                    source=self._source_info,
                    make_source_pool=self._make_source_pool,
                    halo=self._halo,
                    dtype=self._dtype,
                    timeout=self._timeout,
                    current=self._current,
                    client=self._client,
                    depth=self._depth,
                )
            return self._computer

    async def _chunk_bytes(self, level: int, index: tuple[int, ...]) -> bytes:
        where = f"ComputedImage {self._name!r}: level {level} chunk {index}"
        return await self._computer_now().chunk(level, index, where)


def source_pool_of(upstream: ComputedImage, timeout: float) -> ChunkPool:
    """A chained image's source pool: tracked by its source, so cleared when that changes."""
    from simplezarr._computed_block import SOURCE_BUDGET, SOURCE_CACHE

    return upstream.pool(
        cache_size=SOURCE_CACHE, read_timeout=timeout, memory_budget=SOURCE_BUDGET
    )


def _follow(ref: weakref.ref[ComputedImage]) -> Callable[[ComputedImage], None]:
    """The on_change callback a chained image registers on its source (holding it weakly)."""

    def changed(_source: ComputedImage) -> None:
        image = ref()
        if image is not None:
            image._changed()

    return changed


def _check_distributed() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{_FN}: client= needs dask.distributed ({exc}); "
            "install it with pip install 'simplezarr[dask]'"
        ) from exc
