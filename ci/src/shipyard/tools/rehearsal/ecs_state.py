"""What the rollout model holds: services, deployments, tasks and containers as ECS has them,
and the simulated seconds each step of a task takes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shipyard.tools.rehearsal.faults import FaultKind


@dataclass(frozen=True)
class Timings:
    """Simulated seconds for each step a task takes.

    The defaults follow the project's own infrastructure (terraform's ALB target group: health
    check every 15 s, healthy after 2 and unhealthy after 3 checks, deregistration delay 30 s).
    """

    start: float = 10.0
    healthy_after: float = 30.0
    crash_after: float = 4.0
    unhealthy_after: float = 45.0
    pull_fail_after: float = 5.0
    relaunch_delay: float = 3.0
    drain: float = 30.0
    # The scheduler declares steady state only after watching a deployment for a while, so a
    # replaced (e.g. failed) deployment stays visible at least this long.
    steady_after: float = 15.0
    slow_factor: float = 40.0

    def start_after(self, fault: FaultKind | None) -> float:
        """From launch to RUNNING."""
        return self.start * self.slow_factor if fault is FaultKind.SLOW else self.start

    def fails_after_start(self, fault: FaultKind | None) -> float | None:
        """From RUNNING to the fault's failure; None for a task that turns healthy instead."""
        if fault is FaultKind.CRASH:
            return self.crash_after
        if fault is FaultKind.UNHEALTHY:
            return self.unhealthy_after
        return None


@dataclass(frozen=True)
class ContainerInfo:
    name: str
    image: str
    essential: bool
    log_options: dict[str, str] | None


@dataclass(frozen=True)
class LogRecord:
    group: str
    stream: str
    timestamp_ms: int
    message: str


@dataclass
class SimContainer:
    info: ContainerInfo
    last_status: str = "PENDING"
    exit_code: int | None = None
    reason: str | None = None


@dataclass
class SimTask:
    task_id: str
    arn: str
    service: SimService
    deployment_id: str
    task_definition: str
    containers: list[SimContainer]
    created_at: float
    fault: FaultKind | None
    running_at: float
    last_status: str = "PENDING"
    desired_status: str = "RUNNING"
    health: str = "UNKNOWN"
    started_at: float | None = None
    stopping_at: float | None = None
    stopped_at: float | None = None
    stopped_reason: str | None = None
    stop_code: str | None = None
    fails_at: float | None = None
    healthy_at: float | None = None
    drain_at: float | None = None

    @property
    def live(self) -> bool:
        return self.desired_status == "RUNNING" and self.last_status != "STOPPED"


@dataclass
class SimDeployment:
    id: str
    task_definition: str
    containers: list[ContainerInfo]
    desired_count: int
    created_at: float
    fault: FaultKind | None
    status: str = "PRIMARY"
    rollout_state: str = "IN_PROGRESS"
    rollout_state_reason: str = ""
    failed_tasks: int = 0
    updated_at: float = 0.0
    next_launch_at: float = 0.0


@dataclass
class SimService:
    cluster_arn: str
    name: str
    arn: str
    desired_count: int
    circuit_breaker: bool
    rollback: bool
    deployments: list[SimDeployment] = field(default_factory=list)
    tasks: list[SimTask] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    updates: int = 0
    adopted_task_definition: str = ""
    app_probe: Callable[[], bool] | None = None

    @property
    def primary(self) -> SimDeployment:
        return next(d for d in self.deployments if d.status == "PRIMARY")

    @property
    def target_group(self) -> str:
        """The ARN of the service's ALB target group, in the cluster's account and region."""
        prefix = self.cluster_arn.partition(":cluster/")[0].replace(
            ":ecs:", ":elasticloadbalancing:"
        )
        return f"{prefix}:targetgroup/{self.name}/0123456789abcdef"
