"""Shared read threads: a fair, bounded lane per pool and a watchdog for reads that hang.

Every :class:`~simplezarr.utils.chunkpool.ChunkPool` in the process reads its
chunks on two process-wide sets of threads, one for local and in-memory stores
(the work is decompression: about one thread per core) and one for remote
stores (the work is waiting: 32 threads). This module schedules those reads.

Design
------
**Lanes.** A pool does not put its reads on the shared threads directly; it
puts them in its own :class:`ReadLane` (one per set of threads it uses). A lane
holds the pool's *queued* reads, oldest first, up to ``max_queued``; when it is
full the oldest queued read is refused (its chunk fails with a clear error) to
make room, since it is the one least likely to still matter. A lane may have
at most ``max_in_flight`` reads running at once, fewer than the threads there
are, so no single pool (one image, one store) can occupy every thread: a store
that hangs stalls its own pool, never the others. An idle thread takes the
next read from the lanes in round-robin order, so a pool with thousands of
queued reads does not delay another pool's one read by more than one read.

**Cancelling.** A queued read that nobody wants any more is removed from its
lane (:meth:`ReadLane.cancel`) and never reaches a thread.

**Timeouts and stuck threads.** A read that starts gets a deadline (its
lane's ``timeout``). A single watchdog thread per set of threads wakes at the
earliest deadline; a read still running then is *expired*: its chunk fails at
once with a timeout error (the lane's client is told), so nobody waits for it.
A Python thread blocked in a call (a hung NFS read, a store whose ``get`` never
returns) cannot be killed, so the thread is then counted as *stuck* and a
replacement thread is started, keeping the number of healthy threads at its
target. A stuck thread that returns later finds its result discarded and, if
it is now surplus, exits. Replacements are bounded: at most ``max_stuck``
stuck threads per set are replaced (32: at most target + 32 threads ever exist);
beyond that the set works with fewer threads until some return. Reads through
async stores are also bounded inside the reader (``asyncio.wait_for``), so
their threads normally come back right at the deadline, cancelled.

A stuck read keeps its lane's slot until its thread returns, so a store that
hangs every read can never hold more than ``max_in_flight`` threads. When
*all* of a lane's slots are held by stuck reads, the store is considered hung:
the lane refuses its queued reads and any new one with an error saying so
(rather than letting them wait for threads that may never return), until a
stuck read returns.

**Locks.** One lock per set of threads guards its lanes, counters and the
watchdog's table. The lane's client (the pool) is always called with that lock
released; the pool may hold its own lock while calling :meth:`ReadLane.submit`
or :meth:`ReadLane.cancel` (pool lock first, then this one, never the other
way round). Threads are daemon threads: a stuck read never blocks the
interpreter from exiting.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = ["ReadClient", "ReadLane", "ReadThreads", "read_threads"]

logger = logging.getLogger("simplezarr")

Kind = Literal["local", "remote"]


class ReadClient(Protocol):
    """What a lane calls back; never with the read threads' lock held."""

    def _run_read(self, item: Any, timeout: float) -> None:
        """Read ``item`` (on a read thread); must not raise."""

    def _expire_read(self, item: Any, timeout: float) -> None:
        """``item``'s read passed its deadline (called on the watchdog thread)."""

    def _refuse_read(self, item: Any, reason: str) -> None:
        """``item`` will never be read (its lane was full or its store is hung)."""


@dataclass(eq=False)
class _Running:
    """One read on a thread: its lane, item and deadline."""

    lane: ReadLane
    item: Hashable
    deadline: float
    done: bool = False
    stuck: bool = False


