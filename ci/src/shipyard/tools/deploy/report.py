"""The deploy report: versioned JSON for machines, Markdown for a CI step summary.

Schema (version 2), as written by `DeployReport.write` to `<operation>-report.json`:

- `schema_version`, `operation` ("deploy" or "rollback"), `run_id` (also in the services' AWS
  tags), `cluster`, `region`, `account`, `image`, `started_at`, `finished_at` (ISO 8601 UTC);
- `verdict`: "succeeded", "failed", "conflict" (someone else deployed mid-flight),
  "interrupted" (SIGINT/SIGTERM: what was changed is being rolled back) or "in_progress" (a
  checkpoint of a run still going, or killed without a chance to finish), and `reason`, one
  sentence that also says what was rolled back and whether that worked;
- `restore_points`: per service the task definition ARN and PRIMARY deployment id recorded
  before any change (what `rollback --from-report` returns to);
- `services`: per service `old_task_definition`, `old_deployment_id`, `new_task_definition`,
  `new_deployment_id`, `verdict` ("succeeded", "failed", "timed_out", "conflict",
  "interrupted", "not_started"), `reason`, `timings` (seconds for register, update, rollout),
  `dossier` (events, stopped tasks with stoppedReason, stopCode, container exit codes and
  reasons, log tails, notes) and `rollback` (target, deployment id, verdict, reason, seconds,
  dossier); a rollback verdict "in_progress" means started and still settling when the run
  had to stop watching.

A report is bound to where it was made: `rollback --from-report` refuses one whose cluster,
region, account or task-definition families differ from the target's.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from shipyard.tools.deploy.dossier import Dossier
from shipyard.tools.deploy.errors import DeployError

SCHEMA_VERSION = 2


@dataclass(frozen=True)
class RestorePoint:
    service: str
    task_definition: str
    deployment_id: str | None


@dataclass
class RollbackOutcome:
    target_task_definition: str
    deployment_id: str | None = None
    verdict: str = "not_started"
    reason: str = ""
    seconds: float = 0.0
    dossier: Dossier | None = None


@dataclass
class ServiceOutcome:
    service: str
    old_task_definition: str
    old_deployment_id: str | None
    new_task_definition: str | None = None
    new_deployment_id: str | None = None
    verdict: str = "not_started"
    reason: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    dossier: Dossier | None = None
    rollback: RollbackOutcome | None = None


@dataclass
class DeployReport:
    operation: str
    cluster: str
    region: str
    image: str | None
    started_at: str
    restore_points: list[RestorePoint]
    services: list[ServiceOutcome] = field(default_factory=list)
    run_id: str | None = None
    account: str | None = None
    verdict: str = "in_progress"
    reason: str = ""
    finished_at: str | None = None
    schema_version: int = SCHEMA_VERSION

    @property
    def ok(self) -> bool:
        return self.verdict == "succeeded"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def to_markdown(self) -> str:
        return render_markdown(self.to_dict())

    def write(self, directory: Path) -> tuple[Path, Path]:
        """Write `<operation>-report.json` and `.md`, each replaced in one rename (a kill
        mid-write leaves the previous checkpoint whole); returns both paths."""
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for suffix, text in (("json", self.to_json() + "\n"), ("md", self.to_markdown())):
            final = directory / f"{self.operation}-report.{suffix}"
            partial = final.with_name(final.name + ".partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(final)
            paths.append(final)
        return paths[0], paths[1]


VERDICT_MARK = {
    "succeeded": "✅",
    "failed": "❌",
    "timed_out": "⏱️",
    "conflict": "⚠️",
    "not_started": "⏸️",
    "rolled_back": "↩️",
    "interrupted": "🛑",
    "in_progress": "⏳",
}


def render_markdown(report: dict[str, Any]) -> str:
    """A step-summary rendering of a report dictionary (as written to JSON)."""
    mark = VERDICT_MARK.get(report["verdict"], "")
    lines = [
        f"## {report['operation'].capitalize()} {mark} {report['verdict']}",
        "",
        f"Cluster `{report['cluster']}` in `{report['region']}`"
        + (f", image `{report['image']}`" if report.get("image") else "")
        + (f", run `{report['run_id']}`" if report.get("run_id") else ""),
        "",
    ]
    if report.get("reason"):
        lines += [f"> {report['reason']}", ""]
    lines += [
        "| service | verdict | from | to | deployment | seconds | rollback |",
        "|---|---|---|---|---|---|---|",
    ]
    for service in report["services"]:
        rollback = service.get("rollback") or {}
        lines.append(
            f"| {service['service']} | {VERDICT_MARK.get(service['verdict'], '')} "
            f"{service['verdict']} | `{_short(service['old_task_definition'])}` | "
            f"`{_short(service.get('new_task_definition'))}` | "
            f"`{service.get('new_deployment_id') or '-'}` | "
            f"{sum(service.get('timings', {}).values()):.1f} | "
            f"{rollback.get('verdict', '-')} |"
        )
    for service in report["services"]:
        reason = service.get("reason") if service["verdict"] != "succeeded" else None
        details = [reason] if reason else []
        rollback = service.get("rollback")
        if rollback and rollback.get("reason"):
            details.append(
                f"rollback to `{_short(rollback['target_task_definition'])}`: "
                f"{rollback['verdict']}: {rollback['reason']}"
            )
        dossiers = [d for d in (service.get("dossier"), (rollback or {}).get("dossier")) if d]
        if not details and not dossiers:
            continue
        lines += ["", f"### {service['service']}", ""]
        lines += [f"- {d}" for d in details]
        for dossier in dossiers:
            lines += _dossier_markdown(dossier)
    lines += [
        "",
        "Restore points: "
        + ", ".join(
            f"{p['service']} → `{_short(p['task_definition'])}`" for p in report["restore_points"]
        ),
        "",
    ]
    return "\n".join(lines)


def _dossier_markdown(dossier: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"<details><summary>Failure dossier of {dossier['deployment_id']}</summary>",
        "",
        "Recent events (newest first):",
        "",
    ]
    lines += [f"- {event}" for event in dossier["events"]]
    for tasks in _alike(dossier["stopped_tasks"]):
        ids = ", ".join(f"`{task['task_arn'].rsplit('/', 1)[-1]}`" for task in tasks)
        task = tasks[0]
        lines += [
            "",
            f"Stopped task{'s' if len(tasks) > 1 else ''} {ids}: "
            f"{task['stopped_reason']} ({task.get('stop_code') or 'no stop code'})",
            "",
        ]
        lines += [
            f"- container `{c['name']}` exit code {c['exit_code']}"
            + (f", {c['reason']}" if c.get("reason") else "")
            for c in task["containers"]
        ]
        for container, tail in task.get("log_tail", {}).items():
            lines += ["", f"Last log lines of `{container}`:", "", "```text", *tail, "```"]
    lines += [f"- note: {note}" for note in dossier.get("notes", [])]
    lines += ["", "</details>"]
    return lines


def _alike(tasks: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Stopped tasks grouped by what they show (reason, exit codes, log tails), in first-seen
    order: a crash loop's identical tasks are shown once."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for task in tasks:
        shown = {key: value for key, value in task.items() if key != "task_arn"}
        groups.setdefault(json.dumps(shown, sort_keys=True, default=str), []).append(task)
    return list(groups.values())


def _short(arn: str | None) -> str:
    return arn.rsplit("/", 1)[-1] if arn else "-"


@dataclass(frozen=True)
class RecordedRun:
    """Where a report was made and the restore points it recorded there."""

    cluster: str
    region: str
    account: str | None
    restore_points: list[RestorePoint]


def load_recorded_run(path: Path) -> RecordedRun:
    """The origin and restore points of a report written by `DeployReport.write`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DeployError(
            f"report {path} is unreadable ({type(error).__name__}); pass the deploy-report.json "
            "a deploy wrote"
        ) from None
    version = data.get("schema_version") if isinstance(data, dict) else None
    if version != SCHEMA_VERSION:
        raise DeployError(
            f"report {path} has schema_version {version}, this engine reads {SCHEMA_VERSION}; "
            "use a report written by this version"
        )
    try:
        points = [
            RestorePoint(p["service"], p["task_definition"], p.get("deployment_id"))
            for p in data["restore_points"]
        ]
        return RecordedRun(str(data["cluster"]), str(data["region"]), data.get("account"), points)
    except (KeyError, TypeError):
        raise DeployError(
            f"report {path} has no valid restore_points; pass the report of a deploy run"
        ) from None


