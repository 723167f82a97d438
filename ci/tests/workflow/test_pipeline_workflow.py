"""The GitHub workflow: linted by actionlint, and shaped as the one-step pipeline promises."""

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml
from shipyard.module.cli import constructor_parameters

ROOT = Path(__file__).resolve().parents[3]
WORKFLOW = ROOT / ".github" / "workflows" / "pipeline.yml"
ACTIONLINT = ROOT / ".tools" / "bin" / "actionlint"
DAGGER_ACTION = "dagger/dagger-for-github@"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")
ALLOWED_BEFORE = ("actions/checkout@", "aws-actions/configure-aws-credentials@")
REPORT_STEPS = ["report (step summary)", "report (artifact)", "verdict"]
VERSION_COMMENT = re.compile(r"uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


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


def test_zizmor_pedantic_finds_nothing() -> None:
    zizmor = shutil.which("zizmor", path=str(ROOT / ".venv" / "bin")) or shutil.which("zizmor")
    assert zizmor, "zizmor missing: run ./dev setup (requirements-dev.lock)"
    result = subprocess.run(
        [zizmor, "--offline", "--persona", "pedantic", "--no-progress", str(WORKFLOW)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_actionlint_really_lints(tmp_path: Path) -> None:
    broken = tmp_path / ".github" / "workflows" / "pipeline.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(WORKFLOW.read_text().replace("needs: staging", "needs: stagin"))
    result = subprocess.run(
        [_actionlint(), "-no-color", str(broken)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "stagin" in result.stdout


def _dagger_step(job: dict[str, Any]) -> dict[str, Any]:
    [step] = [s for s in job["steps"] if s.get("uses", "").startswith(DAGGER_ACTION)]
    assert isinstance(step, dict)
    return step


def test_every_job_runs_one_dagger_step_then_reports_whatever_happened() -> None:
    for name, job in _workflow()["jobs"].items():
        steps = job["steps"]
        position = steps.index(_dagger_step(job))
        for step in steps[:position]:
            assert step["uses"].startswith(ALLOWED_BEFORE), f"{name}: {step['uses']}"
        after = steps[position + 1 : position + 1 + len(REPORT_STEPS)]
        assert [s["name"] for s in after] == REPORT_STEPS, name
        assert all(s["if"] == "always()" for s in after), name
        # Only staging hands on what it released: the digest production promotes.
        handoff = [s["name"] for s in steps[position + 1 + len(REPORT_STEPS) :]]
        assert handoff == (["released image"] if name == "staging" else []), name
        # Only the module's own arguments (the credentials) come before the function.
        call = _dagger_step(job)["with"]["call"].split()
        before = call[: call.index("run-pipeline")]
        assert {flag.removeprefix("--") for flag in before[::2]} <= set(constructor_parameters())


def test_call_carries_dagger_arguments_only() -> None:
    """The action pastes `call:` into `echo '...'` and then into bash: a quote or an operator
    there breaks the step or runs by accident; values come in as environment variables."""
    for name, job in _workflow()["jobs"].items():
        call = _dagger_step(job)["with"]["call"]
        for forbidden in ("'", "&&", "||", "|", ";", ">", "<", "`", "$(", "${{"):
            assert forbidden not in call, f"{name}: {forbidden!r} in call"
        assert call.endswith('export --path "$REPORT_DIR"'), name


def test_every_action_is_pinned_by_commit_sha_with_its_version() -> None:
    for name, job in _workflow()["jobs"].items():
        for step in job["steps"]:
            if "uses" in step:
                assert PINNED.match(step["uses"]), f"{name}: {step['uses']} is not pinned"
    for line in WORKFLOW.read_text().splitlines():
        if "uses:" in line:
            assert VERSION_COMMENT.search(line.strip()), line


def test_pull_requests_get_no_cloud_credentials() -> None:
    workflow = _workflow()
    assert workflow["permissions"] == {}
    checks = workflow["jobs"]["checks"]
    # Reading the code, and writing only the one report comment on the pull request.
    assert checks["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert "environment" not in checks
    assert not any("configure-aws-credentials" in step.get("uses", "") for step in checks["steps"])
    # The only secrets are the informational stages' tokens, handed to the dagger step as env.
    dagger_step = _dagger_step(checks)
    secrets = {k: v for k, v in dagger_step["env"].items() if "secrets." in v}
    assert secrets == {
        "CODECOV_TOKEN": "${{ secrets.CODECOV_TOKEN }}",
        "INFRACOST_API_KEY": "${{ secrets.INFRACOST_API_KEY }}",
        "GITHUB_TOKEN": "${{ secrets.GITHUB_TOKEN }}",
    }
    others = [step for step in checks["steps"] if step is not dagger_step]
    assert "secrets." not in yaml.safe_dump(others) + yaml.safe_dump(dagger_step["with"])


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
        step = _dagger_step(job)
        assert "--aws-secret-access-key env:AWS_SECRET_ACCESS_KEY" in step["with"]["call"]
        # One setting per environment: terraform's pipeline output, passed through the
        # environment (never spliced into the shell script).
        assert '--pipeline-config "$PIPELINE_CONFIG"' in step["with"]["call"]
        assert step["env"]["PIPELINE_CONFIG"] == "${{ vars.PIPELINE_CONFIG }}"
        [credentials] = [
            s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", "")
        ]
        role = credentials["with"]["role-to-assume"]
        assert role == "${{ fromJSON(vars.PIPELINE_CONFIG).deploy_role_arn }}"
    assert "--promote" in _dagger_step(production)["with"]["call"]
    assert production["permissions"]["contents"] == "read"


def test_each_environment_queues_on_its_own_and_pull_requests_cancel() -> None:
    """A production job waiting for approval holds only production's group: the next push's
    staging release goes ahead. Releases never cancel; superseded pull-request checks do."""
    workflow = _workflow()
    assert "concurrency" not in workflow
    groups = {name: job["concurrency"] for name, job in workflow["jobs"].items()}
    assert groups["staging"] == {"group": "deploy-staging", "cancel-in-progress": False}
    assert groups["production"] == {"group": "deploy-production", "cancel-in-progress": False}
    assert groups["checks"] == {"group": "checks-${{ github.ref }}", "cancel-in-progress": True}


def test_path_filters_cover_what_the_pipeline_builds() -> None:
    triggers = _workflow()[True]  # YAML 1.1 reads the key `on` as true
    paths = triggers["pull_request"]["paths"]
    assert triggers["push"]["paths"] == paths
    for needed in ("app/**", "ci/**", "terraform/**", ".github/workflows/pipeline.yml"):
        assert needed in paths
