import json
from collections.abc import Mapping
from typing import Any

import anyio
import pytest
from shipyard.decide.pipeline_flow import (
    Flow,
    PipelineError,
    StageResult,
    Verdict,
    container_assignments,
    docs_commit_message,
    flow_for_event,
    needs_rollback,
    overall_verdict,
    parse_faults,
    parse_pipeline_outputs,
    redact,
    release_blocker,
    run_stage,
    should_commit_docs,
    summarize_test_run,
)
from shipyard.decide.summary import RunReport, render_json, render_markdown
from shipyard.tools.deploy import DeployConfig
from shipyard.tools.deploy.config import parse_container_assignments


@pytest.mark.parametrize(
    ("event", "ref", "flow"),
    [
        ("pull_request", "refs/pull/7/merge", Flow.CHECKS),
        ("push", "refs/heads/main", Flow.RELEASE),
        ("workflow_dispatch", "refs/heads/main", Flow.RELEASE),
        ("push", "refs/heads/feature/x", Flow.CHECKS),
        ("push", "refs/tags/v1", Flow.CHECKS),
    ],
)
def test_the_event_decides_the_flow(event: str, ref: str, flow: Flow) -> None:
    assert flow_for_event(event, ref) is flow


def test_unknown_event_and_short_ref_are_refused_with_the_fix() -> None:
    with pytest.raises(PipelineError, match=r"'schedule'.*--event"):
        flow_for_event("schedule", "refs/heads/main")
    with pytest.raises(PipelineError, match="--ref like refs/heads/main"):
        flow_for_event("push", "main")


def _result(stage: str, verdict: Verdict) -> StageResult:
    return StageResult(stage, verdict, f"{stage} {verdict}")


def test_every_check_verdict_is_kept_and_any_failure_blocks_release() -> None:
    checks = [
        _result("test", Verdict.FAILED),
        _result("lint", Verdict.PASSED),
        _result("scan", Verdict.FAILED),
        _result("docs-check", Verdict.PASSED),
    ]
    assert release_blocker(checks) == "not released: test, scan failed"
    assert overall_verdict(checks) is Verdict.FAILED
    assert release_blocker(checks[1::2]) is None
    assert overall_verdict([*checks[1::2], _result("notify", Verdict.SKIPPED)]) is Verdict.PASSED


def test_rollback_only_after_a_live_release_fails_smoke() -> None:
    assert needs_rollback(_result("deploy", Verdict.PASSED), _result("smoke", Verdict.FAILED))
    assert not needs_rollback(_result("deploy", Verdict.PASSED), _result("smoke", Verdict.PASSED))
    assert not needs_rollback(_result("deploy", Verdict.FAILED), _result("smoke", Verdict.SKIPPED))


async def _passes() -> tuple[str, Mapping[str, Any]]:
    return "ok", {"n": 1}


async def _fails() -> tuple[str, Mapping[str, Any]]:
    raise RuntimeError("boom with token s3cr3t")


def test_run_stage_turns_a_failure_into_a_verdict_so_siblings_keep_running() -> None:
    results: dict[str, StageResult] = {}

    async def main() -> None:
        async def one(name: str, action: Any) -> None:
            results[name] = await run_stage(name, action, lambda e: redact(str(e), ["s3cr3t"]))

        async with anyio.create_task_group() as group:
            group.start_soon(one, "bad", _fails)
            group.start_soon(one, "good", _passes)

    anyio.run(main)
    assert results["bad"].verdict is Verdict.FAILED
    assert results["bad"].summary == "boom with token ***"
    assert results["good"].verdict is Verdict.PASSED
    assert results["good"].details == {"n": 1}


def test_docs_are_committed_back_only_on_release_with_changes_and_a_token() -> None:
    assert should_commit_docs(Flow.RELEASE, ["README.md"], token_given=True)
    assert not should_commit_docs(Flow.CHECKS, ["README.md"], token_given=True)
    assert not should_commit_docs(Flow.RELEASE, [], token_given=True)
    assert not should_commit_docs(Flow.RELEASE, ["README.md"], token_given=False)
    message = docs_commit_message(["terraform/README.md", "README.md"])
    assert message == "docs: regenerate terraform docs (README.md, terraform/README.md) [skip ci]"
    many = docs_commit_message([f"terraform/modules/m{i}/README.md" for i in range(7)])
    assert many.endswith("and 2 more) [skip ci]")
    with pytest.raises(PipelineError):
        docs_commit_message([])


def test_faults_parse_per_service_and_refuse_typos() -> None:
    services, kinds = ["tiles", "timeseries"], ["crash", "unhealthy"]
    assert parse_faults(["crash"], services, kinds) == {"tiles": "crash"}
    assert parse_faults(["timeseries=unhealthy"], services, kinds) == {"timeseries": "unhealthy"}
    with pytest.raises(PipelineError, match="unknown fault 'crsh'"):
        parse_faults(["crsh"], services, kinds)
    with pytest.raises(PipelineError, match="unknown service 'tile'"):
        parse_faults(["tile=crash"], services, kinds)
    with pytest.raises(PipelineError, match="already has a fault"):
        parse_faults(["crash", "tiles=unhealthy"], services, kinds)


