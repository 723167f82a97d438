"""The smoke suite against hostile servers: one deadline for the whole run, measured on the wall
clock, a report whatever the body, and answers judged by what they are, not what they claim."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import replace
from pathlib import Path

import anyio
import pytest
from shipyard.tools.smoke import (
    SmokeConfig,
    SmokeReport,
    Verdict,
    judge_timeseries,
    png_problem,
    run_smoke,
)

from .servers import chunk, endless_server, png, serve, silent_server, trickling_server

TILE = "/tiles/test-collection/10/512/512.png"
SERIES = "/api/timeseries"


def timed_smoke(url: str, config: SmokeConfig) -> tuple[SmokeReport, float]:
    """The run and its wall time; a run that overruns the deadline by 5 s is cut off here (the
    test then fails) rather than hanging the test session."""

    async def bounded() -> SmokeReport:
        with anyio.fail_after(config.deadline_s + 5):
            return await run_smoke(url, config)

    started = time.monotonic()
    report = anyio.run(bounded)
    return report, time.monotonic() - started


def verdict_of(report: SmokeReport, name: str) -> tuple[Verdict, str]:
    [result] = [r for r in report.results if r.name == name]
    return result.verdict, result.detail


# --- one deadline for the whole run ------------------------------------------------------------


def test_silent_server_keeps_the_run_within_its_deadline() -> None:
    # The default per-request timeout (5 s) is longer than the whole run's deadline.
    config = SmokeConfig(deadline_s=2.0)
    with silent_server() as url:
        report, wall = timed_smoke(url, config)
    assert wall < config.deadline_s + 1
    assert report.duration_s < config.deadline_s + 1
    assert report.verdict is Verdict.FAIL


def test_tls_handshake_that_never_completes_is_cut_off_at_the_deadline() -> None:
    # The server takes the connection and never answers the ClientHello.
    config = SmokeConfig(deadline_s=1.5)
    with silent_server() as url:
        report, wall = timed_smoke(url.replace("http://", "https://"), config)
    assert wall < config.deadline_s + 1
    assert verdict_of(report, "health")[0] is Verdict.FAIL


def test_trickling_body_is_cut_off_at_the_deadline() -> None:
    # One byte every 0.2 s: no read waits long, so httpx's per-read timeout never fires.
    config = SmokeConfig(deadline_s=2.0, request_timeout_s=30.0)
    with trickling_server(0.2) as url:
        report, wall = timed_smoke(url, config)
    assert wall < config.deadline_s + 1
    verdict, detail = verdict_of(report, "health")
    assert verdict is Verdict.FAIL
    assert "s left before the run's deadline" in detail


def test_trickling_body_is_cut_off_by_the_request_timeout_and_retried() -> None:
    config = SmokeConfig(deadline_s=2.0, request_timeout_s=0.5, first_backoff_s=0.05)
    with trickling_server(0.1) as url:
        report, wall = timed_smoke(url, config)
    assert wall < config.deadline_s + 1
    [health] = [r for r in report.results if r.name == "health"]
    assert health.attempts >= 3
    assert "no complete answer" in health.detail


@pytest.mark.parametrize("content_type", ["application/json", "image/png"])
def test_endless_body_is_not_read_past_the_size_limit(content_type: str) -> None:
    config = SmokeConfig(deadline_s=3.0, max_body_bytes=256 * 1024)
    with endless_server(content_type) as url:
        report, wall = timed_smoke(url, config)
    assert wall < config.deadline_s + 1
    for name in ("health", "tile", "timeseries"):
        verdict, detail = verdict_of(report, name)
        assert verdict is Verdict.FAIL
        assert f"more than {256 * 1024} bytes" in detail or "content type" in detail


def test_declared_huge_body_is_refused_without_reading_it() -> None:
    body = b"x" * 2_000_000
    with serve({TILE: lambda _: (200, "image/png", body)}) as (url, _):
        report, _ = timed_smoke(url, SmokeConfig(deadline_s=3.0))
    verdict, detail = verdict_of(report, "tile")
    assert verdict is Verdict.FAIL
    assert detail == "tile: body of 2000000 bytes is over the 1048576-byte limit (not read)"


def test_deeply_nested_json_fails_and_the_report_is_written() -> None:
    nested = b"[" * 200_000 + b"]" * 200_000
    hostile = {
        "/health": lambda _: (200, "application/json", nested),
        SERIES: lambda _: (200, "application/json", nested),
    }
    with serve(hostile) as (url, _):
        report, _ = timed_smoke(url, SmokeConfig(deadline_s=3.0))
    assert verdict_of(report, "health")[0] is Verdict.FAIL
    assert "nested too deeply" in verdict_of(report, "health")[1]
    assert verdict_of(report, "timeseries") == (
        Verdict.FAIL,
        "timeseries: invalid JSON (nested too deeply to parse)",
    )
    assert json.loads(report.to_json())["verdict"] == "fail"


def test_cli_writes_its_report_against_a_hostile_server(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    with trickling_server(0.2) as url:
        started = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "shipyard.tools.smoke",
                url,
                "--deadline",
                "2",
                "--json-out",
                str(out),
            ],
            capture_output=True,
            timeout=30,
            check=False,
        )
        wall = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    report = json.loads(out.read_text())
    assert report["verdict"] == "fail"
    assert report["duration_s"] < 3.0
    assert wall < 6.0  # the run's 2 s, plus the interpreter starting and importing httpx


# Loaded by the suite's own interpreter (site imports sitecustomize from PYTHONPATH): the host
# name's lookup blocks as a resolver that never answers does. No real resolver can be made to
# hang for one process only.
HUNG_RESOLVER = """
import socket, time
real_getaddrinfo = socket.getaddrinfo
def getaddrinfo(host, *args, **kwargs):
    if host in ("hung-resolver.invalid", b"hung-resolver.invalid"):
        time.sleep(60)
    return real_getaddrinfo(host, *args, **kwargs)