def load_restore_points(path: Path) -> list[RestorePoint]:
    """Restore points recorded in a deploy report written by `DeployReport.write`."""
    return load_recorded_run(path).restore_points


def task_definition_origin(arn: str) -> tuple[str, str, str]:
    """(region, account, family) of `arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REV`."""
    parts = arn.split(":")
    family = arn.rsplit("/", 1)[-1].rpartition(":")[0] or arn.rsplit("/", 1)[-1]
    return (parts[3], parts[4], family) if len(parts) >= 6 else ("", "", family)


def binding_problems(
    recorded: RecordedRun,
    *,
    cluster: str,
    region: str,
    account: str | None,
    current: dict[str, str],
) -> list[str]:
    """Why a report does not belong to this cluster (`current`: service -> task definition)."""
    problems = []
    if recorded.cluster != cluster:
        problems.append(f"it was made on cluster {recorded.cluster}, not {cluster}")
    if recorded.region != region:
        problems.append(f"it was made in region {recorded.region}, not {region}")
    if account and recorded.account != account:
        problems.append(f"it was made in account {recorded.account}, not {account}")
    for point in recorded.restore_points:
        if point.service not in current:
            continue
        here = task_definition_origin(current[point.service])
        there = task_definition_origin(point.task_definition)
        if there != here:
            problems.append(
                f"service {point.service}'s restore point {point.task_definition} is not of the "
                f"family {here[2]} in {here[0]}/{here[1]} that the service runs"
            )
    return problems
