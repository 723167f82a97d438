"""Local HTTP servers playing the internet services the pull-request stages talk to: Codecov's
upload API (as codecov-cli 11 speaks it) and GitHub's REST API for issue comments. Each records
what it received, so the tests check what the tools really sent."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Reply = tuple[int, dict[str, str], bytes]  # status, headers, body
Responder = Callable[[Received, str], Reply | None]  # None: never answer (a hung server)


@dataclass
class Server:
    url: str
    requests: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


def json_reply(status: int, document: Any, headers: dict[str, str] | None = None) -> Reply:
    return (
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(document).encode(),
    )


@contextmanager
def serve(respond: Responder) -> Iterator[Server]:
    state = Server(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            request = Received(
                self.command, parts.path, parse_qs(parts.query), dict(self.headers),
                self.rfile.read(length),
            )  # fmt: skip
            state.requests.append(request)
            reply = respond(request, state.url)
            if reply is None:
                state.release.wait(600)
                return
            status, headers, body = reply
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = _handle

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


# Codecov's upload API as codecov-cli 11.3 calls it (recorded from the real CLI): create the
# commit, create the report, ask for an upload (answered with a pre-signed storage address and
# the report's web address), then PUT the report to storage.
CODECOV_COMMIT = re.compile(r"^/upload/github/(?P<slug>[^/]+)/commits$")
CODECOV_REPORT = re.compile(r"^/upload/github/[^/]+/commits/(?P<sha>[0-9a-f]{40})/reports$")
CODECOV_UPLOAD = re.compile(
    r"^/upload/github/[^/]+/commits/(?P<sha>[0-9a-f]{40})/reports/(?P<code>[^/]+)/uploads$"
)


def codecov(request: Received, base: str) -> Reply:
    """A healthy Codecov: every step of the upload accepted."""
    if request.method == "POST" and CODECOV_COMMIT.match(request.path):
        return json_reply(201, {"commitid": request.json()["commitid"]})
    if request.method == "POST" and CODECOV_REPORT.match(request.path):
        return json_reply(201, {"code": request.json()["code"]})
    if request.method == "POST" and (match := CODECOV_UPLOAD.match(request.path)):
        return json_reply(
            201,
            {
                "raw_upload_location": f"{base}/storage/v4/raw/{match['sha']}.txt?sig=presigned",
                "url": f"{base}/github/owner/repo/commit/{match['sha']}",
            },
        )
    if request.method == "PUT" and request.path.startswith("/storage/"):
        return 200, {}, b""
    return json_reply(404, {"detail": f"no route {request.method} {request.path}"})
