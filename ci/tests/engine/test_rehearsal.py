"""The release rehearsal, end to end on the kit's engine: the README's commands as written, then
each fault the rehearsal can play, judged by stage verdicts, final task definitions and what
the emulated webhook and git remote received."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagger
import pytest
from shipyard.decide import topology
from shipyard.module.cli import repository_sources
from shipyard.module.main import Shipyard
from shipyard.module.rehearsal import STALE_README

pytestmark = [pytest.mark.engine, pytest.mark.anyio]

REPO = Path(__file__).resolve().parents[3]
# Where `python -m shipyard.module.cli rehearse` (and so `./dev run`) writes the run's files.
REPORT_DIR = Path("/tmp/shipyard-rehearse")
RUN_TIMEOUT = 1500
# What a healthy `./dev run` may print in all (set-up, stage lines, summary): the rest is in
# engine.log.
MAX_HEALTHY_LINES = 150


def stages(report: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {stage["stage"]: stage for stage in report["stages"]}


def verdicts(report: Mapping[str, Any]) -> dict[str, str]:
    return {name: stage["verdict"] for name, stage in stages(report).items()}


def digest(address: str) -> str:
    return address.rpartition("@")[2]


def dev_run(
    *args: str, export: Path | None = None
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """The README's command, verbatim, from the repository root; and the report it wrote.

    `export` names its own folder, so that runs on other pytest-xdist workers share none."""
    report_dir = export or REPORT_DIR
    (report_dir / "report.json").unlink(missing_ok=True)
    done = subprocess.run(
        ["./dev", "run", *args, *(["--export", str(export)] if export else [])],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
        env=os.environ.copy(),
    )
    return done, json.loads((report_dir / "report.json").read_text(encoding="utf-8"))


async def rehearse(*faults: str) -> tuple[dict[str, Any], str]:
    directory = await Shipyard().rehearse(**repository_sources("rehearse"), fault=list(faults))
    report = json.loads(await directory.file("report.json").contents())
    return report, await directory.file("summary.md").contents()


def head_commit() -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_dev_run_releases_to_staging_then_promotes_the_same_digest_to_production() -> None:
    done, report = dev_run()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    by_stage = verdicts(report)
    for environment in ("staging", "production"):
        for stage in ("publish", "deploy", "smoke", "notify"):
            assert by_stage[f"{environment}/{stage}"] == "passed", (environment, stage)
    for stage in ("test", "lint", "scan", "docs"):
        assert by_stage[f"staging/{stage}"] == "passed", stage
    assert by_stage["staging/docs-commit"] == "skipped"  # nothing drifted: no commit
    assert by_stage["production/test"] == "skipped"  # promotion reuses staging's checks
    notes = report["notes"]
    # ECR-shaped as terraform outputs it: verify found the pushed digest through ECR's API.
    assert notes["production image"].startswith(f"{topology.ECR_HOST}/gridserve-production@")
    assert digest(notes["production image"]) == digest(notes["staging image"])
    deployed = stages(report)["production/deploy"]["details"]["report"]
    assert deployed["image"] == notes["production image"]
    assert len(notes["webhook_messages"]) == 2
    assert "release passed on production" in notes["webhook_messages"][1]
    assert notes["git_remote_head"]["commit"] == head_commit()
    assert "shipyard rehearsal" in done.stdout
    printed = done.stdout.splitlines() + done.stderr.splitlines()
    assert len(printed) <= MAX_HEALTHY_LINES, f"{len(printed)} lines:\n" + "\n".join(printed)
    assert "\x1b[" not in done.stdout + done.stderr, "colour codes, though not a terminal"
    assert "<details>" not in done.stdout
    engine_log = REPORT_DIR / "engine.log"
    assert f"engine log: {engine_log}" in done.stderr.splitlines()
    assert "withExec" in engine_log.read_text(encoding="utf-8")  # the trace went there
    for environment in ("staging", "production"):
        assert f"▶ {environment}/deploy" in done.stderr
        assert f"✔ {environment}/deploy passed in " in done.stderr


def test_dev_run_with_a_crash_fails_with_the_dossier_and_the_rollback(tmp_path: Path) -> None:
    done, report = dev_run("--fault", "tiles=crash", export=tmp_path)
    assert done.returncode != 0
    deploy = stages(report)["staging/deploy"]
    assert deploy["verdict"] == "failed"
    assert deploy["details"]["dossier"]["gridserve-staging-tiles"]
    assert deploy["details"]["rollback"]["gridserve-staging-tiles"] == "succeeded"
    assert "Failure dossier of" in done.stdout
    assert verdicts(report)["production"] == "skipped"
    assert "✖ staging/deploy failed in " in done.stderr
    last_screen = "\n".join(done.stdout.splitlines()[-50:])
    assert "Failure dossier of" in last_screen
    assert "rollback to " in last_screen


async def test_a_failing_check_stops_the_release_before_anything_ships(
    dagger_client: dagger.Client,
) -> None:
    report, summary = await rehearse("check-failure")
    by_stage = verdicts(report)
    assert by_stage["staging/test"] == "failed", summary
    for stage in ("publish", "docs", "deploy", "smoke"):
        assert by_stage[f"staging/{stage}"] == "skipped"
    assert by_stage["production"] == "skipped"
    assert "test failed" in report["notes"]["webhook_messages"][0]


async def test_a_refused_push_deploys_nothing(dagger_client: dagger.Client) -> None:
    report, summary = await rehearse("publish-error")
    by_stage = verdicts(report)
    assert by_stage["staging/publish"] == "failed", summary
    assert by_stage["staging/deploy"] == "skipped"
    assert report["verdict"] == "failed"


async def test_stale_docs_are_committed_back_and_production_failing_rolls_back_alone(
    dagger_client: dagger.Client,
) -> None:
    report, summary = await rehearse("docs-drift", "webhook-down", "production:tiles=crash")
    by_stage = verdicts(report)
    assert by_stage["staging/docs-commit"] == "passed", summary
    pushed = report["notes"]["git_remote_head"]
    assert pushed["subject"].endswith("[skip ci]")
    assert pushed["files"] == [STALE_README]
    # The webhook was down: notify says so and fails nothing.
    assert by_stage["staging/notify"] == "passed"
    assert "500" in stages(report)["staging/notify"]["summary"]
    assert report["notes"]["webhook_messages"] == []
    # Staging released; production failed on tiles and went back to its restore point.
    assert by_stage["staging/deploy"] == "passed"
    production = stages(report)["production/deploy"]
    assert production["verdict"] == "failed"
    assert production["details"]["rollback"]["gridserve-production-tiles"] == "succeeded"
    staging_report = stages(report)["staging/deploy"]["details"]["report"]
    assert all(s["verdict"] == "succeeded" for s in staging_report["services"])


async def test_a_rejected_docs_push_does_not_stop_the_release_and_a_smoke_failure_rolls_back(
    dagger_client: dagger.Client,
) -> None:
    report, summary = await rehearse("docs-drift", "docs-push-rejected", "smoke-failure")
    by_stage = verdicts(report)
    assert by_stage["staging/docs-commit"] == "failed", summary
    assert by_stage["staging/deploy"] == "passed"
    assert by_stage["staging/smoke"] == "failed"
    assert "timeseries" in stages(report)["staging/smoke"]["summary"]
    rollback = stages(report)["staging/rollback"]
    assert rollback["verdict"] == "passed", summary
    assert set(rollback["details"]["services"]) == {
        "gridserve-staging-tiles",
        "gridserve-staging-timeseries",
    }


@pytest.mark.parametrize("fault", ["unhealthy", "pull-error"])
async def test_a_failing_rollout_shows_the_dossier_and_rolls_back(
    dagger_client: dagger.Client, fault: str
) -> None:
    report, summary = await rehearse(fault)
    deploy = stages(report)["staging/deploy"]
    assert deploy["verdict"] == "failed"
    assert deploy["details"]["dossier"]["gridserve-staging-tiles"], summary
    assert deploy["details"]["rollback"]["gridserve-staging-tiles"] == "succeeded", summary
    assert verdicts(report)["staging/smoke"] == "skipped"
