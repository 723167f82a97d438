"""Codecov upload against a local receiver that speaks the v4 upload protocol."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import anyio
import pytest
from shipyard.coverage_upload import (
    UploadResult,
    envelope,
    main,
    parse_upload_answer,
    upload_coverage,
)

from .receiver import Received, receiver

TOKEN = "c0dec0v-t0ken-9f8e"
XML = '<?xml version="1.0" ?>\n<coverage line-rate="0.9"><packages/></coverage>\n'


def codecov_like(request: Received, base: str) -> tuple[int, bytes]:
    """POST /upload/v4 -> report URL + storage URL; PUT /storage/<id> -> 200."""
    if request.method == "POST" and request.path == "/upload/v4":
        if "commit" not in request.query:
            return 400, b"missing commit"
        return 200, f"https://codecov.example/r/1\n{base}/storage/abc?signature=1\n".encode()
    if request.method == "PUT" and request.path == "/storage/abc":
        return 200, b""
    return 404, b"not here"


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "coverage.xml"
    path.write_text(XML)
    return path


@pytest.fixture(autouse=True)
def _all_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


def upload(report: Path, base_url: str, timeout_s: float = 5.0) -> UploadResult:
    return anyio.run(
        lambda: upload_coverage(
            report, TOKEN, "0123abc", branch="main", build="17", base_url=base_url,
            timeout_s=timeout_s,
        )
    )  # fmt: skip


def test_upload_follows_the_v4_protocol(report: Path, caplog: pytest.LogCaptureFixture) -> None:
    with receiver(codecov_like) as server:
        result = upload(report, server.url)
    assert result == UploadResult(uploaded=True, report_url="https://codecov.example/r/1")
    post, put = server.requests
    assert post.method == "POST"
    assert post.headers["Accept"] == "text/plain"
    assert {k: v[0] for k, v in post.query.items()} == {
        "commit": "0123abc", "branch": "main", "build": "17", "token": TOKEN,
        "package": "shipyard", "service": "custom",
    }  # fmt: skip
    assert put.method == "PUT"
    assert put.body == envelope("coverage.xml", XML)
    assert put.body.decode().startswith("coverage.xml\n<<<<<< network\n# path=coverage.xml\n")
    assert TOKEN not in caplog.text
    assert "token=***" in caplog.text  # httpx's request log line, scrubbed


@pytest.mark.parametrize(
    ("respond", "expected"),
    [
        (lambda r, b: (500, b"down"), "answered HTTP 500"),
        (lambda r, b: (200, b"<html>maintenance</html>"), "did not answer two URLs"),
        (
            lambda r, b: (
                (200, f"https://x/r\n{b}/storage/abc".encode())
                if r.method == "POST"
                else (403, b"expired")
            ),
            "storage answered HTTP 403",
        ),
    ],
)
def test_failed_upload_warns_only(
    report: Path, respond: object, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    with receiver(respond) as server:  # type: ignore[arg-type]
        result = upload(report, server.url)
    assert not result.uploaded
    assert result.warning is not None
    assert expected in result.warning
    assert result.warning.endswith("the pipeline verdict is unchanged")
    assert TOKEN not in caplog.text + repr(result)


def test_unreachable_endpoint_warns(report: Path, caplog: pytest.LogCaptureFixture) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    result = upload(report, f"http://127.0.0.1:{port}")
    assert not result.uploaded
    assert result.warning is not None
    assert "unreachable (ConnectError" in result.warning
    assert TOKEN not in caplog.text + repr(result)


def test_slow_endpoint_times_out_and_warns(report: Path) -> None:
    with receiver(codecov_like, delay_s=2.0) as server:
        result = upload(report, server.url, timeout_s=0.5)
    assert not result.uploaded
    assert "Timeout" in (result.warning or "")


def test_missing_report_warns(tmp_path: Path) -> None:
    result = upload(tmp_path / "absent.xml", "http://127.0.0.1:9")
    assert result.warning is not None
    assert "cannot read" in result.warning
    assert "--cov-report=xml" in result.warning


def test_parse_upload_answer() -> None:
    assert parse_upload_answer("https://a/r\nhttps://s/put\n") == ("https://a/r", "https://s/put")
    assert parse_upload_answer("https://a/r") is None
    assert parse_upload_answer("error\nhttps://s/put") is None


def test_cli_never_fails(
    report: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CODECOV_TOKEN", TOKEN)
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    assert main([str(report), "--commit", "abc", "--base-url", f"http://127.0.0.1:{port}"]) == 0
    with receiver(codecov_like) as server:
        assert main([str(report), "--commit", "abc", "--base-url", server.url]) == 0
    out, err = capsys.readouterr()
    assert "https://codecov.example/r/1" in out
    assert TOKEN not in out + err
