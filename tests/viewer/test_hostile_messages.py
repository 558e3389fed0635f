"""Front-end messages are untrusted: nothing raises out of the handler, nothing poisons a view.

Property-based (hypothesis) over the message schema, plus the cases that used
to break: an integer centre beyond the float range (``OverflowError``), and a
finite but enormous scale that passed parsing and broke the next position
change. One message can only queue the chunks that fit the per-view budget.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simplezarr.viewer import widget as widget_module
from simplezarr.viewer._protocol import MAX_SEQ
from simplezarr.viewer.widget import Viewer

from .conftest import Recorder, make_image
from .test_widget import message, ready, viewer_with_recorder, viewport

pytestmark = pytest.mark.skipif(
    not widget_module._BUNDLE_FOUND, reason="front-end bundle not built (npm run build)"
)


@pytest.fixture(scope="module")
def served() -> Any:
    """A small z-stack viewer in sync mode, and its recorder."""
    data = np.random.default_rng(3).integers(0, 4000, (3, 256, 320), dtype=np.uint16)
    _, group, _ = make_image(data, axes="zyx", chunks=(1, 64, 64))
    viewer, rec = viewer_with_recorder(group)
    yield viewer, rec
    viewer.close()


def normal(view: str = "a", seq: int = MAX_SEQ) -> dict[str, Any]:
    """A sane viewport; ``seq`` MAX_SEQ is never older than what came before."""
    return viewport(view, seq, [128.0, 160.0], 1.0, [256.0, 320.0])


def assert_still_served(viewer: Viewer, rec: Recorder, view: str = "a") -> None:
    """A normal viewport after whatever came before: every wanted tile arrives."""
    rec.clear()
    message(viewer, ready(view))  # afresh: all its tiles are sent again
    message(viewer, normal(view))
    viewer.flush_now()
    streamer = viewer.views[view]
    assert streamer.level == 0 and len(streamer.wanted_keys) == 20  # 4 x 5 chunks
    assert {m["key"] for m, _ in rec.tiles() if m["view"] == view} == set(streamer.wanted_keys)
    status = rec.of_type("status")[-1][0]
    assert status["pending"] == 0 and status["failed"] == 0


def test_a_centre_beyond_the_float_range_is_malformed(
    served: Any, caplog: pytest.LogCaptureFixture
) -> None:
    viewer, rec = served
    with caplog.at_level(logging.WARNING, logger="simplezarr"):
        message(viewer, viewport("a", 1, [10**400, 0], 1.0, [100.0, 100.0]))
    (record,) = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert "'center' must be a finite number" in record.getMessage()
    assert len(record.getMessage()) < 400  # the 401-digit number is shortened
    assert_still_served(viewer, rec)


def test_an_enormous_scale_and_size_do_not_poison_the_view(
    served: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Finite but enormous: their product was inf, and the next position change raised."""
    viewer, rec = served
    message(viewer, ready("big"))
    message(viewer, viewport("big", 1, [10.0, 10.0], 1.0, [100.0, 100.0]))
    with caplog.at_level(logging.WARNING, logger="simplezarr"):
        message(viewer, viewport("big", 2, [10.0, 10.0], 1e300, [1e300, 1e300]))
    assert any("'size' must be in [0, 16384]" in r.getMessage() for r in caplog.records)
    viewer.position = {"z": 0}
    viewer.flush_now()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert_still_served(viewer, rec, "big")


def test_an_enormous_scale_is_clamped_and_the_view_keeps_working(served: Any) -> None:
    viewer, rec = served
    message(viewer, ready("huge"))
    message(viewer, viewport("huge", 5, [1e300, -1e300], 1e300, [16384.0, 16384.0]))
    streamer = viewer.views["huge"]
    assert streamer.level == len(viewer.levels) - 1  # the whole image: the coarsest level
    viewer.position = {"z": 2}  # used to raise: inf bounds
    viewer.flush_now()
    message(viewer, viewport("huge", 6, [128.0, 160.0], 1e-300, [16384.0, 16384.0]))
    viewer.flush_now()  # zoomed in to the limit: level 0, a few chunks around the centre
    assert streamer.level == 0 and 0 < len(streamer.wanted_keys) <= 9  # 64 + 10% px a side
    assert_still_served(viewer, rec, "huge")


def test_a_huge_string_makes_a_short_log_line(
    served: Any, caplog: pytest.LogCaptureFixture
) -> None:
    viewer, _ = served
    with caplog.at_level(logging.WARNING, logger="simplezarr"):
        message(viewer, {"type": "ready", "view": "x" * 1_000_000})
        message(viewer, {"type": "x" * 1_000_000})
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and all(len(line) < 400 for line in lines)