socket.getaddrinfo = getaddrinfo
"""


def test_cli_ends_on_time_when_the_name_lookup_never_answers(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(HUNG_RESOLVER)
    out = tmp_path / "smoke.json"
    command = [sys.executable, "-m", "shipyard.tools.smoke", "http://hung-resolver.invalid:8080"]
    started = time.monotonic()
    done = subprocess.run(
        [*command, "--deadline", "2", "--json-out", str(out)],
        capture_output=True,
        timeout=90,
        check=False,
        env=os.environ | {"PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])},
    )
    wall = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    assert json.loads(out.read_text())["verdict"] == "fail"
    assert wall < 6.0  # the run's 2 s, plus the interpreter starting and importing httpx


def test_cli_writes_a_report_for_a_configuration_it_refuses(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    done = subprocess.run(
        [sys.executable, "-m", "shipyard.tools.smoke", "http://x", "--deadline", "nan",
         "--json-out",
         str(out)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "deadline_s must be > 0" in done.stderr
    report = json.loads(out.read_text())
    assert (report["verdict"], report["checks"]) == ("error", [])


# --- a tile must decode --------------------------------------------------------------------------


def _with_chunks(*extra: bytes, colour_type: int = 3) -> bytes:
    header = struct.pack(">IIBBBBB", 256, 256, 8, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + b"".join(extra) + chunk(b"IEND", b"")


ROWS = b"".join(b"\x00" + bytes(256) for _ in range(256))
PLTE = chunk(b"PLTE", b"\x00\x00\x00")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (png(image_data=b""), "no image data (no IDAT chunk)"),
        (png(image_data=zlib.compress(ROWS[:-1])), "holds less than the 65792 bytes"),
        (png(image_data=zlib.compress(ROWS + b"\x00")), "holds more than the 65792 bytes"),
        (png(image_data=zlib.compress(ROWS)[:-8]), "zlib stream unfinished"),
        (png(image_data=b"not zlib at all"), "image data does not inflate"),
        (png(image_data=zlib.compress(b"\x07" + ROWS[1:])), "scanline filter type 7 at byte 0"),
        (png(colour_type=6), "tile is 8-bit RGBA, expected 8-bit palette (palette8)"),
        (png(colour_type=0), "tile is 8-bit greyscale, expected 8-bit palette"),
        (_with_chunks(chunk(b"IDAT", zlib.compress(ROWS))), "palette image without a PLTE"),
        (_with_chunks(chunk(b"PLTE", b"\x00\x00"), chunk(b"IDAT", zlib.compress(ROWS))),
         "PLTE of 2 bytes"),
        (_with_chunks(PLTE, chunk(b"IDAT", b""), chunk(b"tEXt", b"a\x00b"),
                      chunk(b"IDAT", zlib.compress(ROWS))), "IDAT chunks are not consecutive"),
        (_with_chunks(PLTE, chunk(b"IDAT", zlib.compress(ROWS)), chunk(b"ZZZZ", b"")),
         "unknown critical chunk b'ZZZZ'"),
        (_with_chunks(PLTE, chunk(b"IDAT", zlib.compress(ROWS)), colour_type=5),
         "bit depth 8 with colour type 5 is not allowed"),
    ],
)  # fmt: skip
def test_tile_that_does_not_decode_fails(body: bytes, problem: str) -> None:
    assert problem in (png_problem(body, 256) or "")
    with serve({TILE: lambda _: (200, "image/png", body)}) as (url, _):
        report, _ = timed_smoke(url, SmokeConfig(deadline_s=3.0))
    verdict, detail = verdict_of(report, "tile")
    assert verdict is Verdict.FAIL
    assert problem in detail


def test_tile_split_over_several_idat_chunks_and_interlaced_decodes() -> None:
    data = zlib.compress(ROWS)
    split = _with_chunks(PLTE, chunk(b"IDAT", data[:100]), chunk(b"IDAT", data[100:]))
    assert png_problem(split, 256) is None
    # Adam7: seven passes of scanlines, each row with its filter byte.
    passes = [(32, 32), (32, 32), (64, 32), (64, 64), (128, 64), (128, 128), (256, 128)]
    raw = b"".join(b"\x00" + bytes(width) for width, rows in passes for _ in range(rows))
    header = struct.pack(">IIBBBBB", 256, 256, 8, 3, 0, 0, 1)
    interlaced = (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + PLTE
        + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )  # fmt: skip
    assert png_problem(interlaced, 256) is None


# --- JSON must be JSON, numbers must be numbers ---------------------------------------------------

GOOD_TIMES = '["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"]'


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ("[1.0, NaN]", "invalid JSON (NaN is not a JSON number)"),
        ("[Infinity, 1.0]", "invalid JSON (Infinity is not a JSON number)"),
        ("[-Infinity, 1.0]", "invalid JSON (-Infinity is not a JSON number)"),
        ("[1e999, 1.0]", "invalid JSON (number 1e999 overflows to infinity)"),
        ("[1" + "0" * 400 + ", 1.0]", "invalid JSON (integer of 401 digits overflows a double)"),
        ("[true, 1.0]", "`values` holds true, not a number or null"),
        ('["1.5", 1.0]', '`values` holds "1.5", not a number or null'),
        ("[[1.0], 1.0]", "`values` holds [1.0], not a number or null"),
    ],
)
def test_timeseries_values_must_be_finite_numbers(values: str, problem: str) -> None:
    body = f'{{"times": {GOOD_TIMES}, "values": {values}}}'.encode()
    with serve({SERIES: lambda _: (200, "application/json", body)}) as (url, _):
        report, _ = timed_smoke(url, SmokeConfig(deadline_s=3.0))
    assert verdict_of(report, "timeseries") == (Verdict.FAIL, f"timeseries: {problem}")


@pytest.mark.parametrize(
    ("times", "problem"),
    [
        (
            '["2024-01-02T00:00:00Z", "2024-01-01T00:00:00Z"]',
            "2024-01-02T00:00:00Z then 2024-01-01",
        ),
        (
            '["2024-01-01T00:00:00Z", "2024-01-01T00:00:00"]',
            "2024-01-01T00:00:00Z then 2024-01-01T",
        ),
        (
            '["2024-01-01T03:00:00+02:00", "2024-01-01T00:00:00Z"]',
            "+02:00 then 2024-01-01T00:00:00Z",
        ),
    ],
)
def test_timeseries_times_must_ascend(times: str, problem: str) -> None:
    body = f'{{"times": {times}, "values": [1.0, 2.0]}}'.encode()
    judgement = judge_timeseries(200, "application/json", body)
    assert judgement.verdict is Verdict.FAIL
    assert judgement.detail.startswith("timeseries: times not in ascending order")
    assert problem in judgement.detail


def test_null_values_where_the_service_writes_null_pass() -> None:
    body = f'{{"times": {GOOD_TIMES}, "values": [null, -3]}}'.encode()
    assert judge_timeseries(200, "application/json", body).verdict is Verdict.PASS


@pytest.mark.parametrize(
    ("path", "answer", "problem"),
    [
        ("/health", (200, "text/plain", b'{"status": "ok"}'),
         "health: content type 'text/plain', expected application/json"),
        ("/health", (200, "application/json", b'{"status": "ok", "load": NaN}'),
         "health: body is not JSON (NaN is not a JSON number"),
        ("/metrics", (200, "application/json", b"{}"),
         "metrics: content type 'application/json', expected text/plain"),
        (SERIES, (200, "application/json; charset=utf-8", b"\xff\xfe{}"),
         "timeseries: invalid JSON (not UTF-8"),
    ],
)  # fmt: skip
def test_content_types_and_bodies_must_match(
    path: str, answer: tuple[int, str, bytes], problem: str
) -> None:
    with serve({path: lambda _: answer}) as (url, _):
        report, _ = timed_smoke(url, replace(SmokeConfig(), deadline_s=3.0))
    [result] = [r for r in report.results if r.url.endswith(path)]
    assert result.verdict is Verdict.FAIL
    assert result.detail.startswith(problem)
