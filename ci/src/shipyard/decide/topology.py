"""The rehearsal's emulated platform, shaped as terraform shapes it: one definition of its
environments, service roles, names, ALB routes and faults.

Names follow `terraform/main.tf` (`local.name = "<project>-<environment>"`, services
`<name>-<role>`, containers named after their role, one ECR repository per environment), and
`pipeline_config` has exactly the shape of `terraform output -json pipeline`; tests tie both to the
terraform code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from shipyard.decide.pipeline_flow import PipelineError

PROJECT: Final = "gridserve"  # terraform var.project default
REGION: Final = "ap-southeast-2"
ACCOUNT: Final = "123456789012"  # the account moto plays
ECR_HOST: Final = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
ENVIRONMENTS: Final = ("staging", "production")
ROLES: Final = ("tiles", "timeseries")
APP_PORT: Final = 8080
FRONT_PORT: Final = 4566
WEBHOOK_PORT: Final = 8090
GIT_PORT: Final = 9418
# The ALB's listener rules (terraform/main.tf `path_patterns`): path → service role.
LISTENER_RULES: Final = {
    "/tiles/*": "tiles",
    "/health": "tiles",
    "/metrics": "tiles",
    "/api/*": "timeseries",
}

# What the rollout simulator plays itself (--fault KIND → the simulator's name for it).
SIMULATED_FAULTS: Final = {
    "crash": "crash",
    "unhealthy": "unhealthy",
    "pull-error": "pull_error",
    "slow-rollout": "slow",
}
SMOKE_FAILURE: Final = "smoke-failure"
# A release that starts and reports healthy but answers a real request wrong: the timeseries
# limit set below the smoke suite's one-year query. Only the smoke suite can catch it.
SMOKE_FAILURE_SETTINGS: Final = {"GRIDSERVE_MAX_TIMESERIES_DAYS": "1"}
SMOKE_FAILURE_ROLE: Final = "timeseries"
SERVICE_FAULTS: Final = (*SIMULATED_FAULTS, SMOKE_FAILURE)
# Faults of the run rather than of one service.
RUN_FAULTS: Final = {
    "check-failure": "a test of the service fails: the release must not start",
    "publish-error": "the registry refuses the push: nothing is deployed",
    "docs-drift": "the pushed commit carries a stale terraform README: the release commits "
    "the regenerated one back",
    "docs-push-rejected": "the git remote refuses the docs commit: the release goes on",
    "webhook-down": "the chat webhook answers 500: notify warns only",
}
FAULT_KINDS: Final = (*SERVICE_FAULTS, *RUN_FAULTS)


class TopologyError(PipelineError):
    """A rehearsal option names something the emulated platform does not have."""


def name(environment: str) -> str:
    """terraform's `local.name`: cluster and ECR repository name of an environment."""
    return f"{PROJECT}-{environment}"


def service_name(environment: str, role: str) -> str:
    return f"{name(environment)}-{role}"


def app_host(environment: str, role: str) -> str:
    """The hostname the real app of one environment's service answers on."""
    return f"{environment}-{role}"


def alb_host(environment: str) -> str:
    return f"alb-{environment}"


@dataclass(frozen=True)
class Faults:
    """Where each fault lands: {(environment, role): kind} and the run-wide faults."""

    services: Mapping[tuple[str, str], str]
    run: frozenset[str]

    def of(self, environment: str, role: str) -> str | None:
        return self.services.get((environment, role))

    def simulator_args(self) -> list[str]:
        """The rollout simulator's --fault arguments for the faults it plays (all but smoke)."""
        args: list[str] = []
        for (environment, role), kind in sorted(self.services.items()):
            if kind in SIMULATED_FAULTS:
                args += ["--fault", f"{service_name(environment, role)}={SIMULATED_FAULTS[kind]}"]
        return args

    def describe(self) -> str:
        placed = [f"{env}:{role}={kind}" for (env, role), kind in sorted(self.services.items())]
        return ", ".join([*placed, *sorted(self.run)]) or "none"


def parse_faults(specs: Sequence[str]) -> Faults:
    """``--fault [ENVIRONMENT:][ROLE=]KIND`` values (environment default staging; a bare
    service fault hits the role it can break: tiles, or timeseries for smoke-failure)."""
    services: dict[tuple[str, str], str] = {}
    run: set[str] = set()
    for spec in specs:
        environment, sep, rest = spec.partition(":")
        if not sep:
            environment, rest = ENVIRONMENTS[0], spec
        role, sep, kind = rest.rpartition("=")
        fix = "write --fault [ENVIRONMENT:][ROLE=]KIND, e.g. --fault production:tiles=crash"
        if environment not in ENVIRONMENTS:
            raise TopologyError(
                f"--fault {spec!r}: no environment {environment!r} "
                f"(use {' or '.join(ENVIRONMENTS)}); {fix}"
            )
        if kind not in FAULT_KINDS:
            raise TopologyError(
                f"--fault {spec!r}: unknown fault {kind!r}; use one of {', '.join(FAULT_KINDS)}"
            )
        if kind in RUN_FAULTS:
            if sep:
                raise TopologyError(
                    f"--fault {spec!r}: {kind} breaks the run, not a service; write --fault {kind}"
                )
            run.add(kind)
            continue
        role = role or (SMOKE_FAILURE_ROLE if kind == SMOKE_FAILURE else ROLES[0])
        if role not in ROLES:
            raise TopologyError(
                f"--fault {spec!r}: no service role {role!r} (use {', '.join(ROLES)}); {fix}"
            )
        if kind == SMOKE_FAILURE and role != SMOKE_FAILURE_ROLE:
            raise TopologyError(
                f"--fault {spec!r}: the smoke failure is played by the {SMOKE_FAILURE_ROLE} "
                f"service's settings; write --fault {SMOKE_FAILURE}"
            )
        if (environment, role) in services:
            raise TopologyError(
                f"--fault {spec!r}: {environment}:{role} already has a fault; give one each"
            )
        services[(environment, role)] = kind
    return Faults(services, frozenset(run))


def pipeline_config(environment: str, deploy_role_arn: str) -> dict[str, Any]:
    """`terraform output -json pipeline` of one emulated environment, its ECR repository's URL
    included (the rehearsal routes that host to a real registry)."""
    return {
        "environment": environment,
        "region": REGION,
        "alb_url": f"http://{alb_host(environment)}:{APP_PORT}",
        "ecr_repository_url": f"{ECR_HOST}/{name(environment)}",
        "cluster_name": name(environment),
        "deploy_role_arn": deploy_role_arn,
        "service_names": {role: service_name(environment, role) for role in ROLES},
        "container_names": {role: role for role in ROLES},
        "log_group_names": {role: f"/ecs/{name(environment)}/{role}" for role in ROLES},
        "deploy_order": list(ROLES),
    }


def listener_routes(environment: str) -> list[str]:
    """The listener's --route arguments: each ALB rule to its role's app in that environment."""
    args: list[str] = []
    for pattern, role in LISTENER_RULES.items():
        args += ["--route", f"{pattern}=http://{app_host(environment, role)}:{APP_PORT}"]
    return args


def app_probes() -> list[str]:
    """The simulator's --app arguments: each service's tasks are healthy when its app answers."""
    args: list[str] = []
    for environment in ENVIRONMENTS:
        for role in ROLES:
            health = f"http://{app_host(environment, role)}:{APP_PORT}/health"
            args += ["--app", f"{service_name(environment, role)}={health}"]
    return args