def test_one_message_queues_at_most_the_view_budget(caplog: pytest.LogCaptureFixture) -> None:
    data = np.zeros((4096, 4096), dtype=np.uint16)  # 16 x 16 chunks of 256 x 256 (128 KiB)
    _, group, _ = make_image(data, axes="yx", chunks=(256, 256), levels=1)
    budget = 40 * 128 * 1024  # memory: a view may want half, 20 chunks
    viewer, _ = viewer_with_recorder(group, memory=budget)
    with caplog.at_level(logging.WARNING, logger="simplezarr"):
        message(viewer, viewport("a", 0, [2048.0, 2048.0], 1.0, [4096.0, 4096.0]))
        message(viewer, viewport("a", 1, [2000.0, 2100.0], 1.0, [4096.0, 4096.0]))
    streamer = viewer.views["a"]
    assert len(streamer.held) == 20 and len(streamer.wanted_keys) == 20
    nbytes = sum(256 * 256 * 2 for _ in streamer.held)
    assert nbytes <= budget // 2
    # the 20 nearest the centre (2000, 2100): chunk (7, 8) holds it
    assert "0/7/8/" in streamer.wanted_keys[0]
    (cut,) = [r for r in caplog.records if "nearest its centre" in r.getMessage()]
    assert "view a" in cut.getMessage() and "level 0" in cut.getMessage()
    viewer.close()


# -- properties ------------------------------------------------------------------------

_numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**500), max_value=10**500),
    st.sampled_from([0, -0.0, 1e-320, 1e308, -1e308, 2**53, 2**64, 10**309]),
)
_json = st.recursive(
    st.none() | st.booleans() | _numbers | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
_views = st.one_of(st.sampled_from(["a", "b"]), st.text(max_size=200), _json)


@st.composite
def _messages(draw: st.DrawFn) -> Any:
    """Anything JSON-like, often shaped like a real message with odd fields."""
    kind = draw(st.sampled_from(["ready", "close", "viewport", "histogram", "probe", "other"]))
    if kind == "other":
        return draw(_json)
    msg: dict[str, Any] = {"type": kind, "view": draw(_views)}
    fields = {
        "ready": [("version", st.one_of(st.integers(-3, 5), _json))],
        "probe": [
            ("id", st.one_of(st.integers(-(2**70), 2**70), _json)),
            ("world", st.one_of(st.lists(_numbers, min_size=2, max_size=2), _json)),
        ],
        "viewport": [
            ("seq", st.one_of(st.integers(-(2**70), 2**70), _json)),
            ("center", st.one_of(st.lists(_numbers, min_size=2, max_size=2), _json)),
            ("scale", st.one_of(_numbers, _json)),
            ("size", st.one_of(st.lists(_numbers, min_size=2, max_size=2), _json)),
            ("dpr", st.one_of(_numbers, _json)),
            ("channels", st.one_of(st.lists(st.integers(-2, 3), max_size=5), _json)),
        ],
    }.get(kind, [])
    for name, value in fields:
        if draw(st.booleans()) or draw(st.booleans()):  # mostly present
            msg[name] = draw(value)
    return msg


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contents=st.lists(_messages(), min_size=1, max_size=6))
def test_arbitrary_messages_never_raise_and_never_break_the_view(
    served: Any, contents: list[Any]
) -> None:
    viewer, rec = served
    for content in contents:
        viewer._handle_message(viewer, content, [])  # must not raise
    viewer.position = {"z": 1}
    viewer.flush_now()
    for streamer in viewer.views.values():
        bounds = [b for job in streamer._wanted.values() for b in job.bounds]
        assert all(math.isfinite(b) for b in bounds)
    assert_still_served(viewer, rec)


_extreme = st.one_of(
    st.floats(min_value=-1e308, max_value=1e308, allow_nan=False),
    st.sampled_from([1e-300, 1e300, 5e-324, 16384.0, 16.0]),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    center=st.tuples(_extreme, _extreme),
    scale=_extreme.filter(lambda v: v > 0),
    size=st.tuples(
        st.floats(min_value=0, max_value=16384), st.floats(min_value=0, max_value=16384)
    ),
    dpr=st.floats(min_value=1e-300, max_value=16),
    seq=st.integers(min_value=0, max_value=MAX_SEQ),
)
def test_valid_viewports_with_extreme_values_leave_the_view_working(
    served: Any,
    center: tuple[float, float],
    scale: float,
    size: tuple[float, float],
    dpr: float,
    seq: int,
) -> None:
    viewer, rec = served
    content = {
        "type": "viewport",
        "view": "a",
        "seq": seq,
        "center": list(center),
        "scale": scale,
        "size": list(size),
        "dpr": dpr,
        "channels": [0],
    }
    message(viewer, ready("a"))
    message(viewer, content)
    streamer = viewer.views["a"]
    assert streamer.seq == seq  # accepted, not rejected
    assert len(streamer.held) <= 1024
    viewer.position = {"z": 2}
    viewer.flush_now()
    assert_still_served(viewer, rec)
