"""A real HTTP server on 127.0.0.1 serving a directory, for remote-store tests and benchmarks.

``serve_directory(root)`` runs Python's ``ThreadingHTTPServer`` (port 0, so
the OS picks a free port) in a daemon thread and yields a `ServedDirectory`:
its ``url``, a log of the paths requested, and two knobs a test may change
while the server runs:

- ``latency`` (seconds): every request waits this long before answering,
  like a distant server (this is the server's behaviour under test, not a
  test waiting for something);
- ``fail``: a predicate on the request path (``"/image.zarr/0/c/1/2"``);
  matching requests get ``500 Internal Server Error``.

``Range: bytes=...`` requests (sharded Zarr v3 reads) are answered with
``206 Partial Content``; missing files with 404 (what Zarr expects for
chunks never written).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["ServedDirectory", "serve_directory"]

_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


@dataclass
class ServedDirectory:
    """A running server: where it is, what it was asked, and how it misbehaves."""

    url: str
    root: Path
    latency: float = 0.0
    fail: Callable[[str], bool] = field(default=lambda path: False)
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    ranges: list[tuple[str, str]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def chunk_requests(self) -> list[str]:
        """Requested paths that are not metadata documents."""
        meta = ("zarr.json", ".zarray", ".zattrs", ".zgroup", ".zmetadata")
        return [p for p in self.requests if not p.endswith(meta)]

    def _enter(self, path: str) -> None:
        with self._lock:
            self.requests.append(path)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


def _handler(served: ServedDirectory) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like a real server

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(served.root), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, *, body: bool) -> None:
            path = self.path.split("?", 1)[0]
            served._enter(path)
            try:
                if served.latency > 0:
                    time.sleep(served.latency)
                if served.fail(path):
                    with served._lock:
                        served.failed.append(path)
                    self._send(HTTPStatus.INTERNAL_SERVER_ERROR, b"injected failure", body)
                    return
                file = Path(self.translate_path(path))
                if not file.is_file():
                    self._send(HTTPStatus.NOT_FOUND, b"not found", body)
                    return
                data = file.read_bytes()
                header = self.headers.get("Range", "").strip()
                match = _RANGE.match(header)
                if match is not None:
                    with served._lock:
                        served.ranges.append((path, header))
                if match is None:
                    self._send(HTTPStatus.OK, data, body)
                    return
                start_s, end_s = match.groups()
                if start_s:
                    start = int(start_s)
                    end = min(int(end_s), len(data) - 1) if end_s else len(data) - 1
                else:
                    start, end = max(0, len(data) - int(end_s)), len(data) - 1
                if start >= len(data) or start > end:
                    self._send(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, b"", body)
                    return
                extra = {"Content-Range": f"bytes {start}-{end}/{len(data)}"}
                self._send(HTTPStatus.PARTIAL_CONTENT, data[start : end + 1], body, extra)
            finally:
                served._leave()

        def _send(
            self,
            status: HTTPStatus,
            data: bytes,
            body: bool,
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Accept-Ranges", "bytes")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if body:
                self.wfile.write(data)

    return Handler


@contextmanager
def serve_directory(
    root: str | os.PathLike[str],
    *,
    latency: float = 0.0,
    fail: Callable[[str], bool] | None = None,
) -> Iterator[ServedDirectory]:
    """Serve ``root`` on ``http://127.0.0.1:<free port>`` until the block ends."""
    served = ServedDirectory(url="", root=Path(root), latency=latency)
    if fail is not None:
        served.fail = fail
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    server.daemon_threads = True
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
