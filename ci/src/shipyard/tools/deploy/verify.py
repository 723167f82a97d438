"""Pre-flight checks: everything a deploy relies on, read-only, each failure with its fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shipyard.tools.deploy.aws import AWS_ERRORS, Clients, aws, connect, describe_error, error_code
from shipyard.tools.deploy.config import DeployConfig, ImageRef
from shipyard.tools.deploy.errors import DeployError, redacted_errors, scrubbed
from shipyard.tools.deploy.markers import Marker, read_marker, rollback_command
from shipyard.tools.deploy.plan import container_problem, describe_task_definition


@dataclass(frozen=True)
class Finding:
    thing: str
    problem: str
    fix: str  # empty when the problem text already says how to fix it
    blocking: bool = True

    def __str__(self) -> str:
        level = "error" if self.blocking else "warning"
        fix = f"; fix: {self.fix}" if self.fix else ""
        return f"{level}: {self.thing}: {self.problem}{fix}"


@dataclass
class VerifyResult:
    findings: list[Finding] = field(default_factory=list)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    account: str | None = None

    @property
    def ok(self) -> bool:
        return not any(f.blocking for f in self.findings)

    def render(self) -> str:
        if not self.findings:
            return "verify: every check passed"
        return "\n".join(str(f) for f in self.findings)

    def raise_if_blocked(self) -> None:
        if not self.ok:
            blocking = [str(f) for f in self.findings if f.blocking]
            raise DeployError(
                "pre-flight checks failed, nothing was changed:\n" + "\n".join(blocking)
            )


def deployment_in_progress(service: dict[str, Any]) -> str | None:
    """Why the service is mid-deployment, or None when it is steady."""
    deployments = service.get("deployments", [])
    if len(deployments) > 1:
        ids = ", ".join(str(d.get("id")) for d in deployments)
        return f"it has {len(deployments)} deployments ({ids})"
    rolling = [d for d in deployments if d.get("rolloutState") == "IN_PROGRESS"]
    if rolling:
        return f"deployment {rolling[0].get('id')} is IN_PROGRESS"
    return None


def circuit_breaker_finding(name: str, service: dict[str, Any]) -> Finding | None:
    breaker = (service.get("deploymentConfiguration") or {}).get("deploymentCircuitBreaker") or {}
    if breaker.get("enable") and breaker.get("rollback"):
        return None
    return Finding(
        f"service {name}",
        "the deployment circuit breaker with rollback is off, so a failing rollout is only "
        "caught by our timeout",
        "enable deployment_circuit_breaker { enable = true, rollback = true } in terraform",
        blocking=False,
    )


def in_flight_findings(
    config: DeployConfig, clients: Clients, name: str, service: dict[str, Any]
) -> list[Finding]:
    """A run of ours still marked in flight, or else any deployment in progress."""
    marker = read_marker(clients, str(service["serviceArn"]))
    if marker is not None and marker.in_flight:
        # The marker names the run and what to run: more than "a deployment in progress".
        return marker_findings(config, marker)
    busy = deployment_in_progress(service)
    if not busy:
        return []
    return [
        Finding(
            f"service {name}",
            f"a deployment is already in progress: {busy}",
            "wait for it to finish, or pass force to deploy over it",
            blocking=not config.force,
        )
    ]


def marker_findings(config: DeployConfig, marker: Marker) -> list[Finding]:
    """An in-flight marker: a run that is still going, or died before it could finish."""
    return [
        Finding(
            f"service {marker.service}",
            f"run {marker.run_id} (started {marker.started_at}, image {marker.image}) is still "
            f"deploying it or was interrupted: its in-flight marker is set and its restore point "
            f"is {marker.restore_task_definition}",
            "if that run is no longer going, return its services to their restore points with "
            f"`{rollback_command(config.cluster, config.region, config.endpoint_url)}` (or "
            f"`dagger call rollback --cluster {config.cluster} --region {config.region}` with "
            "the deploy credentials), then deploy again; force deploys anyway and records the "
            "current task definitions as the new restore points",
            blocking=not config.force,
        )
    ]


def role_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def verify(config: DeployConfig, clients: Clients | None = None) -> VerifyResult:
    """Run every pre-flight check; never changes anything."""
    with redacted_errors(config.secrets()):
        clients = clients or connect(config)
        with redacted_errors(clients.secrets):
            result = _verify(config, clients)
    # Only the text a person reads is scrubbed: the services' data is input to the deploy.
    result.findings = scrubbed(result.findings, clients.secrets)
    return result


def _verify(config: DeployConfig, clients: Clients) -> VerifyResult:
    image = config.require_image()
    result = VerifyResult()
    findings = result.findings
    try:
        with aws("the caller identity"):
            result.account = str(clients.sts.get_caller_identity()["Account"])
    except DeployError as error:
        findings.append(Finding("sts:GetCallerIdentity", str(error), ""))
        return result
    with aws(f"cluster {config.cluster}"):
        clusters = clients.ecs.describe_clusters(clusters=[config.cluster])
    active = [c for c in clusters.get("clusters", []) if c.get("status") == "ACTIVE"]
    if not active:
        findings.append(
            Finding(
                f"cluster {config.cluster}",
                f"not found (or not ACTIVE) in region {config.region}",
                "pass the cluster name from terraform output and the region it lives in",
            )
        )
        return result
    by_name: dict[str, dict[str, Any]] = {}
    for first in range(0, len(config.services), 10):  # DescribeServices takes 10 at most
        batch = list(config.services[first : first + 10])
        with aws(f"services {', '.join(batch)}"):
            described = clients.ecs.describe_services(cluster=config.cluster, services=batch)
        by_name.update({s["serviceName"]: s for s in described.get("services", [])})
    task_definitions: dict[str, dict[str, Any]] = {}
    for name in config.services:
        service = by_name.get(name)
        if service is None or service.get("status") != "ACTIVE":
            findings.append(
                Finding(
                    f"service {name}",
                    f"not an ACTIVE service of cluster {config.cluster}"
                    + (f" (status {service.get('status')})" if service else ""),
                    "check the service name or create it with terraform apply",
                )
            )
            continue
        result.services[name] = service
        findings += in_flight_findings(config, clients, name, service)
        breaker = circuit_breaker_finding(name, service)
        if breaker:
            findings.append(breaker)
        task_definition, _ = describe_task_definition(clients, service["taskDefinition"])
        task_definitions[name] = task_definition
        if problem := container_problem(task_definition, config.container_for(name), name):
            findings.append(Finding(f"service {name}", problem, ""))
    findings += image_findings(clients, image, config.image)
    findings += role_findings(clients, task_definitions)
    findings += log_group_findings(clients, task_definitions)
    return result


def image_findings(clients: Clients, ref: ImageRef, image: str) -> list[Finding]:
    account = ref.ecr_account
    if account is None:
        return [
            Finding(
                f"image {image}",
                "not an ECR image, so its existence was not checked",
                "push to the ECR repository and deploy its repo@sha256 digest",
                blocking=False,
            )
        ]
    image_id = {"imageDigest": ref.digest} if ref.digest else {"imageTag": ref.tag or "latest"}
    try:
        clients.ecr.describe_images(
            registryId=account, repositoryName=ref.repository, imageIds=[image_id]
        )
    except AWS_ERRORS as error:
        code = error_code(error)
        if code == "RepositoryNotFoundException":
            return [
                Finding(
                    f"ECR repository {ref.repository}",
                    "does not exist",
                    "create it with terraform apply or fix the image reference",
                )
            ]
        if code == "ImageNotFoundException":
            return [
                Finding(
                    f"image {image}",
                    f"not found in ECR repository {ref.repository}",
                    "publish the image first and deploy the digest publish returned",
                )
            ]
        return [Finding(f"image {image}", str(describe_error(error, f"image {image}")), "")]
    return []


def role_findings(clients: Clients, task_definitions: dict[str, dict[str, Any]]) -> list[Finding]:
    roles = sorted(
        {
            arn
            for td in task_definitions.values()
            for arn in (td.get("executionRoleArn"), td.get("taskRoleArn"))
            if arn
        }
    )
    findings = []
    for arn in roles:
        try:
            clients.iam.get_role(RoleName=role_name(arn))
        except AWS_ERRORS as error:
            if error_code(error) in {"NoSuchEntity", "NoSuchEntityException"}:
                findings.append(
                    Finding(
                        f"IAM role {arn}",
                        "does not exist",
                        "create it with terraform apply or fix the task definition",
                    )
                )
            else:
                findings.append(
                    Finding(
                        f"IAM role {arn}",
                        f"could not be checked: {describe_error(error, arn)}",
                        "allow iam:GetRole for the deploy role",
                        blocking=False,
                    )
                )
    return findings


def log_group_findings(
    clients: Clients, task_definitions: dict[str, dict[str, Any]]
) -> list[Finding]:
    groups = sorted(
        {
            options["awslogs-group"]
            for td in task_definitions.values()
            for container in td.get("containerDefinitions", [])
            for options in [((container.get("logConfiguration") or {}).get("options") or {})]
            if "awslogs-group" in options and options.get("awslogs-create-group") != "true"
        }
    )
    findings = []
    for group in groups:
        try:
            found = clients.logs.describe_log_groups(logGroupNamePrefix=group).get("logGroups", [])
        except AWS_ERRORS as error:
            findings.append(
                Finding(
                    f"log group {group}",
                    f"could not be checked: {describe_error(error, group)}",
                    "allow logs:DescribeLogGroups",
                    blocking=False,
                )
            )
            continue
        if not any(g.get("logGroupName") == group for g in found):
            findings.append(
                Finding(
                    f"log group {group}",
                    "does not exist, so tasks cannot start",
                    "create it with terraform apply (aws_cloudwatch_log_group)",
                )
            )
    return findings
