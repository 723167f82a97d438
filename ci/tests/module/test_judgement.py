"""A stage called on its own names its verdict and the fix when its exec fails."""

from __future__ import annotations

from shipyard.module.steps import Judgement

SCAN = Judgement("scan", "blocked", "fix the findings")
DEPLOY = Judgement("deploy", "failed, rolled back", "read the dossier", report_on="stderr")


def test_a_verdict_against_names_the_verdict_the_fix_and_the_report() -> None:
    failure = SCAN.failure(1, "checkov gate: BLOCKED\n| CKV_1 |\n", "checkov chatter\n")
    assert (
        str(failure) == "scan: blocked (exit 1); fix the findings\ncheckov gate: BLOCKED\n| CKV_1 |"
    )


def test_a_deploy_reports_from_stderr_where_its_dossier_is() -> None:
    failure = DEPLOY.failure(
        1, "tiles: rolling out\nreport: /out/deploy-report.json\n", "# dossier\n"
    )
    assert str(failure) == "deploy: failed, rolled back (exit 1); read the dossier\n# dossier"


def test_a_tool_that_could_not_decide_shows_its_own_message_not_a_verdict() -> None:
    failure = SCAN.failure(2, "", "gate error: no terraform files in /src/terraform\n")
    assert str(failure) == (
        "scan could not run (exit 2): gate error: no terraform files in /src/terraform"
    )
