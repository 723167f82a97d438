"""The pull request's one comment, against a local server playing GitHub's issue comments API."""

from __future__ import annotations

from pathlib import Path

import pytest
from shipyard.decide.pr_report import (
    MARKER,
    PrReport,
    coverage_figure,
    degraded_summary,
    render_comment,
)
from shipyard.tools import pr_comment
from shipyard.tools.pr_comment import main, marked_comment, next_page

from .servers import GitHubIssues, serve

TOKEN = "ghs_j0bT0kenNeverPrinted"
REPO = "acme/shipyard"
PULL = 42
REPORT = PrReport(
    stages=(
        ("test", "passed", "41 passed in 3.20s; coverage 92%"),
        ("lint", "passed", "ruff check, ruff format --check and mypy clean"),
        ("scan", "failed", "blocked: CKV_AWS_23 | HIGH"),
        ("coverage-upload", "skipped", "skipped: no CODECOV_TOKEN"),
    ),
    git_sha="0123456789abcdef0123456789abcdef01234567",
    run_url="https://github.com/acme/shipyard/actions/runs/17",
    coverage="92 %",
    cost="**Monthly cost will increase by $15.90 (+12.0 %): $132.18 → $148.08**\n",
)


@pytest.fixture(autouse=True)
def _no_retry_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pr_comment, "RETRY_DELAY_S", 0.01)


def comment(
    tmp_path: Path, api: str, capsys: pytest.CaptureFixture[str], token: str = TOKEN
) -> str:
    report = tmp_path / "pr-report.json"
    report.write_text(REPORT.to_json())
    argv = ["--report", str(report), "--repository", REPO, "--pull-request", str(PULL)]
    argv += ["--api-url", api, "--out", str(tmp_path / "comment.md")]
    assert main(argv, {"GITHUB_TOKEN": token}) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert TOKEN not in out
    return out.strip()


def test_the_comment_renders_every_verdict_the_coverage_the_cost_and_the_run() -> None:
    body = render_comment(REPORT)
    assert body.startswith(MARKER + "\n## ❌ shipyard checks: failed\n")
    assert (
        "Commit `0123456789ab` · [the run](https://github.com/acme/shipyard/actions/runs/17)"
        in body
    )
    assert "| scan | ❌ failed | blocked: CKV_AWS_23 \\| HIGH |" in body
    assert "| coverage-upload | ⏭️ skipped | skipped: no CODECOV_TOKEN |" in body
    assert "**Coverage**: 92 %" in body
    assert "### Cost\n\n**Monthly cost will increase by $15.90" in body


def test_a_first_run_creates_the_comment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    github = GitHubIssues(REPO, TOKEN)
    github.add(PULL, "LGTM")
    github.add(PULL + 1, f"{MARKER} another pull request's report")
    with serve(github) as server:
        line = comment(tmp_path, server.url, capsys)
    [ours] = [c for c in github.on(PULL) if MARKER in c["body"]]
    assert line == (
        f"posted the report on pull request #{PULL}: "
        f"https://github.com/{REPO}/pull/{PULL}#issuecomment-{ours['id']}"
    )
    assert ours["body"] == render_comment(REPORT)
    assert (tmp_path / "comment.md").read_text() == ours["body"]
    posted = [r for r in server.requests if r.method == "POST"]
    assert [r.path for r in posted] == [f"/repos/{REPO}/issues/{PULL}/comments"]
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in server.requests)
    assert all(r.headers["Accept"] == "application/vnd.github+json" for r in server.requests)


def test_the_marked_comment_is_found_on_a_later_page_and_updated_in_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    github = GitHubIssues(REPO, TOKEN)
    for number in range(150):
        github.add(PULL, f"review comment {number}")
    ours = github.add(PULL, f"{MARKER}\nthe previous push's report")
    github.add(PULL, "a reply after the report")
    with serve(github) as server:
        line = comment(tmp_path, server.url, capsys)
    assert line.startswith(f"updated the report on pull request #{PULL}: ")
    assert github.comments[ours]["body"] == render_comment(REPORT)
    assert len(github.on(PULL)) == 152  # nothing created
    calls = [(r.method, r.path, r.query.get("page")) for r in server.requests]
    assert calls == [
        ("GET", f"/repos/{REPO}/issues/{PULL}/comments", None),
        ("GET", f"/repos/{REPO}/issues/{PULL}/comments", ["2"]),
        ("PATCH", f"/repos/{REPO}/issues/comments/{ours}", None),
    ]


