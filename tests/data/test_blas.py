"""Tests for simplezarr/data/_blas.py: one BLAS thread while demo data is computed."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from simplezarr.data import _blas


def _counts() -> list[int]:
    """Thread counts of the BLAS libraries loaded in this process, as threadpoolctl sees them."""
    return [int(lib["num_threads"]) for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_one_thread_inside_restored_after() -> None:
    np.ones((4, 4)) @ np.ones((4, 4))
    before = _counts()
    if not before:
        pytest.skip("no BLAS library loaded in this process")
    with _blas.one_blas_thread():
        assert _counts() == [1] * len(before)
        inner_started = threading.Event()
        release = threading.Event()

        def other_user() -> None:
            with _blas.one_blas_thread():
                inner_started.set()
                assert release.wait(timeout=30)

        t = threading.Thread(target=other_user)
        t.start()
        assert inner_started.wait(timeout=30)
    # the other user is still inside: still one thread
    assert _counts() == [1] * len(before)
    release.set()
    t.join(timeout=30)
    assert not t.is_alive()
    assert _counts() == before


def test_users_own_limits_still_work_after_a_worker_thread_used_it() -> None:
    from threadpoolctl import threadpool_limits

    np.ones((4, 4)) @ np.ones((4, 4))
    before = _counts()
    if not before:
        pytest.skip("no BLAS library loaded in this process")

    def worker() -> None:
        with _blas.one_blas_thread():
            pass

    t = threading.Thread(target=worker)
    t.start()
    t.join(timeout=30)
    assert _counts() == before
    with threadpool_limits(limits=1, user_api="blas"):  # the user's own limit, main thread
        assert _counts() == [1] * len(before)
    assert _counts() == before
