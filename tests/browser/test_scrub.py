"""Chromium: a held step key moves the slider at once and sends planes as the kernel keeps up.

``js/planepacer.ts``: while the plane on screen is incomplete, newer slider
moves wait, and only the newest is sent when that plane completes. Here the
chunk reads of the new plane are held at a gate (a real store wrapper), the
step key is pressed several times, and then the gate opens: the slider showed
the last index at once, the kernel was sent far fewer positions than key
presses (the old front end sent every one, each abandoning the plane before),
and the view ends on the last plane, complete.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest
import zarr
from zarr.storage import MemoryStore

from simplezarr.utils._pyramid import write_multiscale
from simplezarr.viewer.widget import Viewer
from tests._stores import GatedStore
from tests.browser._harness import ROOT, hosted, settled, until

pytestmark = pytest.mark.browser

PRESSES = 5


def test_a_held_step_key_sends_only_the_planes_the_kernel_can_serve() -> None:
    data = np.random.default_rng(6).integers(0, 4000, (8, 300, 400), dtype=np.uint16)
    memory = MemoryStore()
    write_multiscale(data, memory, axes="zyx", chunks=(1, 256, 256))
    store = GatedStore(memory)  # (gated after writing: the pyramid reads level 0 back)
    store.gate.set()
    asyncio.run(_drive(zarr.open_group(store, mode="r"), store))


async def _drive(group: Any, store: GatedStore) -> None:
    viewer = Viewer(group, position={"z": 0}, show_minimap=False)
    sent: list[int] = []
    viewer.observe(lambda change: sent.append(change["new"]["z"]), "position")
    try:
        async with hosted(viewer) as (page, _bridge, problems):
            await settled(page, plane="z=0")
            store.gate.clear()  # the next planes' reads wait
            await page.locator(f"{ROOT} .sz-canvas").focus()
            for _ in range(PRESSES):
                await page.keyboard.press("]")
            slider = page.locator(f"{ROOT} .sz-slider-input").first
            assert await slider.input_value() == str(PRESSES)  # shown at once
            assert sent[0] == 1  # the first move went at once (plane 0 was complete)
            store.gate.set()
            d = await settled(page, plane=f"z={PRESSES}")
            await until(lambda: viewer.position == {"z": PRESSES})
            assert d["plane"] == f"z={PRESSES}"
            # Every move waited for the plane before it: at most one per patience timeout
            # (2 s) besides, never one per key press.
            assert sent[-1] == PRESSES and len(sent) < PRESSES, sent
            assert problems == []
    finally:
        viewer.close()
