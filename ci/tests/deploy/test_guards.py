"""No run tramples another: foreign deployments, foreign reports, throttling, credentials."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from shipyard.tools.deploy import DeployError, deploy, rollback
from shipyard.tools.deploy.__main__ import main

from .conftest import POLL_SECONDS, Rig, RigFactory

ECS = "AmazonEC2ContainerServiceV20141113."


def arn_of(rig: Rig, service: str) -> str:
    return str(rig.service(service)["taskDefinition"])


def outcome(report: Any, service: str) -> Any:
    return next(o for o in report.services if o.service == service)


def test_a_foreign_deployment_on_the_second_service_is_a_conflict_and_left_alone(
    make_rig: RigFactory,
) -> None:
    rig = make_rig()
    ecs = rig.client("ecs")
    live = ecs.describe_task_definition(taskDefinition=arn_of(rig, "timeseries"))
    definition = live["taskDefinition"]
    foreign = ecs.register_task_definition(
        family=definition["family"], containerDefinitions=definition["containerDefinitions"]
    )["taskDefinition"]["taskDefinitionArn"]
    before = {s: arn_of(rig, s) for s in ("tiles", "timeseries")}

    def log_and_interfere(line: str) -> None:
        rig.log(line)
        if line.startswith("tiles: deployment ") and "started" in line:
            ecs.update_service(
                cluster=rig.account.cluster, service="timeseries", taskDefinition=foreign
            )

    report = deploy(rig.config(), log=log_and_interfere)

    timeseries = outcome(report, "timeseries")
    assert report.verdict == "conflict"
    assert timeseries.verdict == "conflict"
    assert foreign in timeseries.reason
    assert "someone else" in timeseries.reason
    assert timeseries.new_task_definition is None, "nothing registered from the foreign release"
    assert timeseries.rollback is None
    assert arn_of(rig, "timeseries") == foreign, "the foreign release keeps the service"
    assert outcome(report, "tiles").verdict == "succeeded"
    assert report.restore_points[1].task_definition == before["timeseries"]
    families = ecs.list_task_definitions(familyPrefix=definition["family"])["taskDefinitionArns"]
    assert len(families) == 2, "only the seeded and the foreign revision"
    assert arn_of(rig, "tiles") == outcome(report, "tiles").new_task_definition
    assert rig.front.calls[ECS + "DeregisterTaskDefinition"] == 0


def test_a_report_from_another_cluster_is_refused_before_any_change(
    make_rig: RigFactory, tmp_path: Path
) -> None:
    staging, production = make_rig(), make_rig()
    staged = deploy(staging.config(), log=staging.log)
    json_path, _ = staged.write(tmp_path)
    before = {s: arn_of(production, s) for s in ("tiles", "timeseries")}
    production.front.calls.clear()

    with pytest.raises(DeployError) as refused:
        rollback(production.config(), log=production.log, report_path=json_path)

    message = str(refused.value)
    assert f"does not belong to cluster {production.account.cluster}" in message
    assert f"it was made on cluster {staging.account.cluster}" in message
    assert f"{staging.account.cluster}-tiles" in message
    assert "not of the family" in message
    assert production.mutating_calls() == 0
    assert production.front.calls[ECS + "TagResource"] == 0
    assert {s: arn_of(production, s) for s in before} == before


def test_a_report_from_another_region_is_refused(make_rig: RigFactory, tmp_path: Path) -> None:
    rig = make_rig(services=("tiles",))
    report = deploy(rig.config(services=("tiles",)), log=rig.log)
    report.region = "us-east-1"
    json_path, _ = report.write(tmp_path)

    with pytest.raises(DeployError, match="it was made in region us-east-1, not ap-southeast-2"):
        rollback(rig.config(services=("tiles",)), log=rig.log, report_path=json_path)


def test_twenty_throttled_polls_and_updates_in_a_row_still_succeed(make_rig: RigFactory) -> None:
    rig = make_rig(services=("tiles",))

    def log_and_throttle(line: str) -> None:
        rig.log(line)
        if line.startswith("tiles: registered"):
            rig.front.throttle.update({"UpdateService": 20})
        if line.startswith("tiles: deployment ") and "started" in line:
            rig.front.throttle.update({"DescribeServices": 20})

    report = deploy(rig.config(services=("tiles",), max_attempts=2), log=log_and_throttle)

    assert report.verdict == "succeeded", report.reason
    assert rig.front.calls["throttled:UpdateService"] == 20
    assert rig.front.calls["throttled:DescribeServices"] == 20
    assert outcome(report, "tiles").rollback is None
    assert any("throttling or failing transiently" in line for line in rig.lines)
    assert arn_of(rig, "tiles") == outcome(report, "tiles").new_task_definition
    assert rig.front.calls[ECS + "DeregisterTaskDefinition"] == 0


def test_an_unexpected_error_inside_a_rollback_still_ends_in_a_report(
    make_rig: RigFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shipyard.tools.deploy.engine as engine

    rig = make_rig(services=("tiles",))
    deployed = deploy(rig.config(services=("tiles",)), log=rig.log)
    json_path, _ = deployed.write(tmp_path / "deployed")

    def breaking_watch(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("cannot convert float NaN to integer")

    monkeypatch.setattr(engine, "watch", breaking_watch)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAGUARDTESTGUARD00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "guard-secret")
    code = main(
        [
            "rollback",
            "--cluster",
            rig.account.cluster,
            "--endpoint-url",
            rig.url,
            "--poll-interval",
            str(POLL_SECONDS),
            "--from-report",
            str(json_path),
            "--report-dir",
            str(tmp_path),
        ]
    )

    assert code == 1
    report = json.loads((tmp_path / "rollback-report.json").read_text())
    assert report["verdict"] == "failed"
    assert "unexpected ValueError in the deploy engine" in report["reason"]
    assert report["services"][0]["rollback"]["verdict"] == "failed"
    assert arn_of(rig, "tiles") == deployed.restore_points[0].task_definition, "the call was sent"
    assert rig.front.calls[ECS + "DeregisterTaskDefinition"] == 0


def test_credentials_from_the_chain_never_leak_through_aws_text(
    make_rig: RigFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    canary_key, canary_secret = "AKIACHAINCANARY00042", "CHAIN-canary-0xdeadbeef"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", canary_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", canary_secret)
    rig = make_rig(faults=("tiles=crash",), services=("tiles",))
    tiles = rig.front.model.find(rig.service("tiles")["clusterArn"], "tiles")
    assert tiles is not None

    def log_and_leak(line: str) -> None:
        rig.log(line)
        if line.startswith("tiles: deployment ") and "started" in line:
            # An event quoting the credentials, as a misconfigured task's error text might.
            with rig.front.lock:
                rig.front.model._event(
                    tiles, f"task env AWS_SECRET_ACCESS_KEY={canary_secret} {canary_key}"
                )

    report = deploy(rig.config(services=("tiles",), credentials=None), log=log_and_leak)
    json_path, markdown_path = report.write(tmp_path)

    assert report.verdict == "failed"
    visible = "\n".join(
        [*rig.lines, json_path.read_text(), markdown_path.read_text(), repr(report)]
    )
    assert "tiles: event: (service tiles) task env AWS_SECRET_ACCESS_KEY=*** ***" in rig.lines
    assert "task env AWS_SECRET_ACCESS_KEY=***" in json_path.read_text()
    assert canary_secret not in visible
    assert canary_key not in visible


def test_a_malformed_region_is_a_one_line_error(
    make_rig: RigFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    rig = make_rig(services=("tiles",))

    code = main(
        [
            "verify",
            "--cluster",
            rig.account.cluster,
            "--image",
            rig.new_image,
            "--region",
            "ap southeast 2",
            "--endpoint-url",
            rig.url,
        ]
    )

    assert code == 2
    assert capsys.readouterr().err == (
        "error: region 'ap southeast 2' is not an AWS region name; pass one like ap-southeast-2\n"
    )
    assert rig.mutating_calls() == 0


def test_a_run_that_marks_the_services_at_the_same_time_stops_this_one_before_any_change(
    make_rig: RigFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shipyard.tools.deploy import markers

    rig = make_rig()
    real_mark = markers.mark
    other = markers.RunIdentity("20261204T000000Z-0ther0", "2026-12-04T00:00:00+00:00", "x")

    def mark_then_race(clients: Any, service: dict[str, Any], tags: list[Any]) -> None:
        real_mark(clients, service, tags)
        if service["serviceName"] == "timeseries":
            td = str(service["taskDefinition"])
            real_mark(clients, service, markers.restore_tags(other, td, None))

    monkeypatch.setattr(markers, "mark", mark_then_race)
    with pytest.raises(DeployError, match="two deploys are running at once") as refused:
        deploy(rig.config(), log=rig.log)

    assert other.run_id in str(refused.value)
    assert rig.mutating_calls() == 0
    assert markers.IN_FLIGHT not in rig.tags("tiles"), "this run's own marker is withdrawn"
    assert rig.tags("timeseries")[markers.IN_FLIGHT] == other.run_id, "the other's is kept"
