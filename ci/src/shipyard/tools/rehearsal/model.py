"""A deterministic model of the ECS service scheduler's rollout behaviour.

moto stores ECS resources but never moves a deployment forward, so this model plays the part
of the scheduler: deployments go PRIMARY/ACTIVE/INACTIVE, rolloutState IN_PROGRESS → COMPLETED
or FAILED (deployment circuit breaker, optionally rolling back), tasks go PENDING → RUNNING →
STOPPED, and the service collects events worded like ECS's. Time comes from an injected clock
(simulated seconds), so the same inputs always produce the same history.

The model is the scheduler; what it holds is in `ecs_state`, which deployments a fault hits and
how their tasks end in `faults`, and the API's view of it all in `ecs_shapes`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

from shipyard.tools.rehearsal.ecs_shapes import service_shape, task_arns, task_shape
from shipyard.tools.rehearsal.ecs_state import (
    ContainerInfo,
    LogRecord,
    SimContainer,
    SimDeployment,
    SimService,
    SimTask,
    Timings,
)
from shipyard.tools.rehearsal.faults import (
    STARTUP_LOG,
    Fault,
    FaultKind,
    fault_for,
    task_failure,
)


def failure_threshold(desired_count: int) -> int:
    """The circuit breaker's failed-task threshold: half the desired count, within [3, 200]."""
    return min(200, max(3, math.ceil(desired_count * 0.5)))


TaskDefinitionLookup = Callable[[str], list[ContainerInfo]]


