"""Coverage upload with the real codecov-cli against a local server playing Codecov."""

from __future__ import annotations

import base64
import json
import time
import zlib
from pathlib import Path

import pytest
from shipyard.tools.bounded import Finished
from shipyard.tools.coverage import UploadSettings, line_coverage, main, upload_line

from .servers import Received, Reply, codecov, json_reply, serve

TOKEN = "c0dec0v-upl0ad-t0ken-5ecret"
SHA = "0123456789abcdef0123456789abcdef01234567"
REPORT = """<?xml version="1.0" ?>
<coverage version="7.6" line-rate="0.8734" branch-rate="0.7" lines-covered="873"
 lines-valid="1000"><sources><source>/src</source></sources><packages/></coverage>
"""


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "coverage.xml"
    path.write_text(REPORT)
    return path


def upload(
    report: Path, url: str, cli: str, capsys: pytest.CaptureFixture[str], *extra: str
) -> str:
    argv = [str(report), "--commit", SHA, "--url", url, "--slug", "owner/repo"]
    argv += ["--branch", "feature", "--pr", "7", "--codecovcli", cli, *extra]
    environ = {"PATH": "/usr/bin:/bin", "HOME": str(report.parent), "CODECOV_TOKEN": TOKEN}
    assert main(argv, environ) == 0
    out = capsys.readouterr().out
    assert TOKEN not in out
    return out


def test_uploads_the_report_through_codecovs_upload_api(
    report: Path, codecovcli: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(codecov) as server:
        out = upload(report, server.url, codecovcli, capsys)

    assert out == (
        f"uploaded coverage.xml (87.3 % of lines) → {server.url}/github/owner/repo/commit/{SHA}\n"
    )
    calls = [(r.method, r.path) for r in server.requests]
    assert calls == [
        ("POST", "/upload/github/owner::::repo/commits"),
        ("POST", f"/upload/github/owner::::repo/commits/{SHA}/reports"),
        ("POST", f"/upload/github/owner::::repo/commits/{SHA}/reports/default/uploads"),
        ("PUT", f"/storage/v4/raw/{SHA}.txt"),
    ]
    for api_call in server.requests[:3]:
        assert api_call.headers["Authorization"] == f"token {TOKEN}"
    commit = server.requests[0].json()
    assert (commit["commitid"], commit["branch"], commit["pullid"]) == (SHA, "feature", "7")
    stored = json.loads(server.requests[3].body)
    [sent] = stored["coverage_files"]
    assert sent["filename"].endswith("coverage.xml")
    assert zlib.decompress(base64.b64decode(sent["data"])).decode() == REPORT


def test_without_a_token_says_skipped_and_calls_nobody(
    report: Path, codecovcli: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(codecov) as server:
        argv = [str(report), "--commit", SHA, "--url", server.url, "--codecovcli", codecovcli]
        assert main(argv, {"PATH": "/usr/bin:/bin", "CODECOV_TOKEN": " "}) == 0
    assert capsys.readouterr().out == "skipped: no CODECOV_TOKEN\n"
    assert server.requests == []


def test_server_errors_are_one_warning_line(
    report: Path, codecovcli: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def down(request: Received, base: str) -> Reply:
        return json_reply(503, {"detail": "upstream unavailable"})

    with serve(down) as server:
        out = upload(report, server.url, codecovcli, capsys)

    assert out.count("\n") == 1
    assert out.startswith("warning: coverage upload failed (Request failed after too many retries")
    assert out.endswith("; the checks' verdict is unchanged\n")
    # codecov-cli retries a 5xx three times, then stops before creating any report.
    assert [r.path for r in server.requests] == ["/upload/github/owner::::repo/commits"] * 3


def test_a_refused_token_is_a_warning_not_a_failure(
    report: Path, codecovcli: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(request: Received, base: str) -> Reply:
        return json_reply(401, {"detail": f"Invalid token {TOKEN}"})

    with serve(refuse) as server:
        out = upload(report, server.url, codecovcli, capsys)

    assert out.startswith("warning: coverage upload failed (")
    assert "401" in out or "Invalid token" in out
    assert len(server.requests) == 1


def test_a_hanging_server_is_given_up_on_within_the_timeout(
    report: Path, codecovcli: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(lambda request, base: None) as server:
        started = time.monotonic()
        out = upload(report, server.url, codecovcli, capsys, "--timeout", "3")
        took = time.monotonic() - started

    assert out == (
        f"warning: coverage upload gave up after 3 s: {server.url} did not answer; "
        "the checks' verdict is unchanged\n"
    )
    assert 3 <= took < 8
    assert len(server.requests) == 1


def test_a_missing_report_is_a_warning(
    tmp_path: Path, codecovcli: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(codecov) as server:
        out = upload(tmp_path / "coverage.xml", server.url, codecovcli, capsys)
    assert out.startswith("warning: no coverage to upload (")
    assert server.requests == []


def test_a_missing_uploader_is_a_warning(
    report: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = upload(report, "http://127.0.0.1:9", str(tmp_path / "codecovcli"), capsys)
    assert out.startswith("warning: coverage upload failed (cannot start ")


def test_line_coverage_reads_the_cobertura_line_rate() -> None:
    assert line_coverage(REPORT) == 87.3
    assert line_coverage("<coverage/>") is None
    assert line_coverage("not xml") is None
    assert line_coverage('<coverage line-rate="x"/>') is None


def test_upload_line_names_the_uploaders_own_failure_reason() -> None:
    settings = UploadSettings(Path("coverage.xml"), SHA)
    failed = Finished(1, "info - x -- y\nerror - 2026 -- Upload failed: {'detail': 'nope'}\n", 5)
    assert upload_line(failed, settings, None) == (
        "warning: coverage upload failed (Upload failed: {'detail': 'nope'}); "
        "the checks' verdict is unchanged"
    )
    assert upload_line(Finished(0, "", 5), settings, None) == "uploaded coverage.xml"
