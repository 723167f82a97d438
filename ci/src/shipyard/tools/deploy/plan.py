"""The dry run: what each service's next task definition would be, as a unified diff."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any

from shipyard.tools.deploy.aws import Clients, aws, connect
from shipyard.tools.deploy.config import DeployConfig
from shipyard.tools.deploy.errors import DeployError, redacted_errors

# Fields ECS fills in itself; RegisterTaskDefinition rejects or ignores them.
READ_ONLY_KEYS = (
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
)


def container_problem(
    task_definition: dict[str, Any], wanted: str | None, service: str
) -> str | None:
    """Why the container to update cannot be chosen, with the fix; None when it can."""
    names = [c["name"] for c in task_definition.get("containerDefinitions", [])]
    arn = task_definition.get("taskDefinitionArn", "its task definition")
    if wanted is None and len(names) != 1:
        return (
            f"task definition {arn} has containers {names} and none was named for this "
            "service, so which one gets the new image is ambiguous; name it: --container "
            f"{service}=CONTAINER (the pipeline takes it from terraform output container_names)"
        )
    if wanted is not None and wanted not in names:
        return (
            f"task definition {arn} has no container named {wanted!r} (it has {names}); name "
            f"the container that runs the service: --container {service}=NAME, or in the "
            "pipeline refresh PIPELINE_CONFIG from `terraform output -json pipeline` "
            "(container_names)"
        )
    return None


def select_container(task_definition: dict[str, Any], wanted: str | None, service: str) -> str:
    """The container whose image is replaced: the named one, else the only one."""
    if problem := container_problem(task_definition, wanted, service):
        raise DeployError(f"service {service}: {problem}")
    return wanted or str(task_definition["containerDefinitions"][0]["name"])


def registration_input(
    task_definition: dict[str, Any],
    tags: list[dict[str, str]],
    image: str,
    container: str | None,
) -> dict[str, Any]:
    """RegisterTaskDefinition arguments: the live definition, `container`'s image swapped.

    With `container` None nothing is swapped (the live definition as it would be registered).
    """
    rendered = {k: v for k, v in task_definition.items() if k not in READ_ONLY_KEYS}
    rendered["containerDefinitions"] = [
        {**c, "image": image} if c["name"] == container else dict(c)
        for c in task_definition.get("containerDefinitions", [])
    ]
    if tags:
        rendered["tags"] = list(tags)
    return rendered


def render_diff(service: str, before: dict[str, Any], after: dict[str, Any], old_arn: str) -> str:
    def lines(document: dict[str, Any]) -> list[str]:
        return json.dumps(document, indent=2, sort_keys=True, default=str).splitlines(True)

    return "".join(
        difflib.unified_diff(
            lines(before),
            lines(after),
            fromfile=f"{service}: {old_arn}",
            tofile=f"{service}: next revision",
        )
    )


@dataclass(frozen=True)
class ServicePlan:
    service: str
    current_task_definition: str
    container: str
    registration: dict[str, Any]
    diff: str


@dataclass(frozen=True)
class Plan:
    cluster: str
    image: str
    services: tuple[ServicePlan, ...]

    def render(self) -> str:
        parts = []
        for service in self.services:
            body = service.diff or "(no change: the task definition already uses this image)\n"
            parts.append(
                f"== {service.service}: {service.current_task_definition} -> new revision "
                f"(container {service.container})\n{body}"
            )
        return "\n".join(parts)


def describe_service(clients: Clients, cluster: str, service: str) -> dict[str, Any]:
    with aws(f"service {service} in cluster {cluster}"):
        answer = clients.ecs.describe_services(cluster=cluster, services=[service])
    found = [s for s in answer.get("services", []) if s.get("status") == "ACTIVE"]
    if not found:
        raise DeployError(
            f"service {service} is not an ACTIVE service of cluster {cluster}; check the "
            "service name or create it with terraform apply"
        )
    return dict(found[0])


def describe_task_definition(
    clients: Clients, arn: str
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    with aws(f"task definition {arn}"):
        answer = clients.ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
    return dict(answer["taskDefinition"]), list(answer.get("tags") or [])


def plan_service(clients: Clients, config: DeployConfig, service: str) -> ServicePlan:
    described = describe_service(clients, config.cluster, service)
    arn = described["taskDefinition"]
    task_definition, tags = describe_task_definition(clients, arn)
    container = select_container(task_definition, config.container_for(service), service)
    registration = registration_input(task_definition, tags, config.image, container)
    before = registration_input(task_definition, tags, config.image, container=None)
    return ServicePlan(
        service, arn, container, registration, render_diff(service, before, registration, arn)
    )


def plan(config: DeployConfig, clients: Clients | None = None) -> Plan:
    """Read every service and render its next task definition. Changes nothing."""
    with redacted_errors(config.secrets()):
        config.require_image()
        clients = clients or connect(config)
        return Plan(
            config.cluster,
            config.image,
            tuple(plan_service(clients, config, service) for service in config.services),
        )
