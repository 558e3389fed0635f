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
numpy has no API for this, so, on Linux only, `one_blas_thread` finds the
OpenBLAS libraries loaded in the process (``/proc/self/maps``) and calls
their ``*set_num_threads*`` function through ctypes: to 1 when the first
user enters, back to the previous count when the last one leaves (the
setting is process-wide, so it is reference-counted). Anywhere else (no
OpenBLAS, another OS, another BLAS) it does nothing.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["one_blas_thread"]

_SETTERS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads")

_lock = threading.Lock()
_users = 0
_saved: list[tuple[Callable[[int], None], int]] = []
_libs: list[tuple[Callable[[int], None], Callable[[], int]]] | None = None


def _find() -> list[tuple[Callable[[int], None], Callable[[], int]]]:
    """(set, get) thread-count functions of every OpenBLAS loaded in this process."""
    found: list[tuple[Callable[[int], None], Callable[[], int]]] = []
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return found
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for set_name, get_name in zip(_SETTERS, _GETTERS, strict=True):
            setter = getattr(lib, set_name, None)
            getter = getattr(lib, get_name, None)
            if setter is not None and getter is not None:
                setter.argtypes, setter.restype = [ctypes.c_int], None
                getter.argtypes, getter.restype = [], ctypes.c_int
                found.append((setter, getter))
                break
    return found


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Within this block (from any number of threads), OpenBLAS uses one thread."""
    global _users, _libs
    with _lock:
        if _libs is None:
            import numpy  # noqa: F401  (its BLAS must be loaded to be found)

            _libs = _find()
        if _users == 0:
            _saved[:] = [(setter, getter()) for setter, getter in _libs]
            for setter, _ in _saved:
                setter(1)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                for setter, count in _saved:
                    setter(count)
                _saved.clear()
