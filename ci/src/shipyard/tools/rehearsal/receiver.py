"""``python3 -m shipyard.tools.rehearsal.receiver``: the rehearsal's chat webhook. It keeps every
message posted to it and lists them on ``GET /messages``; ``--down`` answers every post 500, as
a webhook that is down would.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY = 1 << 20


def make_server(host: str, port: int, down: bool) -> ThreadingHTTPServer:
    messages: list[Any] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            body = self.rfile.read(length)
            if down:
                self._answer(500, {"error": "webhook down (rehearsed fault)"})
                return
            try:
                message = json.loads(body)
            except ValueError:
                self._answer(400, {"error": "body is not JSON"})
                return
            with lock:
                messages.append(message)
            self._answer(200, {"ok": True})

        def do_GET(self) -> None:
            if self.path != "/messages":
                self._answer(404, {"error": "GET /messages lists what was posted"})
                return
            with lock:
                self._answer(200, list(messages))

        def _answer(self, status: int, document: Any) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the rehearsal reports what was received, not an access log."""

    return ThreadingHTTPServer((host, port), Handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m shipyard.tools.rehearsal.receiver")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--down", action="store_true", help="answer every post 500")
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port, args.down)
    print(f"webhook receiver on {args.host}:{server.server_port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
