"""ComputedImage on a real dask.distributed LocalCluster: values, errors, cancellation.

The cluster runs its 2 workers in this process (``processes=False``: starts in
a fraction of a second), except the one ``slow`` test that checks the source
and ``fn`` really travel to worker processes. Waits are on futures and events
with timeouts, never on time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

from simplezarr import ComputedImage
from simplezarr.utils import ChunkReadError, MultiscaleInfo
from simplezarr.utils._pyramid import write_multiscale

distributed = pytest.importorskip("distributed")

WAIT = 30.0


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture
def image() -> np.ndarray:
    return np.random.default_rng(7).integers(0, 1000, (200, 150), dtype=np.uint16)


def _mean3_of_image(image: np.ndarray) -> np.ndarray:
    padded = np.pad(image.astype(np.float64), 1, "edge")
    h, w = image.shape
    return sum(padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)) / 9


def _mean3(block: np.ndarray) -> np.ndarray:
    h, w = block.shape
    return (
        sum(
            block[dy : h - 2 + dy, dx : w - 2 + dx].astype(np.float64)
            for dy in range(3)
            for dx in range(3)
        )
        / 9
    )


_SLOW = (threading.Event(), threading.Event())  # started, release: for _slow, run in this process


def _slow(block: np.ndarray) -> np.ndarray:
    """Waits to be released (a module function: dask pickles it by reference)."""
    _SLOW[0].set()
    _SLOW[1].wait(WAIT)
    return block


def test_chunks_computed_on_the_cluster_equal_fn_of_the_data(
    client: Any, image: np.ndarray, tmp_path: Path
) -> None:
    write_multiscale(image, zarr.storage.LocalStore(tmp_path / "a.zarr"), chunks=64)
    memory = zarr.storage.MemoryStore()
    write_multiscale(image, memory, chunks=64)
    (in_memory,) = MultiscaleInfo.from_zarr_node(zarr.open_group(memory, mode="r"))
    for source in (str(tmp_path / "a.zarr"), in_memory):
        ci = ComputedImage(source, _mean3, halo=1, client=client)  # fn returns the chunk shape
        assert "on a dask cluster" in repr(ci)
        with ci.pool() as pool:
            chunks = {
                i: pool.get_chunk(0, i)
                for i in np.ndindex(*ci.multiscale_info.scales[0].chunk_grid_shape)
            }
            pool.wait_for_chunks_to_load(timeout=WAIT)
            whole = np.empty(image.shape)
            for (iy, ix), chunk in chunks.items():
                whole[
                    iy * 64 : iy * 64 + chunk.data.shape[0],
                    ix * 64 : ix * 64 + chunk.data.shape[1],
                ] = chunk.data
        np.testing.assert_allclose(whole, _mean3_of_image(image), rtol=1e-12)
        ci.close()


def test_an_error_in_fn_on_the_cluster_is_that_chunks_failure(
    client: Any, image: np.ndarray
) -> None:
    def refuse(block: np.ndarray) -> np.ndarray:
        if block.shape[0] < 64:
            raise ArithmeticError("an edge chunk")
        return block

    memory = zarr.storage.MemoryStore()
    write_multiscale(image, memory, chunks=64)
    (info,) = MultiscaleInfo.from_zarr_node(zarr.open_group(memory, mode="r"))
    ci = ComputedImage(info, refuse, dtype="uint16", client=client, name="edges")
    with ci.pool() as pool:
        good = pool.get_chunk(0, (0, 0))
        bad = pool.get_chunk(0, (3, 0))  # rows 192..200
        good.wait(timeout=WAIT)
        np.testing.assert_array_equal(good.data, image[:64, :64])
        with pytest.raises(ChunkReadError) as caught:
            bad.wait(timeout=WAIT)
    text = str(caught.value)
    assert (
        "ComputedImage 'edges': level 0 chunk (3, 0): refuse raised ArithmeticError: an edge chunk"
        in text
    )
    cause: BaseException | None = caught.value
    while cause is not None and not isinstance(cause, ArithmeticError):
        cause = cause.__cause__
    assert isinstance(cause, ArithmeticError)  # chained, across the cluster too


def test_dropping_a_chunk_being_computed_cancels_its_dask_future(
    client: Any, image: np.ndarray
) -> None:
    started, release = _SLOW
    started.clear()
    release.clear()
    ci = ComputedImage(image, _slow, dtype="uint16", client=client)
    pool = ci.pool()
    try:
        pool.get_chunk(0, (0, 0))
        assert started.wait(WAIT)
        (key,) = [k for keys in client.processing().values() for k in keys]
        task = distributed.Future(key, client)  # the same key as the image's own future
        assert task.status == "pending"
        pool.drop_chunk(0, (0, 0))
        with pytest.raises(distributed.client.FutureCancelledError):
            task.result(timeout=WAIT)
        assert task.status == "cancelled"
    finally:
        release.set()
        pool.destroy()


@pytest.mark.slow
def test_worker_processes_open_the_source_themselves(image: np.ndarray, tmp_path: Path) -> None:
    write_multiscale(image, zarr.storage.LocalStore(tmp_path / "a.zarr"), chunks=64)
    first = ComputedImage(str(tmp_path / "a.zarr"), lambda b: b.astype(np.int32) - 500)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        ci = ComputedImage(first, np.abs, client=c)  # a chain: the worker computes `first` too
        got = zarr.open_group(ci, mode="r")["0"][...]
        np.testing.assert_array_equal(got, np.abs(image.astype(np.int32) - 500))
        pids = c.run(lambda: __import__("os").getpid())
        assert __import__("os").getpid() not in pids.values()
        ci.close()
