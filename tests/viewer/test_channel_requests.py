"""Channels over the wire: tiles per channel, the value under the cursor, histograms, auto
contrast and the protocol version, against real stores (wrapped to count or gate reads).

Waits are on events and futures with timeouts, never on time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import zarr
from zarr.storage import MemoryStore

from simplezarr.viewer import widget as widget_module
from simplezarr.viewer.widget import Viewer
from tests._stores import CountingStore, GatedStore

from .conftest import Recorder, decode_values, make_image
from .test_widget import message, ready, viewport

pytestmark = pytest.mark.skipif(
    not widget_module._BUNDLE_FOUND, reason="front-end bundle not built (npm run build)"
)


def wrapped(store: Any) -> zarr.Group:
    """The image in a wrapping test store (mode "r+": "r" would copy the wrapper)."""
    return zarr.open_group(store, mode="r+")


def chunk_reads(store: CountingStore) -> dict[str, int]:
    return {k: n for k, n in store.gets.items() if "/c/" in f"/{k}"}


def probe(view: str, probe_id: int, world: list[float]) -> dict[str, Any]:
    return {"type": "probe", "view": view, "id": probe_id, "world": world}


@pytest.fixture
def gates() -> Iterator[list[GatedStore]]:
    """Gated stores to open at teardown, so that no read thread stays blocked."""
    opened: list[GatedStore] = []
    yield opened
    for store in opened:
        store.gate.set()


def test_each_channel_is_a_tile_and_a_chunk_of_several_channels_is_read_once() -> None:
    data = np.random.default_rng(1).integers(0, 60000, (3, 200, 300), dtype=np.uint16)
    _, _, base = make_image(data, axes="cyx", chunks=(3, 128, 128), levels=1)
    counting = CountingStore(base)
    viewer = Viewer(wrapped(counting), contrast_limits=(0, 1))
    rec = Recorder()
    viewer.send = rec
    # uint16: the range is observed, in a sample of the coarsest (here the only) level: its
    # 6 chunks, each read once for the 3 channels; the tiles below use the pool's copies
    assert sorted(chunk_reads(counting).values()) == [1] * 6
    whole = [100.0, 150.0], 1.0, [200.0, 300.0]
    message(viewer, ready("a"))
    message(viewer, viewport("a", 0, *whole, channels=[0, 1, 2]))
    viewer.flush_now()
    tiles = rec.tiles()
    assert len(tiles) == 6 * 3
    for m, png in tiles:
        iy, ix = m["chunk"]
        assert m["key"] == f"0/{iy}/{ix}//{m['channel']}" and m["plane"] == ""
        ref = data[m["channel"], iy * 128 : (iy + 1) * 128, ix * 128 : (ix + 1) * 128]
        np.testing.assert_array_equal(decode_values(m, png), ref)
    assert sorted(chunk_reads(counting).values()) == [1] * 6  # 6 chunks, each read once

    rec.clear()
    message(viewer, viewport("a", 1, *whole, channels=[0, 2]))  # channel 1 hidden
    viewer.flush_now()
    assert sorted(rec.dropped()) == sorted(m["key"] for m, _ in tiles if m["channel"] == 1)
    assert rec.tiles() == [] and sorted(chunk_reads(counting).values()) == [1] * 6

    rec.clear()
    message(viewer, viewport("a", 2, *whole, channels=[0, 1, 2]))  # shown again
    viewer.flush_now()
    assert {m["channel"] for m, _ in rec.tiles()} == {1} and len(rec.tiles()) == 6
    assert rec.dropped() == [] and sorted(chunk_reads(counting).values()) == [1] * 6
    viewer.close()


def test_a_30_channel_image_reads_only_the_channels_asked_for() -> None:
    data = np.random.default_rng(2).integers(0, 255, (30, 64, 64), dtype=np.uint8)
    _, _, base = make_image(data, axes="cyx", chunks=(1, 64, 64), levels=1)
    counting = CountingStore(base)
    viewer = Viewer(wrapped(counting), contrast_limits=(0, 255))
    rec = Recorder()
    viewer.send = rec
    assert len(viewer.channels) == 30 and sum(c.visible for c in viewer.channels) == 7
    message(viewer, ready("a"))
    message(viewer, viewport("a", 0, [32.0, 32.0], 1.0, [64.0, 64.0], channels=[3, 29]))
    viewer.flush_now()
    assert sorted(m["channel"] for m, _ in rec.tiles()) == [3, 29]
    assert sorted(chunk_reads(counting)) == ["0/c/29/0/0", "0/c/3/0/0"]
    for m, png in rec.tiles():
        np.testing.assert_array_equal(decode_values(m, png), data[m["channel"]])
    viewer.close()


def test_the_tiles_of_many_channels_stay_within_max_tiles() -> None:
    data = np.zeros((5, 512, 512), dtype=np.uint16)
    _, group, _ = make_image(data, axes="cyx", chunks=(1, 64, 64), levels=1)
    viewer = Viewer(group, contrast_limits=(0, 1), max_tiles=12)
    message(viewer, viewport("a", 0, [256.0, 256.0], 1.0, [512.0, 512.0], [0, 1, 2, 3, 4]))
    streamer = viewer.views["a"]
    assert len(streamer.wanted_keys) == 10  # 2 chunks x 5 channels <= 12
    assert len(streamer.held) == 10
    viewer.close()


@pytest.fixture(scope="module")
def floats() -> tuple[zarr.Group, np.ndarray]:
    """Two float channels with a NaN and a -inf, two levels, chunks of 32."""
    data = np.random.default_rng(4).normal(10, 3, (2, 60, 80)).astype(np.float32)
    data[0, 10, 20] = np.nan
    data[1, 59, 79] = -np.inf
    _, group, _ = make_image(data, axes="cyx", chunks=(1, 32, 32), levels=2)
    return group, data


def test_probe_answers_the_exact_level_0_values_of_the_channels_shown(floats: Any) -> None:
    group, data = floats
    viewer = Viewer(group, contrast_limits=(0, 1))
    rec = Recorder()
    viewer.send = rec
    message(viewer, ready("a"))  # zoomed out: the view holds level 1, not level 0
    message(viewer, viewport("a", 0, [30.0, 40.0], 2.0, [30.0, 40.0], channels=[0, 1]))
    viewer.flush_now()
    assert viewer.views["a"].level == 1
    rec.clear()

    message(viewer, probe("a", 1, [33.2, 41.7]))  # pixel (33, 42): centres at integers
    (answer,) = [m for m, _ in rec.of_type("probe")]
    assert answer == {
        "type": "probe",
        "view": "a",
        "layer": 0,
        "properties": None,
        "id": 1,
        "world": [33.2, 41.7],
        "index": [33, 42],
        "values": [
            {"channel": c, "value": float(data[c, 33, 42]), "text": answer["values"][c]["text"]}
            for c in (0, 1)
        ],
    }
    for v in answer["values"]:  # for people: 4 significant digits
        assert float(v["text"]) == pytest.approx(v["value"], rel=1e-3)
        assert len(v["text"].replace(".", "").lstrip("-0")) == 4

    rec.clear()
    message(viewer, probe("a", 2, [10.0, 20.0]))  # the NaN
    message(viewer, probe("a", 2, [0.0, 0.0]))  # not a newer id: ignored
    message(viewer, probe("a", 3, [-40.0, 20.0]))  # outside the image
    answers = [m for m, _ in rec.of_type("probe")]
    assert [a["id"] for a in answers] == [2, 3]
    assert answers[0]["index"] == [10, 20] and answers[0]["values"][0] == {
        "channel": 0,
        "value": None,
        "text": "NaN",
    }
    assert answers[1]["index"] is None and answers[1]["values"] == []
    rec.clear()
    message(viewer, probe("not-live", 1, [10.0, 20.0]))  # never said ready: not answered
    assert rec.of_type("probe") == []

    message(viewer, viewport("a", 1, [30.0, 40.0], 2.0, [30.0, 40.0], channels=[1]))
    rec.clear()
    message(viewer, probe("a", 4, [59.0, 79.0]))  # only the view's channels
    ((answer,),) = [[m for m, _ in rec.of_type("probe")]]
    assert answer["values"] == [{"channel": 1, "value": None, "text": "-inf"}]
    # the probe held its chunks only while answering
    assert all(not ref.startswith("probe") for c in viewer.pool.iter_chunks() for ref in c.refs)
    viewer.close()


@pytest.mark.timeout(60)  # a read waited for on the loop would hang here
def test_only_the_newest_probe_of_a_view_is_answered(gates: list[GatedStore]) -> None:
    data = np.arange(2 * 64 * 64, dtype=np.uint16).reshape(2, 64, 64)
    base = MemoryStore()
    make_image(data, base, axes="cyx", chunks=(1, 32, 32), levels=1)
    gated = GatedStore(base)
    gates.append(gated)

    async def main() -> Recorder:
        viewer = Viewer(wrapped(gated), contrast_limits=(0, 1))
        rec = Recorder()
        viewer.send = rec
        message(viewer, ready("a"))
        message(viewer, probe("a", 1, [5.0, 5.0]))  # chunk (0, 0): its read waits at the gate
        assert await asyncio.to_thread(gated.started.acquire, True, 30)
        message(viewer, probe("a", 2, [40.0, 50.0]))  # chunk (1, 1): the first is dropped
        assert rec.of_type("probe") == []  # nothing answered while the reads wait
        gated.gate.set()
        await asyncio.wait_for(viewer.wait_idle(), 30)
        viewer.close()
        return rec

    rec = asyncio.run(main())
    (answer,) = [m for m, _ in rec.of_type("probe")]
    assert answer["id"] == 2 and answer["index"] == [40, 50]
    assert [v["value"] for v in answer["values"]] == [int(data[0, 40, 50]), int(data[1, 40, 50])]


@pytest.mark.timeout(60)
def test_histograms_are_computed_on_request_off_the_loop(gates: list[GatedStore]) -> None:
    data = np.random.default_rng(6).integers(0, 256, (3, 96, 128), dtype=np.uint8)
    base = MemoryStore()
    make_image(data, base, axes="cyx", chunks=(1, 32, 32), levels=2)
    gated = GatedStore(base)
    gates.append(gated)

    async def main() -> Viewer:
        viewer = Viewer(wrapped(gated), contrast_limits=(0, 1))  # uint8: nothing to read
        viewer.send = Recorder()
        assert all(c.histogram == [] for c in viewer.channels)
        message(viewer, ready("a"))
        message(viewer, viewport("a", 0, [48.0, 64.0], 4.0, [24.0, 32.0], channels=[0, 2]))
        await asyncio.to_thread(gated.started.acquire, True, 30)  # tiles wait at the gate
        message(viewer, {"type": "histogram", "view": "a"})  # returns: the read is queued
        assert all(c.histogram == [] for c in viewer.channels)
        gated.gate.set()
        await asyncio.wait_for(viewer.wait_idle(), 30)
        viewer.close()
        return viewer

    viewer = asyncio.run(main())
    coarsest = viewer.multiscale_info.scales[-1].array
    for c in (0, 2):
        counts, _ = np.histogram(np.asarray(coarsest[c]), bins=64, range=(0, 255))
        assert viewer.channels[c].histogram == counts.tolist()
    assert viewer.channels[1].histogram == []  # not shown in that view: not computed


def test_auto_contrast_from_the_view_or_the_coarsest_level() -> None:
    rng = np.random.default_rng(7)
    data = rng.integers(0, 4000, (3, 256, 256), dtype=np.uint16)
    data[1] //= 8
    _, group, _ = make_image(data, axes="cyx", chunks=(1, 64, 64), levels=3)
    viewer = Viewer(group, contrast_limits=(0, 1))
    viewer.send = Recorder()
    message(viewer, ready("a"))  # a view of the top-left quarter at level 0 (+ margin: 3 x 3)
    message(viewer, viewport("a", 0, [63.5, 63.5], 1.0, [128.0, 128.0], channels=[0, 1, 2]))
    viewer.flush_now()
    viewer.channels[2].visible = False
    future = viewer.auto_contrast()  # no loop: done when it returns
    assert future.done()
    for c in (0, 1):
        shown = data[c, :192, :192].astype(np.float64)  # the 3 x 3 chunks the view holds
        expected = list(np.percentile(shown, [0.5, 99.5]))
        assert viewer.channels[c].contrast_limits == pytest.approx(expected)
    assert viewer.channels[2].contrast_limits == [0.0, 1.0]  # hidden: not changed
    viewer.auto_contrast(view=False)
    coarsest = viewer.multiscale_info.scales[-1].array
    for c in (0, 1):
        expected = list(np.percentile(np.asarray(coarsest[c]), [0.5, 99.5]))
        assert viewer.channels[c].contrast_limits == pytest.approx(expected)
    viewer.channel_mode = "single"
    viewer.position = {"c": 2}
    viewer.auto_contrast(view=False)  # single mode: the current channel
    expected = list(np.percentile(np.asarray(coarsest[2]), [0.5, 99.5]))
    assert viewer.channels[2].contrast_limits == pytest.approx(expected)
    assert viewer.contrast_limits == pytest.approx(expected)
    viewer.close()


def test_auto_contrast_in_a_notebook_applies_later_on_the_loop() -> None:
    data = np.random.default_rng(8).integers(100, 300, (64, 64), dtype=np.uint16)
    _, group, _ = make_image(data, axes="yx", chunks=(32, 32), levels=1)

    async def main() -> tuple[list[float], list[float]]:
        viewer = Viewer(group, contrast_limits=(0, 1))
        viewer.send = Recorder()
        message(viewer, ready("a"))
        message(viewer, viewport("a", 0, [31.5, 31.5], 1.0, [64.0, 64.0]))
        await asyncio.wait_for(viewer.wait_idle(), 30)
        future = viewer.auto_contrast()
        before = list(viewer.channels[0].contrast_limits)
        await asyncio.wait_for(asyncio.wrap_future(future), 30)
        after = list(viewer.contrast_limits)
        viewer.close()
        return before, after

    before, after = asyncio.run(main())
    assert before == [0.0, 1.0]  # not computed on the loop, in the call
    assert after == pytest.approx(list(np.percentile(data.astype(float), [0.5, 99.5])))


def test_a_front_end_of_another_protocol_version_is_named_and_not_served(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = np.zeros((64, 64), dtype=np.uint8)
    viewer = Viewer(data)
    rec = Recorder()
    viewer.send = rec
    with caplog.at_level(logging.WARNING, logger="simplezarr"):
        message(viewer, {"type": "ready", "view": "old"})  # version 1 had no version field
        message(viewer, {"type": "ready", "view": "new", "version": 4})
    warnings = [r.getMessage() for r in caplog.records]
    assert any(
        "view old speaks protocol version 1 but this kernel speaks 3" in w for w in warnings
    )
    assert any("view new speaks protocol version 4" in w for w in warnings)
    for view in ("old", "new"):
        message(viewer, viewport(view, 0, [32.0, 32.0], 1.0, [64.0, 64.0]))
        message(viewer, probe(view, 1, [3.0, 3.0]))
    viewer.flush_now()
    assert rec.messages == [] and viewer.views == {}
    message(viewer, ready("old"))  # reloaded with a matching front end: served
    message(viewer, viewport("old", 1, [32.0, 32.0], 1.0, [64.0, 64.0]))
    viewer.flush_now()
    assert len(rec.tiles()) == 1
    viewer.close()


@pytest.mark.timeout(60)  # a wait on the gate would hang here: fail fast
def test_default_contrast_arrives_later_and_spares_what_the_user_set(
    gates: list[GatedStore],
) -> None:
    data = np.random.default_rng(9).integers(0, 4000, (3, 64, 80), dtype=np.uint16)
    base = MemoryStore()
    make_image(data, base, axes="cyx", chunks=(1, 32, 32), levels=2)
    gated = GatedStore(base)
    gates.append(gated)

    async def main() -> tuple[list[list[float]], Viewer]:
        viewer = Viewer(wrapped(gated))  # returns at once: its sample waits at the gate
        first = [list(c.contrast_limits) for c in viewer.channels]
        assert await asyncio.to_thread(gated.started.acquire, True, 30)
        viewer.channels[1].contrast_limits = [5.0, 6.0]
        gated.gate.set()
        await asyncio.wait_for(viewer.wait_idle(), 30)
        viewer.close()
        return first, viewer

    first, viewer = asyncio.run(main())
    assert first == [[0.0, 65535.0]] * 3  # provisional: the dtype's range
    coarsest = viewer.multiscale_info.scales[-1].array
    for c in (0, 2):
        expected = list(np.percentile(np.asarray(coarsest[c]), [0.5, 99.5]))
        assert viewer.channels[c].contrast_limits == pytest.approx(expected)
    assert viewer.channels[1].contrast_limits == [5.0, 6.0]  # the user's stays
    assert all(len(c.histogram) == 64 for c in viewer.channels)  # from the same sample
