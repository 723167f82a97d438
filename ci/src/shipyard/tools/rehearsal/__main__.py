"""`python -m shipyard.tools.rehearsal`: the rollout model in front of a running moto server."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from dataclasses import asdict

from shipyard.decide import topology
from shipyard.tools.rehearsal.faults import Fault, RehearsalError
from shipyard.tools.rehearsal.front import RehearsalFront, ScaledClock, http_probe, make_server
from shipyard.tools.rehearsal.seed import push_image, seed_account


def _pairs(values: list[str], what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key or not rest:
            raise RehearsalError(f"{what} {value!r} is not KEY=VALUE; write it as e.g. tiles=...")
        pairs[key] = rest
    return pairs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m shipyard.tools.rehearsal",
        description="Serve an ECS endpoint that plays rollouts, forwarding all else to moto.",
    )
    parser.add_argument("--moto-url", required=True, help="base URL of a running moto server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--region", default=topology.REGION)
    parser.add_argument(
        "--image-registry",
        metavar="URL[/PREFIX]",
        help="answer ECR's DescribeImages and BatchGetImage from this OCI registry, e.g. "
        "http://registry:5000/rehearsal (repository NAME is PREFIX/NAME there)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SERVICE=KIND[@N]",
        help="make a service's new releases fail: crash, unhealthy, pull_error or slow "
        "(its original task definition keeps working); with @N every deployment from the N-th "
        "UpdateService on fails, whatever it runs",
    )
    parser.add_argument(
        "--app",
        action="append",
        default=[],
        metavar="SERVICE=URL",
        help="a real app stands behind SERVICE: its tasks turn healthy only when URL answers 2xx",
    )
    parser.add_argument(
        "--throttle",
        action="append",
        default=[],
        metavar="OPERATION=N",
        help="answer the next N calls of an operation with ThrottlingException",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="simulated seconds per real second (e.g. 20 plays a 60 s rollout in 3 s)",
    )
    _add_seed_options(parser)
    return parser


def _add_seed_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seed",
        metavar="CLUSTER",
        help="first create what terraform would (roles, log group, ECR image v1, cluster, one "
        "task definition and service per --service) and print it as one JSON line",
    )
    parser.add_argument(
        "--service",
        action="append",
        dest="services",
        metavar="NAME",
        help="services to seed (repeatable; default tiles and timeseries)",
    )
    parser.add_argument(
        "--push",
        action="append",
        default=[],
        metavar="TAG",
        help="with --seed: also put an image with this tag into the ECR repository",
    )


def _front(parser: argparse.ArgumentParser, args: argparse.Namespace) -> RehearsalFront:
    """The front the options describe; a bad option ends the program with a usage error."""
    try:
        faults = [Fault.parse(spec) for spec in args.fault]
        apps = {name: http_probe(url) for name, url in _pairs(args.app, "--app").items()}
        throttle = {op: int(n) for op, n in _pairs(args.throttle, "--throttle").items()}
    except (RehearsalError, ValueError) as error:
        parser.error(str(error))
    if args.time_scale <= 0:
        parser.error("--time-scale must be positive, e.g. 20")
    return RehearsalFront(
        args.moto_url,
        region=args.region,
        faults=faults,
        clock=ScaledClock(args.time_scale),
        app_probes=apps,
        throttle=throttle,
        image_registry=args.image_registry,
    )


def _seed(url: str, args: argparse.Namespace) -> None:
    """Seed what terraform would create through the front at `url`; print it as one JSON line."""
    account = seed_account(
        url,
        cluster=args.seed,
        services=tuple(args.services or topology.ROLES),
        region=args.region,
    )
    pushed = {tag: push_image(url, args.region, account.repository, tag) for tag in args.push}
    print(json.dumps({"seeded": asdict(account), "pushed": pushed}), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    front = _front(parser, args)
    server = make_server(front, args.host, args.port)
    url = f"http://{args.host}:{server.server_port}"
    print(f"rehearsal front on {url} -> {args.moto_url}", flush=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        if args.seed:
            _seed(url, args)
        serving.join()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
