"""Tests for simplezarr/data/_blas.py: one BLAS thread while demo data is computed."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from simplezarr.data import _blas


def _counts() -> list[int]:
    with _blas._lock:
        if _blas._libs is None:
            _blas._libs = _blas._find()
        return [getter() for _, getter in _blas._libs]


def test_one_thread_inside_restored_after() -> None:
    np.ones((4, 4)) @ np.ones((4, 4))
    before = _counts()
    if not before:
        pytest.skip("no OpenBLAS loaded in this process")
    with _blas.one_blas_thread():
        assert _counts() == [1] * len(before)
        inner_started = threading.Event()
        release = threading.Event()

        def other_user() -> None:
            with _blas.one_blas_thread():
                inner_started.set()
                release.wait()

        t = threading.Thread(target=other_user)
        t.start()
        inner_started.wait()
    # the other user is still inside: still one thread
    assert _counts() == [1] * len(before)
    release.set()
    t.join()
    assert _counts() == before
