"""A closed Viewer is freed, with its pool and its image; memory stays flat over many.

anywidget turns a ``Path`` ``_esm`` into a file-watching object whose signal
keeps, for every instance ever made, a callback that references it: closed
viewers (and the arrays they show) were never collected. The viewer now hands
anywidget the bundle's text, read once per process.
"""

from __future__ import annotations

import gc
import time
import weakref
from typing import Any

import numpy as np
import pytest

from simplezarr.viewer import widget as widget_module
from simplezarr.viewer.widget import Viewer

from .test_widget import message, ready, viewer_with_recorder, viewport

pytestmark = pytest.mark.skipif(
    not widget_module._BUNDLE_FOUND, reason="front-end bundle not built (npm run build)"
)

_SETTLE = 10.0  # seconds for work in flight at close() to end


def _image(seed: int, shape: tuple[int, int] = (3000, 1000)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, shape, dtype=np.uint8)


def _open_show_close(seed: int) -> tuple[weakref.ref[Any], ...]:
    """One cycle as a user makes it: open on a numpy array, show a view, close."""
    data = _image(seed)
    viewer, rec = viewer_with_recorder(data)
    message(viewer, ready("a"))
    message(viewer, viewport("a", 0, [1500.0, 500.0], 4.0, [400.0, 600.0]))
    viewer.flush_now()
    assert rec.tiles()
    refs = (weakref.ref(viewer), weakref.ref(viewer.pool), weakref.ref(data))
    viewer.close()
    return refs


def _alive_after_close(refs: list[tuple[weakref.ref[Any], ...]]) -> list[list[bool]]:
    """Which of ``refs`` are still alive once work in flight at close has ended.

    A read or a statistics job running on a worker thread when ``close()`` came
    holds its objects until it ends (bounded by the read timeout); polled with
    a deadline, collecting each time.
    """
    deadline = time.monotonic() + _SETTLE
    while True:
        gc.collect()
        alive = [[r() is not None for r in cycle] for cycle in refs]
        if not any(map(any, alive)) or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def test_the_bundle_is_text_and_anywidget_gets_it() -> None:
    assert isinstance(Viewer._esm, str) and "\n" in Viewer._esm
    assert Viewer._esm == widget_module._ESM_PATH.read_text(encoding="utf-8")
    viewer = Viewer(_image(0, (64, 64)))
    state = viewer.get_state()
    assert state["_esm"] == Viewer._esm  # what the front end loads
    viewer.close()


def test_a_closed_viewer_its_pool_and_its_image_are_collected() -> None:
    refs = [_open_show_close(seed) for seed in range(3)]
    alive = _alive_after_close(refs)
    assert alive == [[False, False, False]] * 3, "viewer, pool, image alive per cycle"


def test_an_open_viewer_stays_registered_until_closed() -> None:
    """ipywidgets keeps open widgets in its registry: closing is what frees a viewer."""
    viewer = Viewer(_image(1, (64, 64)))
    ref = weakref.ref(viewer)
    del viewer
    gc.collect()
    kept = ref()
    assert kept is not None
    kept.close()
    del kept
    gc.collect()
    assert ref() is None


def _rss() -> int:
    psutil = pytest.importorskip("psutil")
    gc.collect()
    return int(psutil.Process().memory_info().rss)


@pytest.mark.slow
def test_memory_is_flat_over_fifty_open_close_cycles() -> None:
    # Warm up: thread pools, malloc arenas, caches reach their plateau.
    for seed in range(10):
        _open_show_close(seed)
    before = _rss()
    refs = [_open_show_close(100 + seed) for seed in range(50)]
    growth = _rss() - before
    alive = _alive_after_close(refs)
    # Each cycle's image is 3 MB (+1 MB of pyramid): a leak grows by about 200 MB.
    assert growth < 60 << 20, f"RSS grew by {growth / 2**20:.0f} MB over 50 cycles"
    assert not any(map(any, alive)), [(i, a) for i, a in enumerate(alive) if any(a)]
