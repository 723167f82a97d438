"""The rollout model's state in the ECS API's shapes (Service, Deployment, Task, Container).

Pure: each function reads the model's objects and returns what DescribeServices, ListTasks or
DescribeTasks would; `to_epoch` turns the model's simulated seconds into the API's timestamps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from shipyard.tools.rehearsal.ecs_state import SimDeployment, SimService, SimTask

ToEpoch = Callable[[float], float]


def deployment_shape(
    service: SimService, deployment: SimDeployment, to_epoch: ToEpoch, launch_type: str
) -> dict[str, Any]:
    tasks = [t for t in service.tasks if t.deployment_id == deployment.id]
    return {
        "id": deployment.id,
        "status": deployment.status,
        "taskDefinition": deployment.task_definition,
        "desiredCount": deployment.desired_count,
        "pendingCount": sum(t.last_status == "PENDING" and t.live for t in tasks),
        "runningCount": sum(t.last_status == "RUNNING" for t in tasks),
        "failedTasks": deployment.failed_tasks,
        "createdAt": to_epoch(deployment.created_at),
        "updatedAt": to_epoch(deployment.updated_at),
        "launchType": launch_type,
        "rolloutState": deployment.rollout_state,
        "rolloutStateReason": deployment.rollout_state_reason,
    }


def service_shape(service: SimService, base: dict[str, Any], to_epoch: ToEpoch) -> dict[str, Any]:
    """The moto Service shape `base` with the scheduler's live state laid over it."""
    launch_type = str(base.get("launchType", "FARGATE"))
    deployments = [deployment_shape(service, d, to_epoch, launch_type) for d in service.deployments]
    return {
        **base,
        "taskDefinition": service.primary.task_definition,
        "desiredCount": service.desired_count,
        "runningCount": sum(d["runningCount"] for d in deployments),
        "pendingCount": sum(d["pendingCount"] for d in deployments),
        "deployments": deployments,
        "events": list(service.events),
        "deploymentConfiguration": {
            **base.get("deploymentConfiguration", {}),
            "deploymentCircuitBreaker": {
                "enable": service.circuit_breaker,
                "rollback": service.rollback,
            },
        },
    }


def task_arns(
    services: Iterable[SimService], desired_status: str, started_by: str | None
) -> list[str]:
    """ListTasks: the tasks of `services` with that desired status (and starter, if given)."""
    return [
        t.arn
        for s in services
        for t in s.tasks
        if t.desired_status == desired_status
        and (started_by is None or t.deployment_id == started_by)
    ]


def task_shape(task: SimTask, to_epoch: ToEpoch) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "taskArn": task.arn,
        "clusterArn": task.service.cluster_arn,
        "taskDefinitionArn": task.task_definition,
        "group": f"service:{task.service.name}",
        "startedBy": task.deployment_id,
        "lastStatus": task.last_status,
        "desiredStatus": task.desired_status,
        "healthStatus": task.health,
        "launchType": "FARGATE",
        "createdAt": to_epoch(task.created_at),
        "containers": [
            {
                "containerArn": task.arn.replace(":task/", ":container/", 1) + "/" + c.info.name,
                "taskArn": task.arn,
                "name": c.info.name,
                "image": c.info.image,
                "lastStatus": c.last_status,
                **({"exitCode": c.exit_code} if c.exit_code is not None else {}),
                **({"reason": c.reason} if c.reason else {}),
            }
            for c in task.containers
        ],
    }
    for key, value in (
        ("startedAt", task.started_at),
        ("stoppingAt", task.stopping_at),
        ("stoppedAt", task.stopped_at),
    ):
        if value is not None:
            shape[key] = to_epoch(value)
    if task.stopped_reason:
        shape["stoppedReason"] = task.stopped_reason
        shape["stopCode"] = task.stop_code
    return shape
