"""Smoke suite against the real service and against deliberately broken local servers."""

from __future__ import annotations

import json
import ssl
import subprocess
from dataclasses import replace
from pathlib import Path

import anyio
import pytest
from gridserve.metrics import METRIC_NAMES
from shipyard.tools.smoke import (
    DEFAULT_REQUIRED_METRICS,
    SmokeConfig,
    SmokeError,
    SmokeReport,
    Verdict,
    judge_metrics,
    judge_timeseries,
    next_delay,
    png_problem,
    run_smoke,
)
from shipyard.tools.smoke.__main__ import main

from .servers import cut_off_server, png, serve, silent_server

FAST = SmokeConfig(deadline_s=3.0, request_timeout_s=1.0, first_backoff_s=0.05)


def smoke(url: str, config: SmokeConfig = FAST) -> SmokeReport:
    return anyio.run(run_smoke, url, config)


def check(report: SmokeReport, name: str) -> tuple[Verdict, str, int]:
    [result] = [r for r in report.results if r.name == name]
    return result.verdict, result.detail, result.attempts


# --- the real service -------------------------------------------------------------------------


def test_real_service_passes_every_check(gridserve_url: str) -> None:
    report = smoke(gridserve_url, SmokeConfig())
    assert [(r.name, r.verdict) for r in report.results] == [
        ("health", Verdict.PASS),
        ("tile", Verdict.PASS),
        ("timeseries", Verdict.PASS),
        ("metrics", Verdict.PASS),
    ], report.to_markdown()
    assert report.ok(allow_no_data=False)
    document = json.loads(report.to_json())
    assert document["schema_version"] == 1
    assert document["verdict"] == "pass"
    assert all(c["duration_s"] >= 0 and c["attempts"] == 1 for c in document["checks"])
    assert "| tile | ✅ pass | 1 |" in report.to_markdown()


def test_real_service_unknown_collection_is_no_data_not_failure(gridserve_url: str) -> None:
    config = replace(
        SmokeConfig(),
        tile_path="/tiles/no-such-collection/10/512/512.png",
        timeseries_params={
            "lon": "150", "lat": "-33", "start": "2024-01-01T00:00:00Z",
            "end": "2024-01-31T23:59:59Z", "collection": "no-such-collection",
        },
    )  # fmt: skip
    report = smoke(gridserve_url, config)
    assert check(report, "tile")[0] is Verdict.NO_DATA
    assert "unknown collection 'no-such-collection'" in check(report, "tile")[1]
    assert check(report, "timeseries")[0] is Verdict.NO_DATA
    assert report.verdict is Verdict.NO_DATA
    assert report.ok(allow_no_data=True)
    assert not report.ok(allow_no_data=False)


def test_default_required_metrics_are_names_the_service_declares(gridserve_url: str) -> None:
    assert set(DEFAULT_REQUIRED_METRICS) <= set(METRIC_NAMES)
    # Every metric the service declares is really exposed under that name.
    report = smoke(gridserve_url, replace(SmokeConfig(), required_metrics=METRIC_NAMES))
    assert check(report, "metrics")[0] is Verdict.PASS, report.to_markdown()


def test_real_service_missing_metric_fails(gridserve_url: str) -> None:
    config = replace(SmokeConfig(), required_metrics=("gridserve_http_requests_total", "nope"))
    verdict, detail, _ = check(smoke(gridserve_url, config), "metrics")
    assert (verdict, detail) == (Verdict.FAIL, "metrics: missing nope")


def test_real_service_wrong_route_is_failure_not_no_data(gridserve_url: str) -> None:
    config = replace(SmokeConfig(), tile_path="/tile/test-collection/10/512/512.png")
    verdict, detail, attempts = check(smoke(gridserve_url, config), "tile")
    assert verdict is Verdict.FAIL
    assert "404 for the route itself" in detail
    assert attempts == 1


# --- deliberately broken servers --------------------------------------------------------------


def test_healthy_fake_passes() -> None:
    # The reference point for every broken variant below.
    with serve() as (url, _):
        assert smoke(url).verdict is Verdict.PASS


