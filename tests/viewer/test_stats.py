"""Display statistics read through the pool: a sample's chunks, and their release."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import zarr

from simplezarr.utils import ChunkPool, MultiscaleInfo, write_multiscale
from simplezarr.viewer._layout import image_layout
from simplezarr.viewer._stats import CoarseSample
from tests._stores import GatedStore


def test_a_sample_released_before_its_reads_end_settles_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = np.arange(3 * 64 * 64, dtype=np.uint16).reshape(3, 64, 64)
    memory = zarr.storage.MemoryStore()
    write_multiscale(data, memory, axes="cyx", chunks=(1, 32, 32))
    store = GatedStore(memory)  # (gated after writing: the pyramid reads level 0 back)
    (info,) = MultiscaleInfo.from_zarr_node(zarr.open_group(store, mode="r"))
    pool = ChunkPool(info)
    layout = image_layout(info)
    try:
        with caplog.at_level(logging.DEBUG):
            sample = CoarseSample(pool, layout, {"c": 0}, channels=[0, 1, 2])
            assert not sample.future.done()  # its reads wait at the gate
            sample.release()
            store.gate.set()
            assert sample.future.cancelled()
            pool.destroy()
        # Cancelled reads settle the sample without an error from a done-callback.
        noisy = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert noisy == [], [r.getMessage() for r in noisy]
    finally:
        store.gate.set()
        pool.destroy()
