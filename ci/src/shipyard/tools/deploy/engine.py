"""Deploy and rollback: restore points, strictly sequential rollouts, coordinated rollback."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shipyard.tools.deploy.aws import Clients, aws, connect
from shipyard.tools.deploy.config import DeployConfig
from shipyard.tools.deploy.dossier import Dossier, collect_dossier
from shipyard.tools.deploy.errors import DeployError, LineLogger, redacted_errors, redacting
from shipyard.tools.deploy.plan import describe_service, plan_service
from shipyard.tools.deploy.report import (
    DeployReport,
    RestorePoint,
    RollbackOutcome,
    ServiceOutcome,
    load_restore_points,
)
from shipyard.tools.deploy.verify import deployment_in_progress, verify
from shipyard.tools.deploy.watch import Expectation, Phase, WatchResult, watch


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def primary_deployment(service: dict[str, Any]) -> dict[str, Any]:
    for deployment in service.get("deployments", []):
        if deployment.get("status") == "PRIMARY":
            return dict(deployment)
    raise DeployError(
        f"service {service.get('serviceName')} reports no PRIMARY deployment; check it in the "
        "ECS console and retry once it has one"
    )


def started_deployment(service: dict[str, Any], task_definition: str) -> dict[str, Any]:
    """The deployment an UpdateService to `task_definition` started."""
    primary = primary_deployment(service)
    if primary.get("taskDefinition") != task_definition:
        raise DeployError(
            f"service {service.get('serviceName')}: after the update the PRIMARY deployment "
            f"runs {primary.get('taskDefinition')}, not {task_definition}; another deploy may be "
            "running: check the service's deployments and retry"
        )
    return primary


def previous_revision(current: str, arns: list[str]) -> str | None:
    """The highest ACTIVE revision of the same family below `current`, if any."""
    family, _, revision = current.rsplit("/", 1)[-1].partition(":")
    candidates = []
    for arn in arns:
        other_family, _, other_revision = arn.rsplit("/", 1)[-1].partition(":")
        if (
            other_family == family
            and other_revision.isdigit()
            and revision.isdigit()
            and int(other_revision) < int(revision)
        ):
            candidates.append((int(other_revision), arn))
    return max(candidates)[1] if candidates else None


@dataclass
class _Run:
    config: DeployConfig
    clients: Clients
    log: LineLogger
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    seen_events: dict[str, set[str]] = field(default_factory=dict)

    def describer(self, name: str) -> Callable[[], dict[str, Any]]:
        def describe() -> dict[str, Any]:
            return describe_service(self.clients, self.config.cluster, name)

        return describe

    def update(self, name: str, task_definition: str, restore: str) -> Expectation:
        """UpdateService to exactly `task_definition`; `restore` is what a rollback returns to."""
        with aws(f"service {name} (UpdateService to {task_definition})"):
            answer = self.clients.ecs.update_service(
                cluster=self.config.cluster, service=name, taskDefinition=task_definition
            )
        service = dict(answer["service"])
        ours = started_deployment(service, task_definition)
        known = frozenset(
            str(d["id"]) for d in service.get("deployments", []) if d.get("id") != ours["id"]
        )
        seen = self.seen_events.setdefault(name, set())
        seen.update(str(e.get("id")) for e in service.get("events", []))
        return Expectation(str(ours["id"]), task_definition, restore, known)

    def watch(self, name: str, expect: Expectation, timeout: float) -> WatchResult:
        return watch(
            self.describer(name),
            expect,
            name=name,
            timeout=timeout,
            poll_interval=self.config.poll_interval_seconds,
            log=self.log,
            seen_events=self.seen_events.setdefault(name, set()),
            clock=self.clock,
            sleep=self.sleep,
        )

    def dossier_for(self, deployment_id: str, service: dict[str, Any]) -> Dossier:
        dossier = collect_dossier(
            self.clients,
            cluster=self.config.cluster,
            service=service,
            deployment_id=deployment_id,
            log_lines=self.config.dossier_log_lines,
        )
        for line in dossier.lines():
            self.log(line)
        return dossier

    # ---------------------------------------------------------------- one service forward
    def deploy_service(self, outcome: ServiceOutcome) -> Phase:
        name = outcome.service
        started = self.clock()
        planned = plan_service(self.clients, self.config, name)
        with aws(f"service {name} (RegisterTaskDefinition)"):
            registered = self.clients.ecs.register_task_definition(**planned.registration)
        outcome.new_task_definition = str(registered["taskDefinition"]["taskDefinitionArn"])
        outcome.timings["register"] = round(self.clock() - started, 3)
        self.log(f"{name}: registered {outcome.new_task_definition}")
        started = self.clock()
        expect = self.update(name, outcome.new_task_definition, outcome.old_task_definition)
        outcome.new_deployment_id = expect.deployment_id
        outcome.timings["update"] = round(self.clock() - started, 3)
        self.log(
            f"{name}: deployment {expect.deployment_id} started on {outcome.new_task_definition}"
        )
        result = self.watch(name, expect, self.config.timeout_seconds)
        outcome.timings["rollout"] = round(result.seconds, 3)
        outcome.verdict, outcome.reason = result.verdict.phase.value, result.verdict.reason
        self.log(f"{name}: {outcome.verdict}: {outcome.reason}")
        if result.verdict.phase not in (Phase.SUCCEEDED, Phase.CONFLICT):
            outcome.dossier = self.dossier_for(expect.deployment_id, result.last_service)
        return result.verdict.phase

    # ---------------------------------------------------------------- one service back
    def roll_back_service(self, name: str, target: str) -> RollbackOutcome:
        outcome = RollbackOutcome(target_task_definition=target)
        started = self.clock()
        try:
            service = describe_service(self.clients, self.config.cluster, name)
            primary = primary_deployment(service)
            current = str(primary.get("taskDefinition"))
            if current == target:
                # The circuit breaker already rolled back (or nothing changed): watch it settle.
                others = frozenset(
                    str(d["id"]) for d in service["deployments"] if d["id"] != primary["id"]
                )
                expect = Expectation(str(primary["id"]), target, target, others)
                self.log(
                    f"{name}: already on {target} (deployment {primary['id']}); "
                    "waiting for it to settle"
                )
            else:
                self.log(f"{name}: rolling back from {current} to {target}")
                expect = self.update(name, target, current)
            outcome.deployment_id = expect.deployment_id
            result = self.watch(name, expect, self.config.rollback_timeout)
        except DeployError as error:
            outcome.verdict, outcome.reason = Phase.FAILED.value, str(error)
            outcome.seconds = round(self.clock() - started, 3)
            self.log(f"{name}: rollback failed: {error}")
            return outcome
        outcome.verdict, outcome.reason = result.verdict.phase.value, result.verdict.reason
        outcome.seconds = round(self.clock() - started, 3)
        self.log(f"{name}: rollback {outcome.verdict}: {outcome.reason}")
        if result.verdict.phase not in (Phase.SUCCEEDED, Phase.CONFLICT):
            outcome.dossier = self.dossier_for(expect.deployment_id, result.last_service)
        return outcome


def _restore_points(run: _Run, services: dict[str, dict[str, Any]]) -> list[RestorePoint]:
    points = []
    for name in run.config.services:
        service = services.get(name) or describe_service(run.clients, run.config.cluster, name)
        primary = primary_deployment(service)
        points.append(RestorePoint(name, str(service["taskDefinition"]), str(primary["id"])))
        run.log(f"{name}: restore point {service['taskDefinition']} (deployment {primary['id']})")
    return points


def deploy(
    config: DeployConfig,
    log: LineLogger = print,
    *,
    clients: Clients | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> DeployReport:
    """Verify, record restore points, then roll out each service in order.

    Raises DeployError only before anything changed (bad input, failed pre-flight). Once a
    change is made the outcome, good or bad, is in the returned report.
    """
    with redacted_errors(config.secrets()):
        return _deploy(config, redacting(log, config.secrets()), clients, clock, sleep)


def _deploy(
    config: DeployConfig,
    log: LineLogger,
    clients: Clients | None,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> DeployReport:
    run = _Run(config, clients or connect(config), log, clock, sleep)
    checked = verify(config, run.clients)
    for finding in checked.findings:
        log(str(finding))
    checked.raise_if_blocked()
    report = DeployReport(
        operation="deploy",
        cluster=config.cluster,
        region=config.region,
        image=config.image,
        started_at=now_iso(),
        restore_points=_restore_points(run, checked.services),
    )
    report.services = [
        ServiceOutcome(p.service, p.task_definition, p.deployment_id) for p in report.restore_points
    ]
    touched: list[ServiceOutcome] = []
    failed: ServiceOutcome | None = None
    for outcome in report.services:
        try:
            phase = run.deploy_service(outcome)
        except DeployError as error:
            outcome.verdict, outcome.reason = Phase.FAILED.value, str(error)
            log(f"{outcome.service}: failed: {error}")
            phase = Phase.FAILED
        except Exception as error:
            # A bug must not leave services half-deployed: report it and roll back all the same.
            outcome.verdict = Phase.FAILED.value
            outcome.reason = (
                f"unexpected {type(error).__name__} in the deploy engine (a bug: report it "
                "with the deploy log); what this run changed is rolled back"
            )
            log(f"{outcome.service}: failed: {outcome.reason}")
            phase = Phase.FAILED
        # Registered means an update may have reached ECS: rolling back a service that was not
        # changed only watches it stay where it is.
        if outcome.new_task_definition is not None:
            touched.append(outcome)
        if phase is not Phase.SUCCEEDED:
            failed = outcome
            break
    if failed is None:
        report.verdict = "succeeded"
        report.reason = f"all {len(report.services)} services run {config.image}"
    elif failed.verdict == Phase.CONFLICT.value:
        report.verdict = Phase.CONFLICT.value
        report.reason = (
            f"stopped: {failed.reason} on service {failed.service}. Nothing was rolled back "
            "because another deploy now owns the service; when it is done, run rollback with "
            "this report if the services should return to the restore points"
        )
    else:
        report.verdict = "failed"
        report.reason = _rollback_all(run, touched, failed)
    report.finished_at = now_iso()
    log(f"deploy {report.verdict}: {report.reason}")
    return report


def _rollback_all(run: _Run, touched: list[ServiceOutcome], failed: ServiceOutcome) -> str:
    summary = f"service {failed.service} {failed.verdict}: {failed.reason}"
    if not touched:
        return summary + "; no service had been changed, so nothing was rolled back"
    run.log(
        f"rolling back {', '.join(o.service for o in reversed(touched))} to their restore points"
    )
    for outcome in reversed(touched):
        outcome.rollback = run.roll_back_service(outcome.service, outcome.old_task_definition)
    broken = [o for o in touched if o.rollback and o.rollback.verdict != Phase.SUCCEEDED.value]
    if not broken:
        return (
            summary
            + "; rolled back "
            + ", ".join(f"{o.service} to {o.old_task_definition}" for o in touched)
        )
    return (
        summary
        + "; ROLLBACK ALSO FAILED for "
        + "; ".join(
            f"{o.service} ({o.rollback.verdict}: {o.rollback.reason})" for o in broken if o.rollback
        )
        + ": inspect those services and run rollback with this report"
    )


def rollback(
    config: DeployConfig,
    log: LineLogger = print,
    *,
    report_path: Path | None = None,
    clients: Clients | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> DeployReport:
    """Return each service to a report's restore point, or else to its previous revision."""
    with redacted_errors(config.secrets()):
        return _rollback(
            config, redacting(log, config.secrets()), report_path, clients, clock, sleep
        )


