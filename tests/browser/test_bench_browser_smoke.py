"""``benchmarks/bench_browser.py --quick`` runs to the end and measures every figure.

The benchmark drives a real JupyterLab in real Chromium (see its docstring);
here it runs once, with small images and short drags, as a separate process
(as a person runs it). Asserted: it exits 0 (no step failed or timed out), and
every figure and its baseline is a finite positive number, with a finite
positive ratio. No time is asserted: the numbers belong in docs/performance.md.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser._servers import REPO, require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]
pytest.importorskip("playwright.sync_api")

RUN_TIMEOUT_S = 1500  # the benchmark bounds each of its waits; this bounds the whole run


@pytest.mark.timeout(RUN_TIMEOUT_S + 60)
def test_bench_browser_quick_measures_every_figure(tmp_path: Path) -> None:
    require_chromium()
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "benchmarks/bench_browser.py", "--quick", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )
    log = proc.stdout[-6000:] + proc.stderr[-3000:]
    assert proc.returncode == 0, log
    report = json.loads(out.read_text())
    assert report["meta"]["failures"] == [], log
    keys = [row["key"] for row in report["figures"]]
    assert keys == [
        "first_picture",
        "zoom_detail",
        "pan_fit_fps",
        "pan_fit_moves",
        "pan_fit_p95",
        "pan_l0_fps",
        "pan_l0_moves",
        "pan_l0_p95",
        "scrub_1ch",
        "scrub_3ch",
    ]
    for row in report["figures"]:
        for name in ("value", "baseline", "ratio"):
            x = row[name]
            assert isinstance(x, float) and math.isfinite(x) and x > 0, (row["key"], name, x, log)
        assert len(row["values"]) == len(row["baselines"]) == 1, row
    # The printed table has a line per figure.
    for row in report["figures"]:
        assert f"| {row['figure']} |" in proc.stdout
