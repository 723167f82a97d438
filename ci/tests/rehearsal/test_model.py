"""The rollout model on a hand-driven clock: ECS's states, in ECS's words."""

from __future__ import annotations

import pytest
from shipyard.tools.rehearsal.ecs_state import ContainerInfo, SimService
from shipyard.tools.rehearsal.faults import Fault, FaultKind, RehearsalError
from shipyard.tools.rehearsal.model import RolloutModel, failure_threshold

CLUSTER = "arn:aws:ecs:ap-southeast-2:123456789012:cluster/scidata"
OLD = "arn:aws:ecs:ap-southeast-2:123456789012:task-definition/tiles:1"
NEW = "arn:aws:ecs:ap-southeast-2:123456789012:task-definition/tiles:2"
LOGS = {"awslogs-group": "/ecs/scidata", "awslogs-stream-prefix": "tiles"}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make_model(*faults: str, rollback: bool = True) -> tuple[RolloutModel, Clock, SimService]:
    clock = Clock()
    model = RolloutModel(
        clock,
        lambda arn: [ContainerInfo("tiles", f"repo:{arn[-1]}", True, dict(LOGS))],
        faults=[Fault.parse(f) for f in faults],
    )
    service = model.adopt(
        cluster_arn=CLUSTER,
        name="tiles",
        arn=CLUSTER.replace("cluster", "service") + "/tiles",
        task_definition=OLD,
        desired_count=2,
        deployment_id="ecs-svc/1",
        circuit_breaker=True,
        rollback=rollback,
    )
    return model, clock, service


def run_until(model: RolloutModel, clock: Clock, service: SimService, seconds: float) -> None:
    clock.now += seconds
    model.advance()


def shape(model: RolloutModel, service: SimService) -> dict[str, object]:
    return model.overlay_service(service, {"serviceName": "tiles"})


def test_healthy_rollout_walks_in_progress_to_completed() -> None:
    model, clock, service = make_model()
    model.update_service(
        service, task_definition=NEW, desired_count=None, force_new_deployment=False
    )
    first = shape(model, service)
    deployments = first["deployments"]
    assert [(d["status"], d["rolloutState"], d["taskDefinition"]) for d in deployments] == [
        ("PRIMARY", "IN_PROGRESS", NEW),
        ("ACTIVE", "COMPLETED", OLD),
    ]
    assert deployments[0]["pendingCount"] == 2
    run_until(model, clock, service, 12)
    assert shape(model, service)["deployments"][0]["runningCount"] == 2
    run_until(model, clock, service, 120)
    done = shape(model, service)
    assert [(d["status"], d["rolloutState"], d["runningCount"]) for d in done["deployments"]] == [
        ("PRIMARY", "COMPLETED", 2)
    ]
    assert done["taskDefinition"] == NEW
    messages = [e["message"] for e in done["events"]]
    assert messages[0] == "(service tiles) has reached a steady state."
    assert messages[1].endswith("deployment completed.")
    stopped = model.list_task_arns(service, "STOPPED", "ecs-svc/1")
    assert len(stopped) == 2, "the old tasks were drained"
    old_task = model.describe_task(model.find_task(stopped[0]))  # type: ignore[arg-type]
    assert old_task["stoppedReason"].startswith("Scaling activity initiated by (deployment")


