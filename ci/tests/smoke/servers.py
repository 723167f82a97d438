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
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

Answer = tuple[int, str, bytes]  # status, content type, body
Endpoint = Callable[[int], Answer]  # attempt number (1-based) -> answer


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk with its length and CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


SAMPLES = {0: 1, 2: 3, 3: 1, 6: 4}  # colour type -> bytes per 8-bit pixel


def png(
    width: int = 256,
    height: int = 256,
    colour_type: int = 3,
    image_data: bytes | None = None,
    palette: bytes = b"\x00\x00\x00\xff\xff\xff",
) -> bytes:
    """A valid 8-bit PNG (a palette image by default, as gridserve writes); ``image_data``
    replaces the compressed pixels, ``b""`` leaves the IDAT chunk out."""
    rows = b"".join(b"\x02" + bytes(width * SAMPLES[colour_type]) for _ in range(height))
    data = zlib.compress(rows) if image_data is None else image_data
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + (chunk(b"PLTE", palette) if colour_type == 3 else b"")
        + (chunk(b"IDAT", data) if data else b"")
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
def _raw_server(
    on_connection: Callable[[socket.socket], None], threaded: bool = False
) -> Iterator[str]:
    """A loopback listener handing each accepted connection to `on_connection` (in a thread of
    its own when ``threaded``, so that slow answers overlap); yields its URL."""
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
            if threaded:
                threading.Thread(target=on_connection, args=(conn,), daemon=True).start()
            else:
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


@contextmanager
def trickling_server(interval_s: float = 0.2) -> Iterator[str]:
    """Answers every request with headers at once, then one body byte per ``interval_s``,
    forever: no single read ever waits long, so a per-read timeout never fires."""
    stop = threading.Event()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"

    def answer(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(head)
                while not stop.is_set():
                    conn.sendall(b" ")
                    time.sleep(interval_s)
            except OSError:
                pass

    try:
        with _raw_server(answer, threaded=True) as url:
            yield url
    finally:
        stop.set()


@contextmanager
def endless_server(content_type: str = "application/json") -> Iterator[str]:
    """Answers 200 with a body that never ends (no length, read until close) as fast as the
    client reads: ``[[[[...`` for JSON, PNG-looking bytes otherwise."""
    stop = threading.Event()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nConnection: close\r\n\r\n"
    piece = b"[" * 65536 if content_type == "application/json" else png()[:33] + bytes(65536)

    def answer(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(head.encode())
                while not stop.is_set():
                    conn.sendall(piece)
            except OSError:
                pass

    try:
        with _raw_server(answer, threaded=True) as url:
            yield url
    finally:
        stop.set()
