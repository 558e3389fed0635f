"""Tier A: the I/O panel (``show_stats``) and the chunk grid (``show_chunks``) in Chromium.

The real bundle against the real Viewer (``_harness.py``). After the view
settles, the panel's numbers (its text, as a person reads it) equal the
pool's own counters read in Python, and the count of tiles the page itself
received; the chunk grid's cells, sampled on the overlay canvas at each
chunk's centre, have the colour of that chunk's state in the pool, a failed
chunk (a failing wrapper store) the failed colour.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from typing import Any

import pytest
import zarr

from simplezarr.viewer.widget import Viewer
from tests.browser._harness import ROOT, WAIT_MS, hosted, root_data, settled, until
from tests.browser._servers import require_chromium, screenshot_dir
from tests.viewer._pyramids import pyramid_store

pytestmark = pytest.mark.browser

_UNITS = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}


async def _fields(page: Any) -> dict[str, str]:
    """The panel's numbers by field (the ``stats`` key each shows)."""
    return dict(
        await page.evaluate(
            f"""() => [...document.querySelectorAll('{ROOT} .sz-iopanel [data-field]')]
            .map((e) => [e.dataset.field, e.textContent])"""
        )
    )


def _close(text: str, value: float, units: dict[str, float]) -> bool:
    """Whether ``text`` ("12.3 MB", "4.2 ms") shows ``value`` to its last printed digit."""
    m = re.fullmatch(r"(\d+(?:\.(\d+))?) ?(\S+)", text)
    assert m is not None, text
    shown, decimals, unit = float(m[1]), len(m[2] or ""), m[3]
    return abs(shown - value / units[unit]) <= 0.5 * 10.0**-decimals + 1e-9


async def _wait_fields(page: Any, want: dict[str, str]) -> dict[str, str]:
    await page.wait_for_function(
        f"""(want) => {{ const got = {{}};
        for (const e of document.querySelectorAll('{ROOT} .sz-iopanel [data-field]'))
          got[e.dataset.field] = e.textContent;
        return Object.entries(want).every(([k, v]) => got[k] === v); }}""",
        arg=want,
        timeout=WAIT_MS,
    )
    return await _fields(page)


async def _served(page: Any, viewer: Viewer) -> None:
    """Wait until the kernel has served the page's last viewport and the page has settled."""
    await page.evaluate(
        "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"
    )
    seq = int((await root_data(page))["seq"])
    await asyncio.wait_for(until(lambda: any(s.seq >= seq for s in viewer.views.values())), 30)
    await asyncio.wait_for(viewer.wait_idle(), 30)
    await settled(page)


def test_the_io_panel_shows_the_pools_own_counters() -> None:
    require_chromium()
    asyncio.run(_panel())


async def _panel() -> None:
    viewer = Viewer(zarr.open_group(pyramid_store(), mode="r"), height=360)
    async with hosted(viewer) as (page, _bridge, problems):
        await settled(page)
        panel = page.locator(f"{ROOT} .sz-iopanel")
        assert not await panel.is_visible()
        await page.locator(f"{ROOT} .sz-stats").click()
        await asyncio.wait_for(until(lambda: viewer.show_stats is True), 30)
        await panel.wait_for(state="visible", timeout=WAIT_MS)

        # Someone pans and zooms: reads, cache traffic, tiles.
        await page.locator(f"{ROOT} .sz-canvas").focus()
        for key in ["+", "+", "ArrowLeft", "ArrowLeft", "ArrowUp", "-"]:
            await page.keyboard.press(key)
        await _served(page, viewer)
        pool = viewer.pool.stats()
        received = viewer._io.totals.tiles
        await page.wait_for_function(
            f"(n) => document.querySelector('{ROOT}').dataset.tilesReceived === String(n)",
            arg=received,
            timeout=WAIT_MS,
        )
        assert pool.reads > 0 and pool.cache_hits > 0 and received > 0
        f = await _wait_fields(
            page,
            {
                "reads": str(pool.reads),
                "tiles_sent": str(received),
                "cache_hits": str(pool.cache_hits),
                "held": str(pool.held),
                "cached": str(pool.cached),
                "reads_in_flight": "0",
                "reads_queued": "0",
            },
        )
        pool = viewer.pool.stats()  # unchanged since the view settled
        assert f["reads"] == str(pool.reads)
        assert f["cache_gets"] == str(pool.cache_hits + pool.cache_misses)
        for level, (held, cached) in enumerate(
            zip(pool.held_per_level, pool.cached_per_level, strict=True)
        ):
            if held or cached:
                assert (f[f"level{level}.held"], f[f"level{level}.cached"]) == (
                    str(held),
                    str(cached),
                )
        assert _close(f["memory"], pool.memory, _UNITS)
        assert pool.memory_budget is not None
        assert _close(f["memory_budget"], pool.memory_budget, _UNITS)
        assert _close(f["bytes_read"], pool.bytes_read, _UNITS)
        assert pool.mean_read_seconds is not None and pool.hit_rate is not None
        assert _close(f["read_ms"], pool.mean_read_seconds * 1000, {"ms": 1})
        assert _close(f["hit_rate"], pool.hit_rate * 100, {"%": 1})
        totals = viewer._io.totals
        assert _close(f["bytes_sent"], totals.bytes_sent, _UNITS)
        assert _close(f["encode_ms"], 1000 * totals.encode_seconds / totals.encodes, {"ms": 1})
        await page.screenshot(path=str(screenshot_dir() / "io-panel.png"))

        # The toggle writes the trait back; from Python it hides too.
        viewer.show_stats = False
        await panel.wait_for(state="hidden", timeout=WAIT_MS)
        assert await page.locator(f"{ROOT} .sz-stats").get_attribute("aria-pressed") == "false"
        assert problems == [], problems
    viewer.close()


