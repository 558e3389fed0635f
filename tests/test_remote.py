"""Remote stores: images read over real HTTP (Python's http.server on 127.0.0.1).

The images are written to a directory with ``write_multiscale`` and then
read only through ``http://127.0.0.1:<port>/...`` URLs (zarr-python's
FsspecStore over aiohttp); the server's request log shows what was fetched.
Servers with added latency and with failing chunk paths come from
``tests/_httpserver.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import zarr

from simplezarr._open import open as sz_open
from simplezarr.utils._chunkread import ChunkReadError
from simplezarr.utils._pyramid import write_multiscale
from simplezarr.utils.chunkpool import ChunkPool
from simplezarr.utils.multiscale import MultiscaleInfo
from tests._httpserver import ServedDirectory, serve_directory

NAME = "image.ome.zarr"


def _write(root: Path, version: str, **kwargs: object) -> np.ndarray:
    data = np.random.default_rng(11).integers(0, 65535, (2, 600, 700), dtype=np.uint16)
    write_multiscale(
        data,
        root / NAME,
        axes="cyx",
        chunks=128,
        scale=[1.0, 0.5, 0.5],
        version=version,  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )
    return data


def _chunk_path(version: str, level: int, index: tuple[int, ...]) -> str:
    sep = "/c/" if version == "0.5" else "/"
    return f"/{NAME}/{level}{sep}{'/'.join(map(str, index))}"


@pytest.fixture(params=["0.5", "0.4"])
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def served(tmp_path: Path, version: str) -> Iterator[ServedDirectory]:
    _write(tmp_path, version)
    with serve_directory(tmp_path) as srv:
        yield srv


def test_open_reads_everything_over_http(served: ServedDirectory, version: str) -> None:
    node = sz_open(f"{served.url}/{NAME}")
    assert isinstance(node, zarr.Group)
    assert type(node.store).__name__ == "FsspecStore"
    local = zarr.open_group(str(served.root / NAME), mode="r")
    level1 = node["1"]
    assert isinstance(level1, zarr.Array)
    np.testing.assert_array_equal(level1[...], local["1"][...])
    chunks = served.chunk_requests()
    assert chunks and all(p.startswith(f"/{NAME}/1/") for p in chunks)
    assert _chunk_path(version, 1, (1, 2, 2)) in chunks
    (remote_info,) = MultiscaleInfo.from_zarr_node(node)
    (local_info,) = MultiscaleInfo.from_zarr_node(local)
    assert [(s.shape, s.scale, s.offset) for s in remote_info.scales] == [
        (s.shape, s.scale, s.offset) for s in local_info.scales
    ]
    if version == "0.4":
        # consolidated metadata: one document instead of one per array
        assert f"/{NAME}/.zmetadata" in served.requests
        levels = [f"/{NAME}/{s.path}/.zarray" for s in local_info.scales]
        assert not set(levels) & set(served.requests)


def test_sharded_v3_reads_inner_chunks_with_range_requests(tmp_path: Path) -> None:
    data = _write(tmp_path, "0.5", shards=512)
    with serve_directory(tmp_path) as srv:
        node = sz_open(f"{srv.url}/{NAME}")
        assert isinstance(node, zarr.Group)
        np.testing.assert_array_equal(node["0"][1, 130:250, 0:128], data[1, 130:250, 0:128])
        (pool,) = ChunkPool.from_zarr_node(node)
        try:
            chunk = pool.get_chunk(0, (0, 4, 5))
            chunk.wait()
            np.testing.assert_array_equal(chunk.data, data[0:1, 512:600, 640:700])
        finally:
            pool.destroy()
        assert srv.ranges and all(p.startswith(f"/{NAME}/0/c/") for p, _ in srv.ranges)


def test_chunk_pool_loads_in_parallel_behind_latency(tmp_path: Path, version: str) -> None:
    data = _write(tmp_path, version)
    with serve_directory(tmp_path, latency=0.05) as srv:
        node = sz_open(f"{srv.url}/{NAME}")
        (pool,) = ChunkPool.from_zarr_node(node)
        try:
            wanted = [(1, iy, ix) for iy in range(3) for ix in range(3)]
            chunks = [pool.get_chunk(0, index) for index in wanted]
            pool.wait_for_chunks_to_load()
            for chunk, (c, iy, ix) in zip(chunks, wanted, strict=True):
                region = data[c : c + 1, iy * 128 : (iy + 1) * 128, ix * 128 : (ix + 1) * 128]
                np.testing.assert_array_equal(chunk.data, region)
        finally:
            pool.destroy()
        assert srv.max_in_flight > 1  # the reads overlapped on the wire
        assert {_chunk_path(version, 0, i) for i in wanted} <= set(srv.chunk_requests())


def test_failing_chunks_are_named_and_the_pool_stays_usable(tmp_path: Path, version: str) -> None:
    data = _write(tmp_path, version)
    bad = _chunk_path(version, 0, (0, 1, 1))
    with serve_directory(tmp_path, fail=lambda path: path == bad) as srv:
        node = sz_open(f"{srv.url}/{NAME}")
        # zarr itself: the error names the chunk's URL
        with pytest.raises(Exception, match="500") as info:
            node["0"][0, 0:300, 0:300]  # type: ignore[index]
        assert bad in str(info.value)
        (pool,) = ChunkPool.from_zarr_node(node)
        try:
            good = pool.get_chunk(0, (0, 1, 2))
            failing = pool.get_chunk(0, (0, 1, 1))
            with pytest.raises(ChunkReadError, match=r"chunk \(0, 1, 1\) of level 0") as err:
                pool.wait_for_chunks_to_load()
            assert "500" in str(err.value)
            np.testing.assert_array_equal(good.data, data[0:1, 128:256, 256:384])
            with pytest.raises(RuntimeError, match="failed to load"):
                failing.data  # noqa: B018
            # the server recovers: drop the failed chunk and ask again
            srv.fail = lambda path: False
            pool.drop_chunk(0, (0, 1, 1))
            again = pool.get_chunk(0, (0, 1, 1))
            again.wait()
            np.testing.assert_array_equal(again.data, data[0:1, 128:256, 128:256])
            other = pool.get_chunk(1, (1, 0, 0))
            other.wait()
            assert other.data.shape == (1, 128, 128)
        finally:
            pool.destroy()
        assert srv.failed and set(srv.failed) == {bad}


def test_s3_urls_go_through_the_same_path(tmp_path: Path) -> None:
    """``s3://`` uses FsspecStore like http; only checked against a local moto server."""
    pytest.importorskip("s3fs")
    moto_server = pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="x",
            aws_secret_access_key="x",
            region_name="us-east-1",
        )
        s3.create_bucket(Bucket="demo")
        data = _write(tmp_path, "0.5")
        for file in (tmp_path / NAME).rglob("*"):
            if file.is_file():
                s3.upload_file(
                    str(file), "demo", f"{NAME}/{file.relative_to(tmp_path / NAME).as_posix()}"
                )
        options = {"key": "x", "secret": "x", "client_kwargs": {"endpoint_url": endpoint}}
        node = sz_open(f"s3://demo/{NAME}", storage_options=options)
        assert isinstance(node, zarr.Group)
        np.testing.assert_array_equal(node["0"][1, :128, :128], data[1, :128, :128])
        # The viewer opens the same URL, and its pool reads chunks from the bucket.
        from simplezarr import Viewer

        viewer = Viewer(f"s3://demo/{NAME}", storage_options=options)
        try:
            scale = viewer.multiscale_info.scales[0]
            assert viewer.levels[0]["shape"] == list(scale.spatial_shape[-2:])
            chunk = viewer.pool.get_chunk(0, (1,) + (0,) * (scale.array.ndim - 1))
            chunk.wait()
            region = tuple(slice(0, c) for c in chunk.data.shape[1:])
            np.testing.assert_array_equal(chunk.data[0], data[(1, *region)])
        finally:
            viewer.close()
    finally:
        server.stop()