class RolloutModel:
    """The scheduler for every service it has adopted. Not thread-safe: callers serialise."""

    def __init__(
        self,
        clock: Callable[[], float],
        describe_task_definition: TaskDefinitionLookup,
        *,
        faults: list[Fault] | None = None,
        timings: Timings | None = None,
        epoch: float = 1_790_000_000.0,
        seed: int = 7,
    ) -> None:
        self._clock = clock
        self._describe_task_definition = describe_task_definition
        self.faults: list[Fault] = list(faults or [])
        self.timings = timings or Timings()
        self._epoch = epoch
        self._random = random.Random(seed)  # noqa: S311 - reproducible ids, not security
        self._now = clock()
        self.services: dict[tuple[str, str], SimService] = {}
        self.log_outbox: list[LogRecord] = []
        # (simulated time, deployment id, what happened): when each decisive change occurred.
        self.transitions: list[tuple[float, str, str]] = []

    # ----------------------------------------------------------------- identity helpers
    def _deployment_id(self) -> str:
        return "ecs-svc/" + "".join(str(self._random.randrange(10)) for _ in range(19))

    def _task_id(self) -> str:
        return f"{self._random.getrandbits(128):032x}"

    def epoch_seconds(self, sim_time: float) -> float:
        return round(self._epoch + sim_time, 3)

    def _event(self, service: SimService, message: str) -> None:
        service.events.insert(
            0,
            {
                "id": f"{self._random.getrandbits(128):032x}",
                "createdAt": self.epoch_seconds(self._now),
                "message": f"(service {service.name}) {message}",
            },
        )
        del service.events[100:]

    def _fault_for(self, service: SimService, task_definition: str) -> FaultKind | None:
        return fault_for(
            self.faults,
            service=service.name,
            updates=service.updates,
            adopted_task_definition=service.adopted_task_definition,
            task_definition=task_definition,
        )

    # ----------------------------------------------------------------- control plane
    def find(self, cluster_arn: str, name: str) -> SimService | None:
        return self.services.get((cluster_arn, name))

    def adopt(
        self,
        *,
        cluster_arn: str,
        name: str,
        arn: str,
        task_definition: str,
        desired_count: int,
        deployment_id: str | None,
        circuit_breaker: bool,
        rollback: bool,
    ) -> SimService:
        """Take over a service that already runs steadily on `task_definition`."""
        self.advance()
        service = SimService(cluster_arn, name, arn, desired_count, circuit_breaker, rollback)
        service.adopted_task_definition = task_definition
        deployment = SimDeployment(
            id=deployment_id or self._deployment_id(),
            task_definition=task_definition,
            containers=self._describe_task_definition(task_definition),
            desired_count=desired_count,
            created_at=self._now,
            fault=None,
            rollout_state="COMPLETED",
            updated_at=self._now,
        )
        deployment.rollout_state_reason = f"ECS deployment {deployment.id} completed."
        service.deployments.append(deployment)
        for _ in range(desired_count):
            task = self._new_task(service, deployment)
            self._start(task, self._now)
            task.health, task.healthy_at = "HEALTHY", self._now
        self.services[(cluster_arn, name)] = service
        self._event(service, "has reached a steady state.")
        return service

    def update_service(
        self,
        service: SimService,
        *,
        task_definition: str | None,
        desired_count: int | None,
        force_new_deployment: bool,
        circuit_breaker: tuple[bool, bool] | None = None,
    ) -> None:
        """Apply UpdateService: a new task definition (or a forced one) starts a deployment."""
        self.advance()
        if circuit_breaker is not None:
            service.circuit_breaker, service.rollback = circuit_breaker
        if desired_count is not None:
            service.desired_count = desired_count
            for deployment in service.deployments:
                if deployment.status == "PRIMARY":
                    deployment.desired_count = desired_count
        primary = service.primary
        target = task_definition or primary.task_definition
        if target == primary.task_definition and not force_new_deployment:
            return
        service.updates += 1
        self._start_deployment(service, target, self._fault_for(service, target))
        self._step(service)

    def _start_deployment(
        self, service: SimService, task_definition: str, fault: FaultKind | None
    ) -> SimDeployment:
        for deployment in service.deployments:
            if deployment.status == "PRIMARY":
                deployment.status = "ACTIVE"
                deployment.updated_at = self._now
        deployment = SimDeployment(
            id=self._deployment_id(),
            task_definition=task_definition,
            containers=self._describe_task_definition(task_definition),
            desired_count=service.desired_count,
            created_at=self._now,
            fault=fault,
            updated_at=self._now,
        )
        deployment.rollout_state_reason = f"ECS deployment {deployment.id} in progress."
        service.deployments.insert(0, deployment)
        return deployment

    # ----------------------------------------------------------------- time
    def advance(self) -> None:
        """Move every service forward to the clock's current time in one-second steps."""
        target = self._clock()
        while self._now + 1.0 <= target:
            self._now += 1.0
            for service in self.services.values():
                self._step(service)
        if target > self._now:
            self._now = target
            for service in self.services.values():
                self._step(service)

    def clock_now(self) -> float:
        """The clock's simulated time, which may be ahead of the last `advance`."""
        return self._clock()

    def _new_task(self, service: SimService, deployment: SimDeployment) -> SimTask:
        task_id = self._task_id()
        prefix, _, cluster_name = service.cluster_arn.partition(":cluster/")
        arn = f"{prefix}:task/{cluster_name}/{task_id}"
        task = SimTask(
            task_id=task_id,
            arn=arn,
            service=service,
            deployment_id=deployment.id,
            task_definition=deployment.task_definition,
            containers=[SimContainer(info) for info in deployment.containers],
            created_at=self._now,
            fault=deployment.fault,
            running_at=self._now + self.timings.start_after(deployment.fault),
        )
        if deployment.fault is FaultKind.PULL_ERROR:
            task.fails_at = self._now + self.timings.pull_fail_after
        service.tasks.append(task)
        return task

    def _start(self, task: SimTask, now: float) -> None:
        task.last_status = "RUNNING"
        task.started_at = now
        for container in task.containers:
            container.last_status = "RUNNING"
        fails_after = self.timings.fails_after_start(task.fault)
        if fails_after is None or task.fault is None:
            task.healthy_at = now + self.timings.healthy_after
            return
        task.fails_at = now + fails_after
        self._log(task, now, STARTUP_LOG.get(task.fault, ()))

    def _log(self, task: SimTask, now: float, lines: Sequence[str]) -> None:
        for container in task.containers:
            options = container.info.log_options
            if not options or "awslogs-group" not in options:
                continue
            prefix = options.get("awslogs-stream-prefix")
            stream = f"{prefix}/{container.info.name}/{task.task_id}" if prefix else task.task_id
            for offset, line in enumerate(lines):
                self.log_outbox.append(
                    LogRecord(
                        options["awslogs-group"],
                        stream,
                        int(self.epoch_seconds(now) * 1000) + offset,
                        line,
                    )
                )

    def _stop(
        self,
        task: SimTask,
        now: float,
        *,
        reason: str,
        stop_code: str,
        exit_code: int | None,
        container_reason: str | None = None,
    ) -> None:
        task.last_status = task.desired_status = "STOPPED"
        task.stopping_at = task.stopping_at or now
        task.stopped_at = now
        task.stopped_reason = reason
        task.stop_code = stop_code
        for container in task.containers:
            container.last_status = "STOPPED"
            container.reason = container_reason
            container.exit_code = exit_code if container.info.essential else 0
            if exit_code is None:
                container.exit_code = None

    def _fail_task(self, service: SimService, task: SimTask, now: float) -> None:
        failure = task_failure(
            task.fault,
            image=task.containers[0].info.image if task.containers else "unknown",
            target_group=service.target_group,
        )
        self._log(task, now, failure.log_lines)
        if failure.health_event is not None:
            task.health = "UNHEALTHY"
            self._event(service, failure.health_event)
        self._stop(
            task,
            now,
            reason=failure.reason,
            stop_code=failure.stop_code,
            exit_code=failure.exit_code,
            container_reason=failure.container_reason,
        )
        self._event(service, f"has stopped 1 running tasks: (task {task.task_id}).")
        deployment = next((d for d in service.deployments if d.id == task.deployment_id), None)
        if deployment is not None:
            deployment.failed_tasks += 1
            if deployment.failed_tasks == failure_threshold(deployment.desired_count):
                self.transitions.append((now, deployment.id, "FAILED_TASKS_AT_THRESHOLD"))
            deployment.updated_at = now
            deployment.next_launch_at = now + self.timings.relaunch_delay

    def _step(self, service: SimService) -> None:
        now = self._now
        for task in service.tasks:
            self._step_task(service, task, now)
        primary = service.primary
        if primary.rollout_state == "IN_PROGRESS" and self._circuit_breaker_trips(service, primary):
            self._trip_circuit_breaker(service, primary, now)
            primary = service.primary
        self._launch(service, primary, now)
        self._settle(service, primary, now)

    def _step_task(self, service: SimService, task: SimTask, now: float) -> None:
        if task.last_status == "STOPPED":
            return
        if task.drain_at is not None:
            if now >= task.drain_at:
                self._stop(
                    task,
                    now,
                    reason=f"Scaling activity initiated by (deployment {service.primary.id})",
                    stop_code="ServiceSchedulerInitiated",
                    exit_code=0,
                )
            return
        if task.last_status == "PENDING":
            if task.fails_at is not None and now >= task.fails_at:
                self._fail_task(service, task, now)
            elif task.fault is not FaultKind.PULL_ERROR and now >= task.running_at:
                self._start(task, now)
            return
        if task.fails_at is not None and now >= task.fails_at:
            self._fail_task(service, task, now)
        elif task.health != "HEALTHY" and task.healthy_at is not None and now >= task.healthy_at:
            if service.app_probe is None or service.app_probe():
                task.health = "HEALTHY"
            else:
                task.fault, task.healthy_at = FaultKind.UNHEALTHY, None
                task.fails_at = now + self.timings.unhealthy_after

    def _circuit_breaker_trips(self, service: SimService, primary: SimDeployment) -> bool:
        return service.circuit_breaker and primary.failed_tasks >= failure_threshold(
            primary.desired_count
        )

    def _trip_circuit_breaker(self, service: SimService, failed: SimDeployment, now: float) -> None:
        self.transitions.append((now, failed.id, "FAILED"))
        failed.rollout_state = "FAILED"
        failed.rollout_state_reason = "ECS deployment circuit breaker: tasks failed to start."
        failed.updated_at = now
        self._event(service, f"(deployment {failed.id}) deployment failed: tasks failed to start.")
        if not service.rollback:
            return
        previous = next(
            (
                d
                for d in service.deployments
                if d.status == "ACTIVE" and d.rollout_state == "COMPLETED"
            ),
            None,
        )
        if previous is None:
            return
        for task in service.tasks:
            if task.deployment_id == failed.id and task.live:
                self._drain(task, now)
        # Like any deployment, the rollback starts fresh tasks; the previous deployment's tasks
        # keep serving until they are healthy, then drain.
        rollback = self._start_deployment(service, previous.task_definition, None)
        self._event(service, f"rolling back to deployment {rollback.id}.")

    def _drain(self, task: SimTask, now: float) -> None:
        task.desired_status = "STOPPED"
        task.stopping_at = now
        task.drain_at = now + self.timings.drain

    def _launch(self, service: SimService, primary: SimDeployment, now: float) -> None:
        if primary.rollout_state == "FAILED" or now < primary.next_launch_at:
            return
        live = [t for t in service.tasks if t.deployment_id == primary.id and t.live]
        missing = primary.desired_count - len(live)
        if missing <= 0:
            return
        started = [self._new_task(service, primary) for _ in range(missing)]
        primary.updated_at = now
        names = " ".join(f"(task {t.task_id})" for t in started)
        self._event(service, f"has started {len(started)} tasks: {names}.")

    def _settle(self, service: SimService, primary: SimDeployment, now: float) -> None:
        if primary.rollout_state != "IN_PROGRESS":
            return
        ours = [t for t in service.tasks if t.deployment_id == primary.id and t.live]
        healthy = [t for t in ours if t.health == "HEALTHY"]
        if (
            len(healthy) < primary.desired_count
            or now - primary.created_at < self.timings.steady_after
        ):
            return
        others = [t for t in service.tasks if t.deployment_id != primary.id and t.live]
        for task in others:
            self._drain(task, now)
        if any(t.last_status != "STOPPED" for t in service.tasks if t.deployment_id != primary.id):
            return
        service.deployments = [primary]
        self.transitions.append((now, primary.id, "COMPLETED"))
        primary.rollout_state = "COMPLETED"
        primary.rollout_state_reason = f"ECS deployment {primary.id} completed."
        primary.updated_at = now
        self._event(service, f"(deployment {primary.id}) deployment completed.")
        self._event(service, "has reached a steady state.")

    # ----------------------------------------------------------------- the API's view
    def overlay_service(self, service: SimService, base: dict[str, Any]) -> dict[str, Any]:
        """The moto Service shape with the scheduler's live state laid over it."""
        return service_shape(service, base, self.epoch_seconds)

    def list_task_arns(
        self, service: SimService | None, desired_status: str, started_by: str | None
    ) -> list[str]:
        services = [service] if service else list(self.services.values())
        return task_arns(services, desired_status, started_by)

    def find_task(self, arn_or_id: str) -> SimTask | None:
        for service in self.services.values():
            for task in service.tasks:
                if arn_or_id in (task.arn, task.task_id):
                    return task
        return None

    def describe_task(self, task: SimTask) -> dict[str, Any]:
        return task_shape(task, self.epoch_seconds)

    def take_logs(self) -> list[LogRecord]:
        records, self.log_outbox = self.log_outbox, []
        return records
