"""The informational stages' verdicts and the comment's content, decided without an engine."""

from __future__ import annotations

import anyio
import pytest
from shipyard.decide.pipeline_flow import StageResult, Verdict
from shipyard.module.pr_stages import (
    Informational,
    PullRequestInputs,
    comment_report,
    informational,
    run_informational,
)

INPUTS = PullRequestInputs(git_sha="a" * 40, repository="acme/shipyard", number=7, run_url="u")


@pytest.mark.parametrize(
    ("line", "verdict"),
    [
        ("skipped: no CODECOV_TOKEN", Verdict.SKIPPED),
        ("warning: coverage upload failed (x); the checks' verdict is unchanged", Verdict.PASSED),
        ("uploaded coverage.xml (91.0 % of lines)", Verdict.PASSED),
    ],
)
def test_an_informational_line_passes_or_skips_never_fails(line: str, verdict: Verdict) -> None:
    stage = Informational(line, "## section").stage("coverage-upload", 1.5)
    assert (stage.stage, stage.verdict, stage.summary, stage.seconds) == (
        "coverage-upload", verdict, line, 1.5,
    )  # fmt: skip
    assert stage.details == {"markdown": "## section"}


def test_an_unexpected_error_is_a_warning_not_a_failed_check() -> None:
    async def broken() -> Informational:
        raise RuntimeError("engine went away")

    async def fine() -> Informational:
        return Informational("skipped: no INFRACOST_API_KEY")

    stages = anyio.run(run_informational, {"cost": broken, "coverage-upload": fine})
    assert [(s.stage, s.verdict) for s in stages] == [
        ("cost", Verdict.PASSED),
        ("coverage-upload", Verdict.SKIPPED),
    ]
    assert stages[0].summary == (
        "warning: cost could not run (engine went away); the checks' verdict is unchanged"
    )
    single = anyio.run(informational, "cost", broken)
    assert single.verdict is Verdict.PASSED


def test_the_comment_takes_every_verdict_the_coverage_figure_and_the_cost_section() -> None:
    stages = [
        StageResult("test", Verdict.PASSED, "41 passed in 3.20s; coverage 92%"),
        StageResult("scan", Verdict.FAILED, "blocked: 1 HIGH finding"),
        StageResult("coverage-upload", Verdict.PASSED, "uploaded coverage.xml (91.4 % of lines)"),
        StageResult(
            "cost", Verdict.PASSED, "monthly cost will increase", details={"markdown": "T"}
        ),
    ]
    report = comment_report(stages, INPUTS)
    assert report.stages[1] == ("scan", "failed", "blocked: 1 HIGH finding")
    assert report.verdict == "failed"
    assert (report.coverage, report.cost, report.run_url) == ("91.4 %", "T", "u")


def test_a_skipped_cost_stage_shows_its_line_and_no_cost_stage_shows_nothing() -> None:
    skipped = [StageResult("cost", Verdict.SKIPPED, "skipped: no INFRACOST_API_KEY")]
    assert comment_report(skipped, INPUTS).cost == "skipped: no INFRACOST_API_KEY"
    assert comment_report([], INPUTS).cost is None
