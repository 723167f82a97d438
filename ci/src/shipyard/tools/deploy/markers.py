"""Restore points kept where the service lives: tags on the ECS service itself.

Before a deploy changes anything it tags every service with its restore point (task definition
ARN, PRIMARY deployment id), the run's id, start time and image, and an in-flight marker. A run
that ends with every touched service on a known task definition removes the marker; one that
was killed leaves it, so the next run (verify, rollback without a report) can read from AWS
where to go back to, with nothing from the dead runner's disk. Any run with the deploy role can
read the tags: ecs:ListTagsForResource.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shipyard.tools.deploy.aws import Clients, aws

PREFIX = "shipyard:"
RUN_ID = PREFIX + "run-id"
RUN_STARTED = PREFIX + "run-started"
RUN_IMAGE = PREFIX + "run-image"
RESTORE_TASK_DEFINITION = PREFIX + "restore-task-definition"
RESTORE_DEPLOYMENT = PREFIX + "restore-deployment"
IN_FLIGHT = PREFIX + "in-flight"
# ECS tag values: at most 256 of letters, digits, spaces and + - = . _ : / @.
TAG_VALUE_FORBIDDEN = re.compile(r"[^\w\s+\-=.:/@]")


@dataclass(frozen=True)
class RunIdentity:
    run_id: str
    started_at: str
    image: str


@dataclass(frozen=True)
class Marker:
    """What one service's tags say about the last run that deployed it."""

    service: str
    service_arn: str
    run_id: str
    started_at: str
    image: str
    restore_task_definition: str
    restore_deployment_id: str | None
    in_flight: bool


def tag_value(text: str) -> str:
    return TAG_VALUE_FORBIDDEN.sub("_", text)[:256]


def restore_tags(
    run: RunIdentity, task_definition: str, deployment_id: str | None
) -> list[dict[str, str]]:
    """The tags that record a service's restore point and mark the run as in flight."""
    tags = {
        RUN_ID: run.run_id,
        RUN_STARTED: run.started_at,
        RUN_IMAGE: run.image or "-",
        RESTORE_TASK_DEFINITION: task_definition,
        RESTORE_DEPLOYMENT: deployment_id or "-",
        IN_FLIGHT: run.run_id,
    }
    return [{"key": key, "value": tag_value(value)} for key, value in tags.items()]


def parse_marker(service_arn: str, tags: list[dict[str, str]]) -> Marker | None:
    """The restore point a service's tags record, or None when no run of ours tagged it."""
    values = {t.get("key"): t.get("value", "") for t in tags}
    if not values.get(RUN_ID) or not values.get(RESTORE_TASK_DEFINITION):
        return None
    deployment = values.get(RESTORE_DEPLOYMENT)
    return Marker(
        service=service_arn.rsplit("/", 1)[-1],
        service_arn=service_arn,
        run_id=str(values[RUN_ID]),
        started_at=str(values.get(RUN_STARTED, "")),
        image=str(values.get(RUN_IMAGE, "")),
        restore_task_definition=str(values[RESTORE_TASK_DEFINITION]),
        restore_deployment_id=deployment if deployment and deployment != "-" else None,
        in_flight=bool(values.get(IN_FLIGHT)),
    )


def last_interrupted_run(markers: list[Marker]) -> list[Marker]:
    """The in-flight markers of the most recently started run that never cleared them."""
    in_flight = [m for m in markers if m.in_flight]
    if not in_flight:
        return []
    latest = max(in_flight, key=lambda m: (m.started_at, m.run_id))
    return sorted((m for m in in_flight if m.run_id == latest.run_id), key=lambda m: m.service)


def rollback_command(cluster: str, region: str, endpoint_url: str | None) -> str:
    """The command that returns an interrupted run's services to their restore points."""
    endpoint = f" --endpoint-url {endpoint_url}" if endpoint_url else ""
    scope = f"--cluster {cluster} --region {region}{endpoint}"
    return f"python -m shipyard.tools.deploy rollback {scope}"


# ------------------------------------------------------------------ AWS edge
def read_marker(clients: Clients, service_arn: str) -> Marker | None:
    with aws(f"service {service_arn} (ListTagsForResource)"):
        tags = clients.ecs.list_tags_for_resource(resourceArn=service_arn).get("tags", [])
    return parse_marker(service_arn, tags)


def read_markers(clients: Clients, services: list[dict[str, Any]]) -> list[Marker]:
    """The markers on `services` (DescribeServices answers)."""
    return [m for s in services if (m := read_marker(clients, str(s["serviceArn"]))) is not None]


def mark(clients: Clients, service: dict[str, Any], tags: list[dict[str, str]]) -> None:
    arn = str(service["serviceArn"])
    with aws(f"service {service.get('serviceName')} (TagResource)"):
        clients.ecs.tag_resource(resourceArn=arn, tags=tags)


def clear_in_flight(clients: Clients, service_arn: str) -> None:
    with aws(f"service {service_arn} (UntagResource)"):
        clients.ecs.untag_resource(resourceArn=service_arn, tagKeys=[IN_FLIGHT])
