"""The load balancer's listener rules, played in a rehearsal: route each request by its path to
the service terraform routes it to (``/tiles/*``, ``/health``, ``/metrics`` → tiles; ``/api/*`` →
timeseries), so the smoke suite meets the services through one address as it does behind the ALB.

    python3 -m shipyard.tools.listener --port 8080 --route /tiles/*=http://tiles:8080 \\
        --route /api/*=http://timeseries:8080 --route /health=http://tiles:8080 ...
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "host"})


class ListenerError(ValueError):
    """A route is malformed; the message names it and the fix."""


@dataclass(frozen=True)
class Route:
    pattern: str
    target: str


def parse_route(spec: str) -> Route:
    pattern, sep, target = spec.partition("=")
    if not sep or not pattern.startswith("/") or not target.startswith(("http://", "https://")):
        raise ListenerError(
            f"route {spec!r} is not PATH_PATTERN=URL; write it like /api/*=http://timeseries:8080"
        )
    return Route(pattern, target.rstrip("/"))


def route_for(path: str, routes: Sequence[Route]) -> Route | None:
    """The first rule whose pattern matches the path (query string ignored), as ALB rules are
    evaluated in priority order; None is the listener's fixed 404."""
    bare = path.split("?", 1)[0]
    return next((route for route in routes if fnmatch.fnmatchcase(bare, route.pattern)), None)


def make_handler(routes: Sequence[Route]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            route = route_for(self.path, routes)
            if route is None:
                self._answer(404, {"Content-Type": "text/plain"}, b"no listener rule matches\n")
                return
            try:
                answer = httpx.get(route.target + self.path, timeout=30.0)
            except httpx.HTTPError as error:
                self._answer(502, {"Content-Type": "text/plain"}, f"{error}\n".encode())
                return
            headers = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
            self._answer(answer.status_code, headers, answer.content)

        def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            print(f"listener: {self.command} {self.path}", file=sys.stderr, flush=True)

    return Handler


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m shipyard.tools.listener", description=__doc__)
    parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 -- a service in the engine
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--route", action="append", required=True, metavar="PATTERN=URL")
    args = parser.parse_args(argv)
    try:
        routes = [parse_route(spec) for spec in args.route]
    except ListenerError as error:
        parser.error(str(error))
    server = ThreadingHTTPServer((args.host, args.port), make_handler(routes))
    print(f"listener on :{args.port} with {len(routes)} rule(s)", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