def _rollback(
    config: DeployConfig,
    log: LineLogger,
    report_path: Path | None,
    clients: Clients | None,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> DeployReport:
    run = _Run(config, clients or connect(config), log, clock, sleep)
    points = {p.service: p for p in load_restore_points(report_path)} if report_path else {}
    missing = [s for s in config.services if report_path and s not in points]
    if missing:
        raise DeployError(
            f"report {report_path} has no restore point for {', '.join(missing)}; pass only "
            f"the services it lists ({', '.join(points)})"
        )
    services = {
        name: describe_service(run.clients, config.cluster, name) for name in config.services
    }
    targets: dict[str, str] = {}
    for name, service in services.items():
        busy = deployment_in_progress(service)
        if busy and not config.force:
            raise DeployError(
                f"service {name}: a deployment is in progress ({busy}); wait for it to finish "
                "or pass force"
            )
        targets[name] = (
            points[name].task_definition
            if name in points
            else _previous_of(run, name, str(service["taskDefinition"]))
        )
    report = DeployReport(
        operation="rollback",
        cluster=config.cluster,
        region=config.region,
        image=None,
        started_at=now_iso(),
        restore_points=_restore_points(run, services),
    )
    for point in report.restore_points:
        outcome = ServiceOutcome(
            point.service,
            point.task_definition,
            point.deployment_id,
            new_task_definition=targets[point.service],
        )
        outcome.rollback = run.roll_back_service(point.service, targets[point.service])
        outcome.new_deployment_id = outcome.rollback.deployment_id
        outcome.verdict, outcome.reason = outcome.rollback.verdict, outcome.rollback.reason
        outcome.timings["rollout"] = outcome.rollback.seconds
        report.services.append(outcome)
    bad = [o for o in report.services if o.verdict != Phase.SUCCEEDED.value]
    report.verdict = "failed" if bad else "succeeded"
    report.reason = "; ".join(f"{o.service} {o.verdict}: {o.reason}" for o in bad) or (
        "rolled back " + ", ".join(f"{s} to {t}" for s, t in targets.items())
    )
    report.finished_at = now_iso()
    log(f"rollback {report.verdict}: {report.reason}")
    return report


def _previous_of(run: _Run, name: str, current: str) -> str:
    family = current.rsplit("/", 1)[-1].partition(":")[0]
    arns: list[str] = []
    with aws(f"task definition family {family}"):
        paginator = run.clients.ecs.get_paginator("list_task_definitions")
        for page in paginator.paginate(familyPrefix=family, status="ACTIVE"):
            arns += page.get("taskDefinitionArns", [])
    previous = previous_revision(current, arns)
    if previous is None:
        raise DeployError(
            f"service {name}: task definition family {family} has no ACTIVE revision before "
            f"{current}; pass a report with a restore point instead"
        )
    return previous