def test_wrong_content_type_fails_without_retrying() -> None:
    tile = "/tiles/test-collection/10/512/512.png"
    with serve({tile: lambda _: (200, "text/html", b"<html>oops</html>")}) as (url, asked):
        verdict, detail, attempts = check(smoke(url), "tile")
    assert verdict is Verdict.FAIL
    assert detail == "tile: content type 'text/html', expected image/png"
    assert attempts == asked[tile] == 1


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (png()[: len(png()) // 2], "truncated PNG"),
        (png()[:-12], "truncated PNG: no IEND chunk"),
        (png(512, 512), "tile is 512x512, expected 256x256"),
        (b"GIF89a" + bytes(100), "not a PNG"),
        (png()[:40] + b"X" + png()[41:], "fails its CRC"),
    ],
)
def test_broken_png_fails(body: bytes, problem: str) -> None:
    tile = "/tiles/test-collection/10/512/512.png"
    with serve({tile: lambda _: (200, "image/png", body)}) as (url, _):
        verdict, detail, _ = check(smoke(url), "tile")
    assert verdict is Verdict.FAIL
    assert problem in detail


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"times": ["2024-01-01T00:00:00Z"], "values": [1.0]', (Verdict.FAIL, "invalid JSON")),
        (b'{"times": ["2024-01-01T00:00:00Z"], "values": []}', (Verdict.FAIL, "1 times but 0")),
        (b'{"times": ["yesterday"], "values": [1.0]}', (Verdict.FAIL, "'yesterday' is not an ISO")),
        (b'{"times": [], "values": []}', (Verdict.NO_DATA, "empty series")),
    ],
)
def test_timeseries_body_is_judged(body: bytes, expected: tuple[Verdict, str]) -> None:
    with serve({"/api/timeseries": lambda _: (200, "application/json", body)}) as (url, _):
        verdict, detail, _ = check(smoke(url), "timeseries")
    assert verdict is expected[0]
    assert expected[1] in detail


def test_500s_that_recover_pass_after_retries() -> None:
    def flaky(attempt: int) -> tuple[int, str, bytes]:
        if attempt <= 3:
            return 500, "text/plain", b"starting"
        return 200, "application/json", b'{"status": "ok"}'

    with serve({"/health": flaky}) as (url, asked):
        verdict, _, attempts = check(smoke(url), "health")
    assert verdict is Verdict.PASS
    assert attempts == asked["/health"] == 4


def test_500s_that_never_recover_fail_at_the_deadline() -> None:
    config = replace(FAST, deadline_s=1.0)
    with serve({"/health": lambda _: (503, "text/plain", b"down")}) as (url, asked):
        report = smoke(url, config)
    verdict, detail, attempts = check(report, "health")
    assert verdict is Verdict.FAIL
    assert detail.startswith(f"gave up after {attempts} attempts")
    assert "HTTP 503" in detail  # also when the deadline cut the last attempt short
    # An attempt the deadline cut short may end before the server counts it.
    assert attempts - 1 <= asked["/health"] <= attempts
    assert asked["/health"] > 2
    assert 1.0 <= report.duration_s < 2.0  # the run's deadline, plus at most a second


def test_server_that_never_answers_fails_within_the_deadline() -> None:
    config = replace(FAST, deadline_s=1.5, request_timeout_s=0.4)
    with silent_server() as url:
        report = smoke(url, config)
    assert report.verdict is Verdict.FAIL
    for result in report.results[:-1]:
        assert result.verdict is Verdict.FAIL
        assert "no complete answer within 0.4 s" in result.detail
        assert result.attempts >= 2
    # Metrics goes last, when the others are done: here the run's time was up by then.
    assert check(report, "metrics") == (
        Verdict.FAIL,
        "not attempted: the run's deadline had passed",
        0,
    )
    assert report.duration_s < 2.5


