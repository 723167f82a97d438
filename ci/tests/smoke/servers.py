"""Deliberately broken (and one well-behaved) HTTP servers on loopback for the smoke tests.

Real sockets and real HTTP (http.server in a thread); each endpoint's answer is a function of
the request path and how many times that path was asked, so a test can script "500 twice,
then fine".
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

Answer = tuple[int, str, bytes]  # status, content type, body
Endpoint = Callable[[int], Answer]  # attempt number (1-based) -> answer


def png(width: int = 256, height: int = 256) -> bytes:
    """A valid greyscale PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + bytes(width) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


TIMESERIES = {
    "variable": "temp",
    "times": ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"],
    "values": [290.5, None],
}
METRICS = (
    "# HELP gridserve_http_requests_total HTTP requests.\n"
    "# TYPE gridserve_http_requests_total counter\n"
    'gridserve_http_requests_total{method="GET",route="/health",status="200"} 3.0\n'
    "# HELP gridserve_http_request_duration_seconds Latency.\n"
    "# TYPE gridserve_http_request_duration_seconds histogram\n"
    'gridserve_http_request_duration_seconds_bucket{le="+Inf"} 3.0\n'
    "gridserve_http_request_duration_seconds_count 3.0\n"
    "gridserve_http_request_duration_seconds_sum 0.01\n"
)


def healthy_endpoints() -> dict[str, Endpoint]:
    return {
        "/health": lambda _: (200, "application/json", b'{"status": "ok"}'),
        "/tiles/test-collection/10/512/512.png": lambda _: (200, "image/png", png()),
        "/api/timeseries": lambda _: (200, "application/json", json.dumps(TIMESERIES).encode()),
        "/metrics": lambda _: (200, "text/plain; version=0.0.4", METRICS.encode()),
    }


class _Handler(BaseHTTPRequestHandler):
    endpoints: dict[str, Endpoint]
    asked: Counter[str]
    lock: threading.Lock

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        with self.lock:
            self.asked[path] += 1
            attempt = self.asked[path]
            if self.path != path:  # also count the exact request, query included
                self.asked[self.path] += 1
        endpoint = self.endpoints.get(path)
        status, content_type, body = (
            endpoint(attempt) if endpoint else (404, "application/json", b'{"detail": "Not Found"}')
        )
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def serve(
    overrides: dict[str, Endpoint] | None = None, tls: ssl.SSLContext | None = None
) -> Iterator[tuple[str, Counter[str]]]:
    """Yield (base URL, per-path request counter) of a server on a free loopback port."""
    endpoints = healthy_endpoints() | (overrides or {})
    asked: Counter[str] = Counter()
    handler = type(
        "Handler", (_Handler,), {"endpoints": endpoints, "asked": asked, "lock": threading.Lock()}
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    scheme = "http"
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def _raw_server(on_connection: Callable[[socket.socket], None]) -> Iterator[str]:
    """A loopback listener handing each accepted connection to `on_connection`; yields its URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            on_connection(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()


@contextmanager
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers a byte."""
    held: list[socket.socket] = []
    try:
        with _raw_server(held.append) as url:
            yield url
    finally:
        for conn in held:
            conn.close()


@contextmanager
def cut_off_server() -> Iterator[str]:
    """Announces a 5000-byte PNG, sends 100 bytes of it and hangs up (a proxy cutting off)."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 5000\r\n\r\n"

    def answer(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(1)
            try:
                conn.recv(65536)
                conn.sendall(head + png()[:100])
            except OSError:
                pass

    with _raw_server(answer) as url:
        yield url


def closed_port() -> str:
    """A loopback URL where nothing listens (the port was just released)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
