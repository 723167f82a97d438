"""Fault injection for the rollout model: which deployments a fault hits, and how their tasks end.

Faults make a service's new deployments crash, fail health checks, fail to pull their image or
start slowly.

Pure: the scheduler (`model`) asks which fault a new deployment carries and, when a faulty task
fails, what ECS would say about it; it keeps the clock, the ids and the bookkeeping itself.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class FaultKind(enum.StrEnum):
    CRASH = "crash"
    UNHEALTHY = "unhealthy"
    PULL_ERROR = "pull_error"
    SLOW = "slow"


class RehearsalError(Exception):
    """A rehearsal input is wrong; the message names it and the fix."""


@dataclass(frozen=True)
class Fault:
    """A failure injected into the deployments of one service.

    Without `from_update` the fault hits every deployment of a task definition other than the
    one the service ran when the model adopted it: the new release is broken, the old one still
    works (so rolling back heals). With `from_update=N` it hits every deployment from the N-th
    UpdateService on, whatever it runs: `2` breaks a rollback that follows one deploy.
    """

    service: str
    kind: FaultKind
    from_update: int | None = None

    @classmethod
    def parse(cls, spec: str) -> Fault:
        """Parse `SERVICE=KIND[@N]`, e.g. `tiles=crash` or `tiles=pull_error@2`."""
        service, sep, rest = spec.partition("=")
        kind_text, _, from_text = rest.partition("@")
        kinds = ", ".join(k.value for k in FaultKind)
        if not sep or not service or kind_text not in {k.value for k in FaultKind}:
            raise RehearsalError(
                f"fault {spec!r} is not SERVICE=KIND[@N]; use one of the kinds {kinds}"
            )
        if from_text and (not from_text.isdigit() or int(from_text) < 1):
            raise RehearsalError(f"fault {spec!r}: @N must be a positive update number")
        return cls(service, FaultKind(kind_text), int(from_text) if from_text else None)


def fault_for(
    faults: Sequence[Fault],
    *,
    service: str,
    updates: int,
    adopted_task_definition: str,
    task_definition: str,
) -> FaultKind | None:
    """The fault a new deployment of `task_definition` carries, the first that applies."""
    for fault in faults:
        if fault.service != service:
            continue
        if fault.from_update is None:
            if task_definition != adopted_task_definition:
                return fault.kind
        elif updates >= fault.from_update:
            return fault.kind
    return None


# What a faulty task prints once it runs: uvicorn's lines up to where the fault bites.
STARTUP_LOG = {
    FaultKind.CRASH: (
        "INFO:     Started server process [1]",
        "INFO:     Waiting for application startup.",
    ),
    FaultKind.UNHEALTHY: (
        "INFO:     Application startup complete.",
        'INFO:     "GET /health HTTP/1.1" 503 Service Unavailable',
    ),
}


@dataclass(frozen=True)
class TaskFailure:
    """How a faulty task ends, in ECS's words: the stop, the log lines before it, and the
    service event the load balancer's verdict adds (unhealthy tasks only)."""

    reason: str
    stop_code: str
    exit_code: int | None
    container_reason: str | None = None
    log_lines: tuple[str, ...] = ()
    health_event: str | None = None

    @property
    def unhealthy(self) -> bool:
        return self.health_event is not None


def task_failure(fault: FaultKind | None, *, image: str, target_group: str) -> TaskFailure:
    """The end of a task whose fault bit: a failed pull, a crash, or failed health checks
    (also what a task without a fault of its own gets when its real app does not answer)."""
    if fault is FaultKind.PULL_ERROR:
        message = (
            "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
            f"failed to resolve ref {image}: not found"
        )
        return TaskFailure(message, "TaskFailedToStart", None, container_reason=message)
    if fault is FaultKind.CRASH:
        return TaskFailure(
            "Essential container in task exited",
            "EssentialContainerExited",
            1,
            log_lines=(
                "ERROR:    Traceback (most recent call last):",
                "ERROR:    RuntimeError: rehearsal fault 'crash': the service exits at startup",
                "ERROR:    Application startup failed. Exiting.",
            ),
        )
    return TaskFailure(
        f"Task failed ELB health checks in (target-group {target_group})",
        "ServiceSchedulerInitiated",
        137,
        health_event=f"(port 8080) is unhealthy in (target-group {target_group}) "
        "due to (reason Health checks failed).",
    )
