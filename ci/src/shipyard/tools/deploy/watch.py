"""Our own wait: poll a service and decide, from its deployments alone, how the rollout went.

botocore's `services_stable` waiter only asks "one deployment, running == desired", which is
also true after the circuit breaker has rolled a failed deployment back. Here success means the
deployment we started is PRIMARY, COMPLETED, fully running, on the task definition we asked
for; a failed or replaced deployment is reported the moment it is seen.
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shipyard.tools.deploy.errors import LineLogger


class Phase(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CONFLICT = "conflict"
    TIMED_OUT = "timed_out"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class Expectation:
    """The deployment we watch and what else may legitimately appear next to it."""

    deployment_id: str
    task_definition: str
    restore_task_definition: str
    known_deployment_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RolloutVerdict:
    """Where one service's rollout stands and why (a stage's and a smoke check's verdicts are
    other things: `decide.pipeline_flow.Verdict`, `tools.smoke.Verdict`)."""

    phase: Phase
    reason: str

    @property
    def final(self) -> bool:
        return self.phase is not Phase.IN_PROGRESS


def failure_threshold(desired_count: int) -> int:
    """ECS's circuit breaker threshold: half the desired count, at least 3, at most 200."""
    return min(200, max(3, math.ceil(desired_count * 0.5)))


def circuit_breaker_on(service: dict[str, Any]) -> bool:
    configuration = service.get("deploymentConfiguration") or {}
    return bool((configuration.get("deploymentCircuitBreaker") or {}).get("enable"))


def judge(service: dict[str, Any], expect: Expectation) -> RolloutVerdict:
    """Decide a rollout from one DescribeServices answer."""
    deployments: list[dict[str, Any]] = service.get("deployments", [])
    ours = next((d for d in deployments if d.get("id") == expect.deployment_id), None)
    newcomers = [
        d
        for d in deployments
        if d.get("id") != expect.deployment_id and d.get("id") not in expect.known_deployment_ids
    ]
    ended = _failure_or_conflict(deployments, ours, newcomers, expect)
    if ended is not None:
        return ended
    if ours is None:
        return RolloutVerdict(
            Phase.FAILED, f"deployment {expect.deployment_id} disappeared from the service"
        )
    return _progress(service, ours, expect)


def _failure_or_conflict(
    deployments: list[dict[str, Any]],
    ours: dict[str, Any] | None,
    newcomers: list[dict[str, Any]],
    expect: Expectation,
) -> RolloutVerdict | None:
    """Our deployment failed (and maybe was rolled back), or someone else started one."""
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
    rolled_back = (
        primary is not None
        and primary is not ours
        and primary.get("taskDefinition") == expect.restore_task_definition
        and primary in newcomers
    )
    if ours is not None and ours.get("rolloutState") == "FAILED":
        reason = ours.get("rolloutStateReason") or "rolloutState FAILED"
        if rolled_back and primary is not None:
            return RolloutVerdict(
                Phase.FAILED,
                f"deployment {expect.deployment_id} failed ({reason}); the circuit breaker "
                f"rolled the service back to {primary.get('taskDefinition')} "
                f"(deployment {primary.get('id')})",
            )
        return RolloutVerdict(Phase.FAILED, f"deployment {expect.deployment_id} failed: {reason}")
    if ours is None and rolled_back and primary is not None:
        return RolloutVerdict(
            Phase.FAILED,
            f"deployment {expect.deployment_id} is gone and the service was rolled back to "
            f"{primary.get('taskDefinition')} (deployment {primary.get('id')})",
        )
    if newcomers:
        foreign = newcomers[0]
        return RolloutVerdict(
            Phase.CONFLICT,
            f"deployment {foreign.get('id')} (task definition {foreign.get('taskDefinition')}) "
            f"was started by someone else while {expect.deployment_id} was rolling out",
        )
    return None