def test_crash_trips_the_circuit_breaker_and_rolls_back() -> None:
    model, clock, service = make_model("tiles=crash")
    model.update_service(
        service, task_definition=NEW, desired_count=None, force_new_deployment=False
    )
    failed_id = service.primary.id
    for _ in range(60):
        run_until(model, clock, service, 1)
        if service.primary.id != failed_id:
            break
    deployments = shape(model, service)["deployments"]
    failed = next(d for d in deployments if d["id"] == failed_id)
    assert failed["status"] == "ACTIVE"
    assert failed["rolloutState"] == "FAILED"
    assert failed["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    assert failed["failedTasks"] >= failure_threshold(2) == 3
    assert deployments[0]["taskDefinition"] == OLD
    assert deployments[0]["status"] == "PRIMARY"
    task = model.describe_task(
        model.find_task(  # type: ignore[arg-type]
            model.list_task_arns(service, "STOPPED", failed_id)[0]
        )
    )
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["containers"][0]["exitCode"] == 1
    logs = model.take_logs()
    assert any("rehearsal fault 'crash'" in r.message for r in logs)
    assert all(r.stream.startswith("tiles/tiles/") for r in logs)
    run_until(model, clock, service, 120)
    assert [d["rolloutState"] for d in shape(model, service)["deployments"]] == ["COMPLETED"]


def test_without_rollback_the_failed_deployment_stays_primary() -> None:
    model, clock, service = make_model("tiles=pull_error", rollback=False)
    model.update_service(
        service, task_definition=NEW, desired_count=None, force_new_deployment=False
    )
    run_until(model, clock, service, 60)
    primary = shape(model, service)["deployments"][0]
    assert (primary["taskDefinition"], primary["rolloutState"]) == (NEW, "FAILED")
    task = model.describe_task(
        model.find_task(  # type: ignore[arg-type]
            model.list_task_arns(service, "STOPPED", primary["id"])[0]
        )
    )
    assert task["stoppedReason"].startswith("CannotPullContainerError")
    assert "exitCode" not in task["containers"][0]


def test_slow_rollout_stays_in_progress_and_faults_spare_the_old_release() -> None:
    model, clock, service = make_model("tiles=slow")
    model.update_service(
        service, task_definition=NEW, desired_count=None, force_new_deployment=False
    )
    run_until(model, clock, service, 120)
    assert service.primary.rollout_state == "IN_PROGRESS"
    model.update_service(
        service, task_definition=OLD, desired_count=None, force_new_deployment=False
    )
    run_until(model, clock, service, 120)
    assert (service.primary.task_definition, service.primary.rollout_state) == (OLD, "COMPLETED")


def test_numbered_fault_hits_from_that_update_on() -> None:
    model, clock, service = make_model("tiles=unhealthy@2")
    model.update_service(
        service, task_definition=NEW, desired_count=None, force_new_deployment=False
    )
    run_until(model, clock, service, 120)
    assert service.primary.rollout_state == "COMPLETED"
    model.update_service(
        service, task_definition=OLD, desired_count=None, force_new_deployment=False
    )
    rollback_id = service.primary.id
    run_until(model, clock, service, 240)
    failed = (
        next(d for d in service.deployments if d.id == rollback_id)
        if any(d.id == rollback_id for d in service.deployments)
        else None
    )
    assert service.primary.task_definition == NEW, "circuit breaker went back to :2"
    assert failed is None or failed.rollout_state == "FAILED"
    stopped = [model.find_task(a) for a in model.list_task_arns(service, "STOPPED", rollback_id)]
    assert stopped
    assert all(
        t is not None and (t.stopped_reason or "").startswith("Task failed ELB health checks")
        for t in stopped
    )


def test_same_definition_without_force_starts_nothing() -> None:
    model, _, service = make_model()
    model.update_service(
        service, task_definition=OLD, desired_count=None, force_new_deployment=False
    )
    assert len(service.deployments) == 1
    model.update_service(
        service, task_definition=None, desired_count=None, force_new_deployment=True
    )
    assert len(service.deployments) == 2


def test_app_probe_decides_health() -> None:
    model, clock, service = make_model()
    service.app_probe = lambda: False
    model.update_service(
        service, task_definition=NEW, desired_count=None, force_new_deployment=False
    )
    run_until(model, clock, service, 300)
    assert service.primary.task_definition == OLD
    service.app_probe = lambda: True
    model.update_service(
        service, task_definition=NEW, desired_count=None, force_new_deployment=False
    )
    run_until(model, clock, service, 150)
    assert (service.primary.task_definition, service.primary.rollout_state) == (NEW, "COMPLETED")


@pytest.mark.parametrize("spec", ["tiles", "tiles=explode", "=crash", "tiles=crash@0"])
def test_bad_fault_specs_name_the_fix(spec: str) -> None:
    with pytest.raises(RehearsalError, match=spec.replace("@", ".")):
        Fault.parse(spec)


def test_fault_spec_parsing() -> None:
    assert Fault.parse("timeseries=pull_error@2") == Fault("timeseries", FaultKind.PULL_ERROR, 2)
    assert Fault.parse("tiles=crash").from_update is None
