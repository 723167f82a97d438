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
def serve(respond: Responder, host: str = "127.0.0.1", advertised: str = "") -> Iterator[Server]:
    """Serve on ``host``; ``advertised`` is the address clients elsewhere (containers) use."""
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

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    state.url = f"http://{advertised or host}:{server.server_address[1]}"
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


@dataclass
class GitHubIssues:
    """GitHub's REST API for one repository's issue comments, kept in memory.

    ``GET /repos/{repo}/issues/{n}/comments`` pages with ``per_page`` and a ``Link`` header as
    GitHub does; ``POST`` there creates a comment; ``PATCH /repos/{repo}/issues/comments/{id}``
    updates one. ``read_only`` answers writes 403 as GitHub does for a fork's token;
    ``fail_next`` answers that many requests 502 first; ``fail_always`` answers every one 502.
    """

    repository: str
    token: str
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    read_only: bool = False
    fail_next: int = 0
    fail_always: bool = False
    next_id: int = 1000

    def add(self, pull: int, body: str, user: str = "someone") -> int:
        self.next_id += 1
        self.comments[self.next_id] = {"id": self.next_id, "pull": pull, "body": body, "user": user}
        return self.next_id

    def on(self, pull: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.values() if c["pull"] == pull]

    def __call__(self, request: Received, base: str) -> Reply:
        if self.fail_always or self.fail_next > 0:
            self.fail_next -= 1
            return json_reply(502, {"message": "Server Error"})
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return json_reply(401, {"message": "Bad credentials"})
        prefix = f"/repos/{self.repository}/issues/"
        if not request.path.startswith(prefix):
            return json_reply(404, {"message": "Not Found"})
        rest = request.path.removeprefix(prefix).split("/")
        if request.method in ("POST", "PATCH") and self.read_only:
            return json_reply(403, {"message": "Resource not accessible by integration"})
        if len(rest) == 2 and rest[1] == "comments" and request.method == "GET":
            return self._page(int(rest[0]), request, base)
        if len(rest) == 2 and rest[1] == "comments" and request.method == "POST":
            created = self.add(int(rest[0]), request.json()["body"], user="github-actions[bot]")
            return json_reply(201, self._shown(self.comments[created], base))
        if rest[0] == "comments" and request.method == "PATCH":
            comment = self.comments.get(int(rest[1]))
            if comment is None:
                return json_reply(404, {"message": "Not Found"})
            comment["body"] = request.json()["body"]
            return json_reply(200, self._shown(comment, base))
        return json_reply(404, {"message": "Not Found"})

    def _shown(self, comment: dict[str, Any], base: str) -> dict[str, Any]:
        return {
            "id": comment["id"],
            "body": comment["body"],
            "user": {"login": comment["user"]},
            "html_url": f"https://github.com/{self.repository}/pull/{comment['pull']}"
            f"#issuecomment-{comment['id']}",
        }

    def _page(self, pull: int, request: Received, base: str) -> Reply:
        per_page = int(request.query.get("per_page", ["30"])[0])
        page = int(request.query.get("page", ["1"])[0])
        comments = self.on(pull)
        shown = [self._shown(c, base) for c in comments[(page - 1) * per_page : page * per_page]]
        headers = {}
        if page * per_page < len(comments):
            url = f"{base}{request.path}?per_page={per_page}&page={page + 1}"
            headers["Link"] = f'<{url}>; rel="next", <{url}>; rel="last"'
        return json_reply(200, shown, headers)