def test_response_cut_off_mid_body_is_retried_then_fails() -> None:
    with cut_off_server() as url:
        report = smoke(url, replace(FAST, deadline_s=0.8))
    verdict, detail, attempts = check(report, "tile")
    assert verdict is Verdict.FAIL
    assert "RemoteProtocolError" in detail
    assert attempts >= 2


def test_nothing_listening_fails_with_connect_error(closed_port: int) -> None:
    report = smoke(f"http://127.0.0.1:{closed_port}", replace(FAST, deadline_s=0.5))
    verdict, detail, _ = check(report, "health")
    assert verdict is Verdict.FAIL
    assert "ConnectError" in detail


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_tls_certificate_that_does_not_verify_fails_at_once(self_signed: tuple[Path, Path]) -> None:
    cert, key = self_signed
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with serve(tls=context) as (url, _):
        untrusted = smoke(url)
        trusted = smoke(url, replace(FAST, verify_tls=str(cert)))
    verdict, detail, attempts = check(untrusted, "health")
    assert verdict is Verdict.FAIL
    assert "TLS handshake" in detail
    assert "CA bundle" in detail
    assert attempts == 1
    assert trusted.verdict is Verdict.PASS


# --- pure parts and configuration -------------------------------------------------------------


def test_backoff_grows_caps_and_respects_the_deadline() -> None:
    config = SmokeConfig(first_backoff_s=0.1, backoff_factor=2, max_backoff_s=0.5)
    delays = [next_delay(n, config, remaining_s=100) for n in range(1, 6)]
    assert delays == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5])
    assert next_delay(3, config, remaining_s=0.05) == pytest.approx(0.05)
    assert next_delay(3, config, remaining_s=0) is None


def test_png_problem_accepts_a_valid_tile() -> None:
    assert png_problem(png(), 256) is None


def test_metrics_that_do_not_parse_fail() -> None:
    judgement = judge_metrics(200, "text/plain", b"this is { not prometheus", ["x"])
    assert judgement.verdict is Verdict.FAIL
    assert "not Prometheus text format" in judgement.detail


def test_timeseries_served_as_csv_fails() -> None:
    judgement = judge_timeseries(200, "text/csv", b"time,temp\n")
    assert judgement.detail == "timeseries: content type 'text/csv', expected application/json"


@pytest.mark.parametrize(
    ("url", "config", "message"),
    [
        ("ftp://host", SmokeConfig(), r"is not http\(s\)://host"),
        ("localhost:8080", SmokeConfig(), r"is not http\(s\)://host"),
        ("http://x", SmokeConfig(deadline_s=0), "deadline_s must be > 0"),
        ("http://x", SmokeConfig(tile_path="tiles/x.png"), "tile_path must start with '/'"),
        ("http://x", SmokeConfig(verify_tls="/no/such/ca.pem"), "does not exist"),
    ],
)
def test_bad_configuration_is_a_smoke_error(url: str, config: SmokeConfig, message: str) -> None:
    with pytest.raises(SmokeError, match=message):
        smoke(url, config)


def test_cli_exit_codes_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    json_out = tmp_path / "smoke.json"
    with serve() as (url, _):
        assert main([url, "--json-out", str(json_out)]) == 0
    assert json.loads(json_out.read_text())["verdict"] == "pass"
    tile = "/tiles/test-collection/10/512/512.png"
    with serve({tile: lambda _: (404, "application/json", b'{"message": "empty"}')}) as (url, _):
        assert main([url]) == 0
        assert main([url, "--no-data-fails"]) == 1
    with serve({tile: lambda _: (200, "text/html", b"")}) as (url, _):
        assert main([url]) == 1
    with serve() as (url, asked):
        query = "lon=1&lat=2&start=2024-01-01T00:00:00Z&end=2024-01-02T00:00:00Z"
        assert main([url, "--timeseries-query", query, "--health-path", "/api/timeseries"]) == 1
        assert asked["/health"] == 0  # the configured path was used instead
        sent = "/api/timeseries?" + query.replace(":", "%3A")
        assert asked[sent] == 1
    assert main(["not-a-url"]) == 2
    assert "smoke error: smoke: base URL 'not-a-url'" in capsys.readouterr().err