class ReadThreads:
    """One process-wide set of read threads serving many lanes fairly.

    Parameters
    ----------
    name : str
        Thread name prefix.
    threads : int
        Healthy threads to keep (started on demand).
    per_lane : int
        Reads one lane may have running at once.
    max_stuck : int
        How many stuck threads are replaced at most.
    """

    def __init__(self, name: str, threads: int, *, per_lane: int, max_stuck: int) -> None:
        if not 1 <= per_lane <= threads or max_stuck < 0:
            raise ValueError(
                f"ReadThreads(): bad sizes threads={threads!r} per_lane={per_lane!r} "
                f"max_stuck={max_stuck!r}"
            )
        self.name = name
        self.threads = threads
        self.per_lane = per_lane
        self.max_stuck = max_stuck
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)  # idle workers wait here
        self._watch = threading.Condition(self._lock)  # the watchdog waits here
        self._ready: collections.deque[ReadLane] = collections.deque()  # lanes with work
        self._running: set[_Running] = set()
        self._workers = 0
        self._idle = 0
        self._stuck = 0
        self._watch_until = float("inf")
        self._watchdog: threading.Thread | None = None
        self._serial = 0

    def __repr__(self) -> str:
        return (
            f"<ReadThreads {self.name} threads={self._workers}/{self.threads} "
            f"running={len(self._running)} stuck={self._stuck}>"
        )

    @property
    def workers(self) -> int:
        """Threads alive now (healthy and stuck)."""
        return self._workers

    @property
    def stuck(self) -> int:
        """Threads whose read passed its deadline and has not returned."""
        return self._stuck

    # -- called with self._lock held -------------------------------------------------

    def _make_ready(self, lane: ReadLane) -> None:
        if not lane._in_ready and lane._queue and lane._in_flight < lane.max_in_flight:
            lane._in_ready = True
            self._ready.append(lane)
            if self._idle:
                self._idle -= 1
                self._work.notify()
            elif self._can_spawn():
                self._spawn()

    def _can_spawn(self) -> bool:
        healthy = self._workers - self._stuck
        return healthy < self.threads and self._workers < self.threads + self.max_stuck

    def _spawn(self) -> None:
        self._workers += 1
        self._serial += 1
        threading.Thread(
            target=self._work_loop, name=f"{self.name}-{self._serial}", daemon=True
        ).start()

    def _take(self) -> _Running | None:
        """The next read, round-robin over lanes; None when this worker should exit."""
        while True:
            while not self._ready:
                if self._workers - self._stuck > self.threads:
                    self._workers -= 1
                    return None
                self._idle += 1
                self._work.wait()  # whoever notifies has taken this thread off _idle
            lane = self._ready.popleft()
            lane._in_ready = False
            if lane._queue and lane._in_flight < lane.max_in_flight:
                break  # else its queue was cancelled or refused meanwhile
        item, _ = lane._queue.popitem(last=False)
        lane._in_flight += 1
        self._make_ready(lane)  # to the back of the round, if it has more
        running = _Running(lane, item, time.monotonic() + lane.timeout)
        self._running.add(running)
        if running.deadline < self._watch_until:
            self._start_watchdog()
            self._watch.notify()
        return running

    def _start_watchdog(self) -> None:
        if self._watchdog is None:
            self._watchdog = threading.Thread(
                target=self._watch_loop, name=f"{self.name}-watchdog", daemon=True
            )
            self._watchdog.start()

    # -- threads ---------------------------------------------------------------------

    def _work_loop(self) -> None:
        while True:
            with self._lock:
                running = self._take()
            if running is None:
                return
            lane = running.lane
            try:
                lane.client._run_read(running.item, lane.timeout)
            except BaseException:  # the client must not raise; never lose the thread over it
                logger.exception("simplezarr: a read on %s raised", self.name)
            with self._lock:
                running.done = True
                self._running.discard(running)
                lane._in_flight -= 1
                if running.stuck:
                    lane._stuck -= 1
                    self._stuck -= 1
                self._make_ready(lane)
                if self._workers - self._stuck > self.threads:
                    self._workers -= 1  # a replacement took this thread's place
                    return
            del running, lane  # an idle thread keeps no read, nor its pool, alive

    def _watch_loop(self) -> None:
        # No local names here: the watchdog waits for hours at a time, and a read it
        # named (a leftover loop variable) would keep that read's pool alive.
        while True:
            self._tell(*self._watch_once())

    def _watch_once(
        self,
    ) -> tuple[list[_Running], list[tuple[ReadLane, list[Hashable], str]]]:
        """Expire the reads past their deadline, or wait for the next deadline."""
        refused: list[tuple[ReadLane, list[Hashable], str]] = []
        with self._lock:
            now = time.monotonic()
            expired = [r for r in self._running if not r.stuck and r.deadline <= now]
            for running in expired:
                self._expire(running, refused)
            pending = [r.deadline for r in self._running if not r.stuck]
            self._watch_until = min(pending, default=float("inf"))
            if not expired:
                wait = self._watch_until - now
                self._watch.wait(None if wait == float("inf") else wait)
        return expired, refused

    def _tell(
        self, expired: list[_Running], refused: list[tuple[ReadLane, list[Hashable], str]]
    ) -> None:
        """Tell the clients which reads expired and which were refused (outside the lock)."""
        try:
            for r in expired:
                r.lane.client._expire_read(r.item, r.lane.timeout)
            for lane, items, reason in refused:
                for item in items:
                    lane.client._refuse_read(item, reason)
        except BaseException:  # the client must not raise; never lose the watchdog over it
            logger.exception("simplezarr: expiring a read on %s raised", self.name)

    def _expire(self, r: _Running, refused: list[tuple[ReadLane, list[Hashable], str]]) -> None:
        r.stuck = True
        lane = r.lane
        lane._stuck += 1
        self._stuck += 1
        if self._ready and not self._idle and self._can_spawn():
            self._spawn()
        if lane._stuck >= lane.max_in_flight and lane._queue:
            items = list(lane._queue)
            lane._queue.clear()
            refused.append((lane, items, lane._hung_reason()))


