"""`python -m shipyard.tools.smoke BASE_URL`: exit 0 pass (or no-data unless --no-data-fails),
1 fail, 2 no verdict (bad configuration, or a fault in the suite itself)."""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qsl

import anyio

from shipyard.tools import smoke
from shipyard.tools.smoke.config import MAX_BODY_BYTES, SmokeConfig, SmokeError
from shipyard.tools.smoke.probe import run_smoke
from shipyard.tools.smoke.report import SmokeReport, error_report


class _DaemonExecutor(concurrent.futures.ThreadPoolExecutor):
    """The event loop's executor for its blocking calls (DNS lookups) in daemon threads that
    nothing waits for: asyncio otherwise joins them when the run ends, so a resolver that never
    answers would hold the process (and its report) past the deadline."""

    def submit(  # type: ignore[override]
        self, fn: Callable[..., object], /, *args: object, **kwargs: object
    ) -> concurrent.futures.Future[object]:
        future: concurrent.futures.Future[object] = concurrent.futures.Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # handed to the awaiting task, as the default does
                future.set_exception(exc)

        threading.Thread(target=run, name="smoke-resolver", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        return  # nothing to wait for: the threads are daemons


async def _run_from_cli(base_url: str, config: SmokeConfig) -> SmokeReport:
    asyncio.get_running_loop().set_default_executor(_DaemonExecutor())
    return await run_smoke(base_url, config)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m shipyard.tools.smoke", description=smoke.__doc__
    )
    parser.add_argument("base_url")
    parser.add_argument(
        "--deadline", type=float, default=60.0, help="the whole run, retries included, seconds"
    )
    parser.add_argument(
        "--timeout", type=float, default=5.0, help="one request, body included, seconds"
    )
    parser.add_argument(
        "--max-body", type=int, default=MAX_BODY_BYTES, help="bytes read of one answer at most"
    )
    parser.add_argument("--ca-bundle", help="PEM bundle of the CA that signed the service")
    parser.add_argument("--health-path", default=SmokeConfig.health_path)
    parser.add_argument("--tile-path", default=SmokeConfig.tile_path)
    parser.add_argument("--timeseries-path", default=SmokeConfig.timeseries_path)
    parser.add_argument(
        "--timeseries-query",
        help="query string replacing the default parameters, e.g. 'lon=1&lat=2&start=...'",
    )
    parser.add_argument("--metrics-path", default=SmokeConfig.metrics_path)
    parser.add_argument(
        "--require-metric", action="append", help="metric name that must be present (repeat)"
    )
    parser.add_argument("--no-data-fails", action="store_true", help="treat no-data as failure")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--markdown-out", type=Path)
    return parser


def _no_verdict(message: str, json_out: Path | None) -> int:
    """Exit 2 with a report that says why there is no verdict."""
    print(message, file=sys.stderr)
    if json_out:
        json_out.write_text(json.dumps(error_report(message), indent=2) + "\n", encoding="utf-8")
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 pass (or no-data unless --no-data-fails), 1 fail, 2 bad configuration."""
    args = _parser().parse_args(argv)
    config = SmokeConfig(
        deadline_s=args.deadline,
        request_timeout_s=args.timeout,
        max_body_bytes=args.max_body,
        health_path=args.health_path,
        tile_path=args.tile_path,
        timeseries_path=args.timeseries_path,
        metrics_path=args.metrics_path,
        verify_tls=args.ca_bundle or True,
    )
    if args.timeseries_query is not None:
        config = replace(config, timeseries_params=dict(parse_qsl(args.timeseries_query)))
    if args.require_metric:
        config = replace(config, required_metrics=tuple(args.require_metric))
    try:
        report = anyio.run(_run_from_cli, args.base_url, config)
    except SmokeError as exc:
        return _no_verdict(f"smoke error: {exc}", args.json_out)
    except Exception as exc:  # a fault in the suite itself: still a report, and never a pass
        return _no_verdict(f"smoke internal error: {type(exc).__name__}: {exc}", args.json_out)
    print(report.to_markdown(), end="")
    if args.json_out:
        args.json_out.write_text(report.to_json() + "\n", encoding="utf-8")
    if args.markdown_out:
        args.markdown_out.write_text(report.to_markdown(), encoding="utf-8")
    return 0 if report.ok(allow_no_data=not args.no_data_fails) else 1


if __name__ == "__main__":
    sys.exit(main())