def test_a_fork_token_is_refused_and_the_report_goes_to_the_step_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    github = GitHubIssues(REPO, TOKEN, read_only=True)
    with serve(github) as server:
        line = comment(tmp_path, server.url, capsys)
    assert line == (
        f"warning: cannot comment on pull request #{PULL}: POST answered HTTP 403 (the token may "
        "not write comments; a fork's pull request gets a read-only token); "
        "the report is in the step summary"
    )
    assert github.on(PULL) == []
    summary = degraded_summary("## checks\n", (tmp_path / "comment.md").read_text(), False)
    assert summary.startswith("## checks\n\n**Coverage**: 92 %\n\n### Cost\n\n**Monthly cost")
    assert "| scan |" not in summary  # the summary has its own table of the checks
    assert MARKER not in summary
    assert degraded_summary("## checks\n", "body", True) == "## checks\n"


def test_one_server_error_is_retried(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    github = GitHubIssues(REPO, TOKEN, fail_next=1)
    with serve(github) as server:
        line = comment(tmp_path, server.url, capsys)
    assert line.startswith(f"posted the report on pull request #{PULL}: ")
    assert [r.method for r in server.requests] == ["GET", "GET", "POST"]
    assert len(github.on(PULL)) == 1


def test_server_errors_that_persist_are_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    github = GitHubIssues(REPO, TOKEN, fail_always=True)
    with serve(github) as server:
        line = comment(tmp_path, server.url, capsys)
    assert line == (
        f"warning: cannot comment on pull request #{PULL}: GET answered HTTP 502 (GitHub had an "
        "error, twice); the report is in the step summary"
    )
    assert len(server.requests) == 2


def test_an_unreachable_api_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = comment(tmp_path, "http://127.0.0.1:9", capsys)
    assert line.startswith(f"warning: cannot comment on pull request #{PULL}: GET failed (")


def test_without_a_token_it_says_skipped_and_still_writes_the_comment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    github = GitHubIssues(REPO, TOKEN)
    with serve(github) as server:
        line = comment(tmp_path, server.url, capsys, token="")
    assert line == "skipped: no GITHUB_TOKEN; the report is in the step summary"
    assert server.requests == []
    assert (tmp_path / "comment.md").read_text() == render_comment(REPORT)


def test_a_wrong_token_names_the_refusal_without_the_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    github = GitHubIssues(REPO, "another-token")
    with serve(github) as server:
        line = comment(tmp_path, server.url, capsys)
    assert line.startswith(
        f"warning: cannot comment on pull request #{PULL}: GET answered HTTP 401"
    )
    assert "Bad credentials" in line


def test_a_repository_that_is_not_owner_slash_name_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--report", "r.json", "--repository", "shipyard", "--pull-request", "1"], {})
    assert exit_.value.code == 2
    assert "--repository 'shipyard' must be owner/name" in capsys.readouterr().err


def test_pure_helpers() -> None:
    assert marked_comment([{"id": 1, "body": "x"}, {"id": 2, "body": f"a {MARKER}"}]) == 2
    assert marked_comment([{"id": 1, "body": None}]) is None
    assert next_page('<https://api/x?page=3>; rel="next", <https://api/x?page=9>; rel="last"') == (
        "https://api/x?page=3"
    )
    assert next_page('<https://api/x?page=9>; rel="last"') is None
    assert next_page(None) is None
    assert coverage_figure(["41 passed in 3.2s; coverage 92%"]) == "92 %"
    assert coverage_figure(["uploaded coverage.xml (87.3 % of lines) → url", "coverage 92%"]) == (
        "87.3 %"
    )
    assert coverage_figure(["coverage 92%", "uploaded coverage.xml (87.3 % of lines)"]) == "87.3 %"
    assert coverage_figure(["skipped: no CODECOV_TOKEN"]) is None
