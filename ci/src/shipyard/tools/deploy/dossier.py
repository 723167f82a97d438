"""Why a rollout failed: service events, stopped tasks, exit codes and the tasks' log tails."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shipyard.tools.deploy.aws import AWS_ERRORS, Clients, describe_error


@dataclass(frozen=True)
class ContainerExit:
    name: str
    exit_code: int | None
    reason: str | None


@dataclass(frozen=True)
class StoppedTask:
    task_arn: str
    task_definition: str
    stopped_reason: str
    stop_code: str | None
    containers: tuple[ContainerExit, ...]
    log_tail: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Dossier:
    service: str
    deployment_id: str
    events: tuple[str, ...]
    stopped_tasks: tuple[StoppedTask, ...]
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        out = [f"{self.service}: failure dossier for deployment {self.deployment_id}"]
        out += [f"  event: {event}" for event in self.events]
        for task in self.stopped_tasks:
            out.append(
                f"  stopped task {task.task_arn.rsplit('/', 1)[-1]}: {task.stopped_reason}"
                + (f" [{task.stop_code}]" if task.stop_code else "")
            )
            for container in task.containers:
                out.append(
                    f"    container {container.name}: exit code {container.exit_code}"
                    + (f", reason {container.reason}" if container.reason else "")
                )
            for container_name, tail in task.log_tail.items():
                out.append(f"    last log lines of {container_name}:")
                out += [f"      | {line}" for line in tail]
        out += [f"  note: {note}" for note in self.notes]
        return out


def log_stream_name(options: dict[str, str], container: str, task_id: str) -> str | None:
    """The awslogs driver's stream name: `prefix/container/task-id` (no prefix: no stream)."""
    prefix = options.get("awslogs-stream-prefix")
    return f"{prefix}/{container}/{task_id}" if prefix else None


def stopped_task(task: dict[str, Any]) -> StoppedTask:
    return StoppedTask(
        task_arn=str(task.get("taskArn", "")),
        task_definition=str(task.get("taskDefinitionArn", "")),
        stopped_reason=str(task.get("stoppedReason", "no stoppedReason given")),
        stop_code=task.get("stopCode"),
        containers=tuple(
            ContainerExit(c.get("name", "?"), c.get("exitCode"), c.get("reason"))
            for c in task.get("containers", [])
        ),
    )


def recent_events(service: dict[str, Any], count: int) -> tuple[str, ...]:
    return tuple(str(e.get("message", "")) for e in service.get("events", [])[:count])


def collect_dossier(
    clients: Clients,
    *,
    cluster: str,
    service: dict[str, Any],
    deployment_id: str,
    max_tasks: int = 3,
    log_lines: int = 20,
    event_count: int = 10,
) -> Dossier:
    """Best effort: whatever cannot be read becomes a note rather than hiding the rest."""
    name = str(service.get("serviceName", "?"))
    notes: list[str] = []
    tasks: list[StoppedTask] = []
    try:
        arns = clients.ecs.list_tasks(
            cluster=cluster, serviceName=name, desiredStatus="STOPPED"
        ).get("taskArns", [])
        described = (
            clients.ecs.describe_tasks(cluster=cluster, tasks=arns[:100]).get("tasks", [])
            if arns
            else []
        )
        ours = [t for t in described if t.get("startedBy") == deployment_id]
        ours.sort(key=lambda t: str(t.get("stoppedAt", "")), reverse=True)
        tasks = [stopped_task(t) for t in ours[:max_tasks]]
    except AWS_ERRORS as error:
        notes.append(f"stopped tasks unreadable: {describe_error(error, f'service {name} tasks')}")
    if not tasks:
        notes.append("no stopped tasks of this deployment were found")
    with_logs = [_with_log_tail(clients, task, log_lines, notes) for task in tasks]
    return Dossier(
        name, deployment_id, recent_events(service, event_count), tuple(with_logs), tuple(notes)
    )


def _with_log_tail(
    clients: Clients, task: StoppedTask, log_lines: int, notes: list[str]
) -> StoppedTask:
    task_id = task.task_arn.rsplit("/", 1)[-1]
    try:
        definition = clients.ecs.describe_task_definition(taskDefinition=task.task_definition)
    except AWS_ERRORS as error:
        notes.append(f"log configuration unreadable: {describe_error(error, task.task_definition)}")
        return task
    tails: dict[str, list[str]] = {}
    for container in definition["taskDefinition"].get("containerDefinitions", []):
        config = container.get("logConfiguration") or {}
        options = config.get("options") or {}
        stream = log_stream_name(options, container["name"], task_id)
        if config.get("logDriver") != "awslogs" or stream is None:
            notes.append(
                f"container {container['name']} does not log to CloudWatch (awslogs "
                "with a stream prefix); its output cannot be collected"
            )
            continue
        try:
            events = clients.logs.get_log_events(
                logGroupName=options["awslogs-group"],
                logStreamName=stream,
                limit=log_lines,
                startFromHead=False,
            ).get("events", [])
        except AWS_ERRORS as error:
            notes.append(
                f"log stream {stream} unreadable: {describe_error(error, 'log stream ' + stream)}"
            )
            continue
        tails[container["name"]] = [str(e.get("message", "")).rstrip() for e in events]
    return StoppedTask(
        task.task_arn,
        task.task_definition,
        task.stopped_reason,
        task.stop_code,
        task.containers,
        tails,
    )