FAILED_DEPLOY = {
    "operation": "deploy",
    "cluster": "scidata",
    "region": "ap-southeast-2",
    "image": "repo@sha256:" + "0" * 64,
    "verdict": "failed",
    "reason": "service tiles failed: circuit breaker; rolled back tiles",
    "restore_points": [{"service": "tiles", "task_definition": "td/scidata-tiles:1"}],
    "services": [
        {
            "service": "tiles",
            "verdict": "failed",
            "reason": "circuit breaker",
            "old_task_definition": "td/scidata-tiles:1",
            "new_task_definition": "td/scidata-tiles:2",
            "new_deployment_id": "ecs-svc/2",
            "timings": {"rollout": 4.0},
            "rollback": {"verdict": "succeeded", "reason": "", "target_task_definition": "td/1"},
            "dossier": {
                "deployment_id": "ecs-svc/2",
                "events": ["(service tiles) deployment failed: tasks failed to start."],
                "stopped_tasks": [
                    {
                        "task_arn": "arn:task/abc",
                        "stopped_reason": "Essential container in task exited",
                        "stop_code": "EssentialContainerExited",
                        "containers": [{"name": "app", "exit_code": 1, "reason": None}],
                        "log_tail": {"app": ["RuntimeError: boom"]},
                    }
                ],
                "notes": [],
            },
        }
    ],
}


def test_report_renders_the_same_data_as_json_and_markdown() -> None:
    stages = [
        StageResult("build", Verdict.PASSED, "built", 12.34),
        StageResult(
            "deploy", Verdict.FAILED, "tiles | circuit breaker", 3.0, {"report": FAILED_DEPLOY}
        ),
        StageResult("smoke", Verdict.SKIPPED, "not smoked: deploy failed"),
    ]
    report = RunReport("rehearsal", "release", "rehearsal", "abc123def4567890", stages, {})
    data = json.loads(render_json(report))
    assert data["schema_version"] == 1
    assert data["verdict"] == "failed"
    assert [s["verdict"] for s in data["stages"]] == ["passed", "failed", "skipped"]
    assert data["stages"][1]["details"]["report"]["services"][0]["dossier"]["events"]
    markdown = render_markdown(report)
    assert markdown.startswith("## ❌ shipyard rehearsal: release → `rehearsal` — failed")
    assert "| deploy | ❌ failed | 3.0 s | tiles \\| circuit breaker |" in markdown
    assert "### deploy: Deploy ❌ failed" in markdown
    assert "Failure dossier of ecs-svc/2" in markdown
    assert "Essential container in task exited" in markdown
    assert "abc123def456`" in markdown


def test_test_outcome_reads_pytest_and_coverage_totals() -> None:
    output = (
        "....                                   [100%]\n"
        "Name    Stmts   Miss Branch BrPart  Cover\n"
        "TOTAL     120     10     30      2    91%\n"
        "12 passed, 1 skipped in 3.21s\n"
    )
    assert summarize_test_run(output) == "12 passed, 1 skipped in 3.21s; coverage 91%"
    assert (
        summarize_test_run("===== 2 failed, 3 passed in 0.50s =====")
        == "2 failed, 3 passed in 0.50s"
    )
    with pytest.raises(PipelineError, match="no totals line"):
        summarize_test_run("collected 0 items\n")


OUTPUTS = {
    "environment": "staging",
    "region": "ap-southeast-2",
    "alb_url": "https://staging.example.org",
    "ecr_repository_url": "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/scidata-gridserve",
    "cluster_name": "scidata-staging",
    "deploy_role_arn": "arn:aws:iam::123456789012:role/deploy",
    "service_names": {"tiles": "scidata-staging-tiles", "timeseries": "scidata-staging-ts"},
    "container_names": {"tiles": "tiles", "timeseries": "timeseries"},
    "deploy_order": ["tiles", "timeseries"],
}


def test_the_release_target_comes_from_terraform_outputs() -> None:
    target = parse_pipeline_outputs(json.dumps(OUTPUTS), "staging")
    assert target.cluster == "scidata-staging"
    assert target.services == ("scidata-staging-tiles", "scidata-staging-ts")
    # Keyed by the ECS service name the deploy engine is given, valued by terraform's names.
    assert target.containers == {
        "scidata-staging-tiles": "tiles",
        "scidata-staging-ts": "timeseries",
    }
    assert container_assignments(target.containers) == (
        "scidata-staging-tiles=tiles",
        "scidata-staging-ts=timeseries",
    )
    assert target.url == "https://staging.example.org"
    assert target.repository.endswith("/scidata-gridserve")


def test_the_deploy_engine_reads_back_the_container_names_the_release_passes() -> None:
    target = parse_pipeline_outputs(json.dumps(OUTPUTS), "staging")
    config = DeployConfig(
        cluster=target.cluster,
        services=target.services,
        containers=parse_container_assignments(container_assignments(target.containers)),
    )
    assert config.container_for("scidata-staging-tiles") == "tiles"
    assert config.container_for("scidata-staging-ts") == "timeseries"


@pytest.mark.parametrize(
    ("text", "environment", "names"),
    [
        ("not json", "staging", "is not JSON"),
        ("[]", "staging", "must be a JSON object"),
        (json.dumps({"environment": "staging"}), "staging", "lacks region"),
        (json.dumps(OUTPUTS), "production", "describes 'staging', not --environment"),
        (json.dumps({**OUTPUTS, "deploy_order": ["tiles", "maps"]}), "staging", "'maps'"),
        (
            json.dumps({k: v for k, v in OUTPUTS.items() if k != "container_names"}),
            "staging",
            "lacks container_names",
        ),
        (
            json.dumps({**OUTPUTS, "container_names": {"tiles": "tiles"}}),
            "staging",
            "container_names has no container for timeseries",
        ),
        (
            json.dumps({**OUTPUTS, "container_names": ["tiles", "timeseries"]}),
            "staging",
            "must be objects keyed by service role",
        ),
    ],
)
def test_bad_terraform_outputs_are_refused_before_anything_runs(
    text: str, environment: str, names: str
) -> None:
    with pytest.raises(PipelineError, match=names):
        parse_pipeline_outputs(text, environment)
