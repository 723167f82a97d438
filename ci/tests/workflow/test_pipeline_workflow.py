"""The GitHub workflow: linted by actionlint, and shaped as the one-step pipeline promises."""

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
WORKFLOW = ROOT / ".github" / "workflows" / "pipeline.yml"
ACTIONLINT = ROOT / ".tools" / "bin" / "actionlint"
DAGGER_ACTION = "dagger/dagger-for-github@"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")
ALLOWED_BEFORE = ("actions/checkout@", "aws-actions/configure-aws-credentials@")


def _actionlint() -> str:
    found = ACTIONLINT if ACTIONLINT.exists() else shutil.which("actionlint")
    assert found, "actionlint missing: run ./dev setup (scripts/setup.d/50-actionlint.sh)"
    return str(found)


def _workflow() -> dict[Any, Any]:
    document = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(document, dict)
    return document


def test_actionlint_accepts_the_workflow() -> None:
    result = subprocess.run(
        [_actionlint(), "-no-color", str(WORKFLOW)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_really_lints(tmp_path: Path) -> None:
    broken = tmp_path / ".github" / "workflows" / "pipeline.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(WORKFLOW.read_text().replace("needs: staging", "needs: stagin"))
    result = subprocess.run(
        [_actionlint(), "-no-color", str(broken)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "stagin" in result.stdout


def test_every_job_runs_exactly_one_dagger_pipeline_step_last() -> None:
    for name, job in _workflow()["jobs"].items():
        steps = job["steps"]
        dagger_steps = [s for s in steps if s.get("uses", "").startswith(DAGGER_ACTION)]
        assert len(dagger_steps) == 1, name
        assert steps[-1] is dagger_steps[0], f"{name}: the dagger step must be the last"
        assert dagger_steps[0]["with"]["call"].startswith("run-pipeline "), name
        assert all("run" not in step for step in steps), f"{name}: no shell steps"
        for step in steps[:-1]:
            assert step["uses"].startswith(ALLOWED_BEFORE), f"{name}: {step['uses']}"


def test_every_action_is_pinned_by_commit_sha() -> None:
    for name, job in _workflow()["jobs"].items():
        for step in job["steps"]:
            assert PINNED.match(step["uses"]), f"{name}: {step['uses']} is not pinned"


def test_pull_requests_get_no_cloud_credentials() -> None:
    workflow = _workflow()
    assert workflow["permissions"] == {}
    checks = workflow["jobs"]["checks"]
    # Reading the code, and writing only the one report comment on the pull request.
    assert checks["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert "environment" not in checks
    assert not any("configure-aws-credentials" in step["uses"] for step in checks["steps"])
    informational = {
        "CODECOV_TOKEN": "${{ secrets.CODECOV_TOKEN }}",
        "INFRACOST_API_KEY": "${{ secrets.INFRACOST_API_KEY }}",
        "GITHUB_TOKEN": "${{ secrets.GITHUB_TOKEN }}",
    }
    assert checks["steps"][-1]["env"] == informational
    without_them = yaml.safe_dump({**checks, "steps": checks["steps"][:-1]})
    assert "secrets." not in without_them + yaml.safe_dump(checks["steps"][-1]["with"])


def test_only_the_checks_job_may_write_to_pull_requests() -> None:
    for name, job in _workflow()["jobs"].items():
        if name != "checks":
            assert "pull-requests" not in job.get("permissions", {}), name


def test_main_releases_staging_then_production_one_at_a_time() -> None:
    jobs = _workflow()["jobs"]
    staging, production = jobs["staging"], jobs["production"]
    assert staging["environment"] == "staging"
    assert production["environment"] == "production"
    assert production["needs"] == "staging"
    for job in (staging, production):
        assert job["permissions"]["id-token"] == "write"
        assert job["concurrency"]["cancel-in-progress"] is False
        call = job["steps"][-1]["with"]["call"]
        assert "--aws-secret-access-key env:AWS_SECRET_ACCESS_KEY" in call
    assert "--promote" in production["steps"][-1]["with"]["call"]
    for job in (staging, production):
        # One setting per environment: terraform's pipeline output, passed through the
        # environment (never spliced into the shell script).
        assert '--pipeline-config "$PIPELINE_CONFIG"' in job["steps"][-1]["with"]["call"]
        assert job["steps"][-1]["env"]["PIPELINE_CONFIG"] == "${{ vars.PIPELINE_CONFIG }}"
        role = job["steps"][-2]["with"]["role-to-assume"]
        assert role == "${{ fromJSON(vars.PIPELINE_CONFIG).deploy_role_arn }}"
    assert production["permissions"]["contents"] == "read"


def test_path_filters_cover_what_the_pipeline_builds() -> None:
    triggers = _workflow()[True]  # YAML 1.1 reads the key `on` as true
    paths = triggers["pull_request"]["paths"]
    assert triggers["push"]["paths"] == paths
    for needed in ("app/**", "ci/**", "terraform/**", ".github/workflows/pipeline.yml"):
        assert needed in paths


@pytest.mark.parametrize("job", ["checks", "staging", "production"])
def test_the_step_publishes_the_summary_and_fails_on_a_failed_verdict(job: str) -> None:
    call = _workflow()["jobs"][job]["steps"][-1]["with"]["call"]
    assert 'export --path "$REPORT_DIR"' in call
    assert '>> "$GITHUB_STEP_SUMMARY"' in call
    assert call.endswith('jq -e \'.verdict == "passed"\' "$REPORT_DIR/report.json"')