def test_the_chunk_grid_colours_each_chunk_by_its_state_in_the_pool() -> None:
    require_chromium()
    asyncio.run(_grid())


async def _colors(page: Any) -> dict[str, tuple[int, int, int]]:
    """The legend's colour of each state."""
    items = await page.evaluate(
        f"""() => [...document.querySelectorAll('{ROOT} .sz-chunk-legend-item')].map((e) =>
        [e.dataset.state, getComputedStyle(e.querySelector('.sz-chunk-swatch')).backgroundColor])"""
    )
    out = {}
    for state, css in items:
        m = re.fullmatch(r"rgb\((\d+), (\d+), (\d+)\)", css)
        assert m is not None, css
        out[state] = (int(m[1]), int(m[2]), int(m[3]))
    return out


async def _overlay_pixels(page: Any, points: list[tuple[int, int]]) -> list[list[int]]:
    """RGBA of the chunk grid's canvas at device pixels ``(y, x)``."""
    return list(
        await page.evaluate(
            f"""(pts) => {{ const c = document.querySelector('{ROOT} .sz-chunkgrid');
            const ctx = c.getContext('2d');
            return pts.map(([y, x]) => [...ctx.getImageData(x, y, 1, 1).data]); }}""",
            points,
        )
    )


async def _grid() -> None:
    store = pyramid_store(fail={"0/c/1/2"})
    viewer = Viewer(zarr.open_group(store, mode="r"), height=400, retry_after=1e6)
    async with hosted(viewer) as (page, _bridge, problems):
        await page.wait_for_function(
            f"() => document.querySelector('{ROOT}').dataset.tilesFailed === '1'",
            timeout=WAIT_MS,
        )
        await page.locator(f"{ROOT} .sz-chunks").click()
        await asyncio.wait_for(until(lambda: viewer.show_chunks is True), 30)
        level = viewer.views[next(iter(viewer.views))].level
        states = viewer.pool.chunk_states(level)
        counts = {s: sum(1 for v in states.values() if v == s) for s in _STATES}
        assert counts["failed"] == 1 and counts["held"] > 1
        await page.wait_for_function(
            f"""(want) => {{ const d = document.querySelector('{ROOT}').dataset;
            return d.showChunks === '1' && d.chunks === want; }}""",
            arg=json.dumps(counts, separators=(",", ":")),
            timeout=WAIT_MS,
        )
        d = dict(await page.evaluate(f"() => ({{...document.querySelector('{ROOT}').dataset}})"))
        assert int(d["chunksLevel"]) == level
        colors = await _colors(page)
        assert len(set(colors.values())) == 4

        # Sample the overlay at each chunk's centre: its state's colour, translucent.
        cam = json.loads(d["camera"])
        info = viewer.levels[level]
        dpr = await page.evaluate("() => window.devicePixelRatio")
        points, want = [], []
        for (iy, ix), state in sorted(states.items()):
            centre = []
            for axis, i in ((0, iy), (1, ix)):
                c, n = info["chunk"][axis], info["shape"][axis]
                pixel = (i * c + min((i + 1) * c, n)) / 2 - 0.5
                world = info["offset"][axis] + pixel * info["scale"][axis]
                css = (world - cam["center"][axis]) / cam["scale"] + cam["size"][axis] / 2
                centre.append(math.floor(css * dpr))
            points.append((centre[0], centre[1]))
            want.append(colors[state])
        for (y, x), rgba, rgb in zip(
            points, await _overlay_pixels(page, points), want, strict=True
        ):
            assert 60 <= rgba[3] <= 120, (y, x, rgba)  # translucent: the image shows through
            assert max(abs(a - b) for a, b in zip(rgba[:3], rgb, strict=True)) <= 4, (y, x, rgba)
        assert states[(1, 2)] == "failed"  # the chunk the store fails
        legend = await page.locator(f"{ROOT} .sz-chunk-legend").inner_text()
        assert re.sub(r"\s+", " ", legend).strip() == " ".join(f"{s} {counts[s]}" for s in _STATES)
        viewer.show_stats = True
        await page.locator(f"{ROOT} .sz-iopanel").wait_for(state="visible", timeout=WAIT_MS)
        await _wait_fields(page, {"read_failures": "1"})
        await page.screenshot(path=str(screenshot_dir() / "chunk-grid.png"))

        # Off: the overlay is cleared and hidden.
        await page.locator(f"{ROOT} .sz-chunks").click()
        await page.wait_for_function(
            f"() => document.querySelector('{ROOT}').dataset.showChunks === '0'",
            timeout=WAIT_MS,
        )
        assert not await page.locator(f"{ROOT} .sz-chunkgrid").is_visible()
        assert viewer._chunk_states == {}
        assert problems == [], problems
    viewer.close()


_STATES = ("held", "cached", "loading", "failed")