def _progress(service: dict[str, Any], ours: dict[str, Any], expect: Expectation) -> RolloutVerdict:
    """Our deployment, still there and not failed by ECS: done, failing for good, or going."""
    failed_tasks = int(ours.get("failedTasks") or 0)
    threshold = failure_threshold(int(ours.get("desiredCount") or 0))
    if not circuit_breaker_on(service) and failed_tasks >= threshold:
        # ECS would retry forever; apply the circuit breaker's own rule instead of waiting.
        return RolloutVerdict(
            Phase.FAILED,
            f"deployment {expect.deployment_id}: {failed_tasks} tasks failed (the circuit "
            f"breaker's threshold is {threshold}, but it is off, so ECS would keep retrying)",
        )
    if (
        ours.get("status") == "PRIMARY"
        and ours.get("rolloutState") == "COMPLETED"
        and ours.get("taskDefinition") == expect.task_definition
        and ours.get("runningCount") == ours.get("desiredCount")
        and service.get("runningCount") == service.get("desiredCount")
    ):
        return RolloutVerdict(
            Phase.SUCCEEDED,
            f"deployment {expect.deployment_id} completed: {ours.get('runningCount')}/"
            f"{ours.get('desiredCount')} tasks running {expect.task_definition}",
        )
    return RolloutVerdict(Phase.IN_PROGRESS, "rolling out")


def status_line(name: str, service: dict[str, Any], expect: Expectation) -> str:
    ours: dict[str, Any] = next(
        (d for d in service.get("deployments", []) if d.get("id") == expect.deployment_id), {}
    )
    return (
        f"{name}: {expect.deployment_id} {ours.get('status', 'GONE')} "
        f"{ours.get('rolloutState', '-')} running {ours.get('runningCount', 0)}/"
        f"{ours.get('desiredCount', '?')} pending {ours.get('pendingCount', 0)} "
        f"failed {ours.get('failedTasks', 0)}"
    )


def new_events(service: dict[str, Any], seen: set[str]) -> list[str]:
    """Messages of events not seen before, oldest first; marks them seen."""
    fresh = [e for e in service.get("events", []) if e.get("id") not in seen]
    seen.update(str(e.get("id")) for e in fresh)
    return [str(e.get("message", "")) for e in reversed(fresh)]


@dataclass
class WatchResult:
    verdict: RolloutVerdict
    seconds: float
    last_service: dict[str, Any] = field(default_factory=dict)


def watch(
    describe: Callable[[], dict[str, Any] | None],
    expect: Expectation,
    *,
    name: str,
    timeout: float,
    poll_interval: float,
    log: LineLogger,
    seen_events: set[str] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    stop_at: Callable[[], float] = lambda: math.inf,
) -> WatchResult:
    """Poll until `judge` gives a final verdict, `timeout` seconds pass or the clock reaches
    `stop_at()` (a deadline that a signal can move; the verdict is then INTERRUPTED).

    `describe` answers None when AWS only throttled or failed transiently: no news, poll again.
    """
    started = clock()
    seen = seen_events if seen_events is not None else set()
    last_status = ""
    service: dict[str, Any] = {}
    while True:
        answer = describe()
        if answer is not None:
            service = answer
            for message in new_events(service, seen):
                log(f"{name}: event: {message}")
            line = status_line(name, service, expect)
            if line != last_status:
                log(line)
                last_status = line
            verdict = judge(service, expect)
            if verdict.final:
                return WatchResult(verdict, clock() - started, service)
        elapsed = clock() - started
        if clock() >= stop_at():
            return WatchResult(
                RolloutVerdict(
                    Phase.INTERRUPTED, f"stopped watching deployment {expect.deployment_id}"
                ),
                elapsed,
                service,
            )
        if elapsed >= timeout:
            return WatchResult(
                RolloutVerdict(
                    Phase.TIMED_OUT,
                    f"deployment {expect.deployment_id} still {status_line(name, service, expect)}"
                    f" after {timeout:.0f} s; raise the timeout if the rollout is just slow",
                ),
                elapsed,
                service,
            )
        # A fixed cadence: the time the call took is not added to the interval.
        next_poll = started + poll_interval * (int(elapsed // poll_interval) + 1)
        sleep(max(0.0, min(next_poll, started + timeout, stop_at()) - clock()))
