"""Run numpy's matrix products on one BLAS thread while demo data is computed.

Why
---
The noise generator (`simplezarr.data._noise`) spends its time in many
small matrix products (512 x ~200 x 512), from several worker threads at
once. OpenBLAS splits each product over all cores and its threads then spin
waiting for the next one; with our own threads on top, a 2-core machine
burnt 2.5x the CPU time and wrote the 8k demo 5x slower (measured: 45 s
versus 8.7 s for 256 tiles). One BLAS thread per worker thread is the fast
and fair setting.

How
---
`threadpoolctl` finds the BLAS libraries loaded in the process (OpenBLAS,
MKL, BLIS, on any OS) and sets their thread count. The setting is
process-wide while our users are per thread, so `one_blas_thread` is
reference-counted: the first user to enter sets one thread, the last one to
leave restores the previous counts. The libraries are looked up once, on
first use (after numpy is imported, so numpy's BLAS is among them).

First and last users are often different threads (the virtual image renders
chunks on zarr's worker threads). threadpoolctl >= 3.6 lets only one
"controlling" thread change OpenBLAS's count and silently ignores the
others; since our lock already serialises every change, each change first
releases that control (``OpenBLASController.clear_controlling_thread``) and
releases it again after, so that the user's own ``threadpool_limits`` still
works.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import threadpoolctl
from threadpoolctl import ThreadpoolController

__all__ = ["one_blas_thread"]

_lock = threading.Lock()
_users = 0
_controller: ThreadpoolController | None = None
_limiter: Any = None  # threadpoolctl's limiter while someone is inside


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Within this block (from any number of threads), BLAS uses one thread."""
    global _users, _controller, _limiter
    with _lock:
        if _controller is None:
            import numpy  # noqa: F401  (its BLAS must be loaded to be found)

            _controller = ThreadpoolController()
        if _users == 0:
            _release_control()
            _limiter = _controller.limit(limits=1, user_api="blas")
            _release_control()
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _limiter is not None:
                _release_control()
                _limiter.restore_original_limits()
                _release_control()
                _limiter = None


def _release_control() -> None:
    """Let any thread change OpenBLAS's thread count (threadpoolctl >= 3.6; see above)."""
    openblas = getattr(threadpoolctl, "OpenBLASController", None)
    clear = getattr(openblas, "clear_controlling_thread", None)
    if clear is not None:
        clear(force=True)