class ReadLane:
    """One pool's queue of reads on a set of shared read threads.

    Parameters
    ----------
    threads : ReadThreads
        The shared threads.
    client : ReadClient
        Called to run, expire or refuse each read.
    max_queued : int
        Reads waiting at most; the oldest is refused to make room.
    timeout : float
        Seconds a read may run.
    store : str
        Names the store in messages.
    """

    def __init__(
        self,
        threads: ReadThreads,
        client: ReadClient,
        *,
        max_queued: int,
        timeout: float,
        store: str,
    ) -> None:
        self.threads = threads
        self.client = client
        self.max_in_flight = threads.per_lane
        self.max_queued = max_queued
        self.timeout = timeout
        self.store = store
        self._queue: collections.OrderedDict[Hashable, None] = collections.OrderedDict()
        self._in_flight = 0
        self._stuck = 0
        self._in_ready = False

    def __repr__(self) -> str:
        return (
            f"<ReadLane {self.store!r} queued={len(self._queue)} in_flight={self._in_flight}"
            f"/{self.max_in_flight} stuck={self._stuck}>"
        )

    @property
    def queued(self) -> int:
        """Reads waiting for a thread."""
        return len(self._queue)

    @property
    def in_flight(self) -> int:
        """Reads running now (stuck ones included)."""
        return self._in_flight

    @property
    def stuck(self) -> int:
        """Reads past their deadline whose thread has not returned."""
        return self._stuck

    def submit(self, item: Hashable) -> list[tuple[Hashable, str]]:
        """Queue ``item``'s read; returns the reads refused by this (each with the reason).

        The caller refuses those (the lane does not call back from here, so the
        caller may hold its own lock).
        """
        with self.threads._lock:
            if self._stuck >= self.max_in_flight:
                return [(item, self._hung_reason())]
            refused: list[tuple[Hashable, str]] = []
            if len(self._queue) >= self.max_queued:
                oldest, _ = self._queue.popitem(last=False)
                refused.append(
                    (
                        oldest,
                        f"ChunkPool: the read queue of {self.store!r} is full "
                        f"({self.max_queued} reads); the oldest queued read was refused",
                    )
                )
            self._queue[item] = None
            self.threads._make_ready(self)
            return refused

    def cancel(self, item: Hashable) -> bool:
        """Remove ``item`` if it is still queued; True if it was (it will never be read)."""
        with self.threads._lock:
            try:
                del self._queue[item]
            except KeyError:
                return False
            return True

    def _hung_reason(self) -> str:
        return (
            f"ChunkPool: not reading from {self.store!r}: all {self.max_in_flight} of its "
            f"reads in flight have been stuck for over {self.timeout:g} s (the store hangs)"
        )


_sets: dict[str, ReadThreads] = {}
_sets_lock = threading.Lock()


def read_threads(kind: Kind) -> ReadThreads:
    """The process-wide read threads of ``kind``.

    Local: cores + 1 threads, a pool may use all but one (one pool keeps every
    core busy and another pool always finds a thread). Remote: 32 threads, a
    pool may use 16.
    """
    with _sets_lock:
        threads = _sets.get(kind)
        if threads is None:
            if kind == "local":
                n = max(2, os.cpu_count() or 2) + 1
                threads = ReadThreads(f"simplezarr-{kind}", n, per_lane=n - 1, max_stuck=32)
            else:
                threads = ReadThreads(f"simplezarr-{kind}", 32, per_lane=16, max_stuck=32)
            _sets[kind] = threads
        return threads
