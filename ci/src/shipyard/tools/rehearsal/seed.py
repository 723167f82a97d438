"""Lay out a rehearsal account: the resources terraform would have created, in moto.

Everything goes through the rehearsal front (so it learns each service's circuit breaker
setting), using the same API calls a real account would answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shipyard.decide import topology
from shipyard.tools.rehearsal.front import moto_session

ASSUME_ECS_TASKS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@dataclass(frozen=True)
class SeededAccount:
    """What was seeded; `containers` maps each service to its application container."""

    cluster: str
    services: tuple[str, ...]
    containers: dict[str, str]
    repository: str
    repository_uri: str
    image: str
    log_group: str
    region: str


def image_manifest(tag: str) -> str:
    """A minimal image manifest whose digest differs per tag (moto digests the layer list)."""
    config_digest = "sha256:" + hashlib.sha256(f"config {tag}".encode()).hexdigest()
    layer_digest = "sha256:" + hashlib.sha256(f"layer {tag}".encode()).hexdigest()
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 7,
                "digest": config_digest,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 7,
                    "digest": layer_digest,
                }
            ],
        }
    )


def push_image(endpoint_url: str, region: str, repository: str, tag: str) -> str:
    """Put an image into the ECR repository; returns `repositoryUri@sha256:...`."""
    ecr = _session(region).client("ecr", endpoint_url=endpoint_url)
    pushed = ecr.put_image(
        repositoryName=repository, imageManifest=image_manifest(tag), imageTag=tag
    )
    uri = ecr.describe_repositories(repositoryNames=[repository])["repositories"][0][
        "repositoryUri"
    ]
    return f"{uri}@{pushed['image']['imageId']['imageDigest']}"


def seed_account(
    endpoint_url: str,
    *,
    cluster: str = "scidata",
    services: tuple[str, ...] = topology.ROLES,
    repository: str | None = None,
    region: str = topology.REGION,
    desired_count: int = 2,
    circuit_breaker: bool = True,
    containers: Mapping[str, str] | None = None,
    sidecars: Sequence[Mapping[str, Any]] = (),
    log_groups: Mapping[str, str] | None = None,
) -> SeededAccount:
    """Create roles, log group, ECR image v1, cluster, a task definition and service each.

    Like terraform (`container_name = role`), each service's application container is named
    after the service unless `containers` says otherwise; `sidecars` are further container
    definitions put into every task definition after it. Each service logs to its group in
    `log_groups` (terraform's `/ecs/NAME/ROLE`), else to `/ecs/CLUSTER`. Account-wide names (roles,
    repository) start with the cluster name, so several seeded clusters can share one moto
    server.
    """
    named = {service: (containers or {}).get(service, service) for service in services}
    repository = repository or f"{cluster}-gridserve"
    session = _session(region)
    iam = session.client("iam", endpoint_url=endpoint_url)
    execution_role, task_role = (
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=ASSUME_ECS_TASKS)["Role"]["Arn"]
        for role in (f"{cluster}-task-execution", f"{cluster}-task")
    )
    log_group = f"/ecs/{cluster}"
    groups = {service: (log_groups or {}).get(service, log_group) for service in services}
    logs = session.client("logs", endpoint_url=endpoint_url)
    for group in sorted(set(groups.values())):
        logs.create_log_group(logGroupName=group)
    session.client("ecr", endpoint_url=endpoint_url).create_repository(repositoryName=repository)
    image = push_image(endpoint_url, region, repository, "v1")
    ecs = session.client("ecs", endpoint_url=endpoint_url)
    ecs.create_cluster(clusterName=cluster)
    for service in services:
        app = _app_container(named[service], service, image, groups[service], region)
        ecs.register_task_definition(
            family=task_family(cluster, service),
            containerDefinitions=[app, *(dict(sidecar) for sidecar in sidecars)],
            executionRoleArn=execution_role,
            taskRoleArn=task_role,
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            tags=[{"key": "project", "value": "scidata"}],
        )
        _create_service(ecs, cluster, service, desired_count, circuit_breaker)
    uri = image.split("@", 1)[0]
    return SeededAccount(cluster, services, named, repository, uri, image, log_group, region)


def task_family(cluster: str, service: str) -> str:
    """Terraform's task definition family: the service's name (`gridserve-staging-tiles`). A
    test cluster's bare role names (`tiles`) get the cluster in front, so that several seeded
    clusters can share one moto server without sharing revisions."""
    return service if service.startswith(f"{cluster}-") else f"{cluster}-{service}"


def _create_service(
    ecs: Any, cluster: str, service: str, desired_count: int, circuit_breaker: bool
) -> None:
    """The service on its task definition's latest revision, with the circuit breaker (and its
    rollback) as terraform sets it."""
    ecs.create_service(
        cluster=cluster,
        serviceName=service,
        taskDefinition=task_family(cluster, service),
        desiredCount=desired_count,
        launchType="FARGATE",
        deploymentConfiguration={
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
            "deploymentCircuitBreaker": {"enable": circuit_breaker, "rollback": True},
        },
    )


def _app_container(name: str, role: str, image: str, log_group: str, region: str) -> dict[str, Any]:
    """The service's application container, as terraform's task definition has it."""
    return {
        "name": name,
        "image": image,
        "essential": True,
        "memory": 512,
        "portMappings": [{"containerPort": topology.APP_PORT, "protocol": "tcp"}],
        "environment": [{"name": "GRIDSERVE_ROLE", "value": role}],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": region,
                "awslogs-stream-prefix": role,
            },
        },
    }


def _session(region: str) -> Any:
    return moto_session(region)
