"""Deploy and rollback: restore points, strictly sequential rollouts, coordinated rollback."""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from shipyard.tools.deploy import markers
from shipyard.tools.deploy.aws import Clients, aws, connect
from shipyard.tools.deploy.config import DeployConfig
from shipyard.tools.deploy.dossier import Dossier, collect_dossier
from shipyard.tools.deploy.errors import (
    DeployError,
    LineLogger,
    redacted_errors,
    redacting,
    scrubbed,
)
from shipyard.tools.deploy.interrupt import Interruption
from shipyard.tools.deploy.journal import Journal, now_iso
from shipyard.tools.deploy.plan import describe_service, describe_task_definition, plan_service
from shipyard.tools.deploy.report import (
    DeployReport,
    RestorePoint,
    RollbackOutcome,
    ServiceOutcome,
    binding_problems,
    load_recorded_run,
)
from shipyard.tools.deploy.verify import deployment_in_progress, verify
from shipyard.tools.deploy.watch import Expectation, Phase, WatchResult, watch

T = TypeVar("T")
# While an interrupted run watches its rollbacks, it polls at least this often (seconds).
INTERRUPTED_POLL = 1.0


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


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


def foreign_deployments(service: dict[str, Any], known: frozenset[str]) -> list[dict[str, Any]]:
    """Deployments on the service that this run neither recorded nor started."""
    return [d for d in service.get("deployments", []) if str(d.get("id")) not in known]


def settled(outcome: ServiceOutcome) -> bool:
    """Whether a service ended on a known task definition: its new one, or its restore point."""
    if outcome.new_task_definition is None:
        return True  # never registered, so never updated: still on its restore point
    if outcome.verdict in (Phase.SUCCEEDED.value, Phase.CONFLICT.value, "not_started"):
        return outcome.rollback is None or outcome.rollback.verdict == Phase.SUCCEEDED.value
    return outcome.rollback is not None and outcome.rollback.verdict == Phase.SUCCEEDED.value


@dataclass
class _Run:
    config: DeployConfig
    clients: Clients
    log: LineLogger
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    interruption: Interruption
    journal: Journal
    seen_events: dict[str, set[str]] = field(default_factory=dict)
    # Per service, the deployment ids it had when this run recorded its restore point.
    known: dict[str, frozenset[str]] = field(default_factory=dict)
    # Once rolling back, a signal no longer cuts retries short: only the grace's deadline does.
    rolling_back: bool = False

    def patiently(self, what: str, call: Callable[[], T], until: float) -> T:
        """`call`, tried again each poll interval while AWS throttles or answers 5xx."""
        while True:
            try:
                return call()
            except DeployError as error:
                abandoned = self.interruption.requested and not self.rolling_back
                if (
                    not error.transient
                    or abandoned
                    or self.clock() >= min(until, self.interruption.deadline())
                ):
                    raise
                self.log(f"{what}: AWS is throttling or failing transiently; trying again")
                self.sleep(self.config.poll_interval_seconds)

    def describe(self, name: str) -> dict[str, Any]:
        deadline = self.clock() + self.config.timeout_seconds
        return self.patiently(
            name, lambda: describe_service(self.clients, self.config.cluster, name), deadline
        )

    def describer(self, name: str) -> Callable[[], dict[str, Any] | None]:
        def describe() -> dict[str, Any] | None:
            try:
                return describe_service(self.clients, self.config.cluster, name)
            except DeployError as error:
                if error.transient:
                    self.log(f"{name}: AWS is throttling or failing transiently; polling again")
                    return None
                raise

        return describe

    def update(
        self, name: str, task_definition: str, restore: str, known: frozenset[str]
    ) -> Expectation:
        """UpdateService to exactly `task_definition`; `restore` is what a rollback returns to.

        `known` are the deployments that may stay next to ours; any other is someone else's.
        """

        def call() -> dict[str, Any]:
            with aws(f"service {name} (UpdateService to {task_definition})"):
                answer = self.clients.ecs.update_service(
                    cluster=self.config.cluster, service=name, taskDefinition=task_definition
                )
            return dict(answer["service"])

        service = self.patiently(name, call, self.clock() + self.config.timeout_seconds)
        ours = started_deployment(service, task_definition)
        self.journal.record(
            "update", service=name, task_definition=task_definition, deployment_id=ours["id"]
        )
        seen = self.seen_events.setdefault(name, set())
        seen.update(str(e.get("id")) for e in service.get("events", []))
        return Expectation(str(ours["id"]), task_definition, restore, known - {ours["id"]})

    def watch(
        self, name: str, expect: Expectation, timeout: float, stop_at: Callable[[], float]
    ) -> WatchResult:
        poll = self.config.poll_interval_seconds
        return watch(
            self.describer(name),
            expect,
            name=name,
            timeout=timeout,
            poll_interval=min(poll, INTERRUPTED_POLL) if self.interruption.requested else poll,
            log=self.log,
            seen_events=self.seen_events.setdefault(name, set()),
            clock=self.clock,
            sleep=self.sleep,
            stop_at=stop_at,
        )

    def stop_now(self) -> float:
        """A forward watch's deadline: now, once a signal has arrived."""
        return -math.inf if self.interruption.requested else math.inf

    def dossier_for(self, deployment_id: str, service: dict[str, Any]) -> Dossier | None:
        if not service:
            return None
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
    def guard(self, outcome: ServiceOutcome) -> bool:
        """Right before touching a service: True when nobody else deployed to it since its
        restore point was recorded; otherwise the outcome says so (verdict conflict)."""
        name = outcome.service
        foreign = foreign_deployments(self.describe(name), self.known[name])
        if not foreign:
            return True
        outcome.verdict = Phase.CONFLICT.value
        outcome.reason = (
            f"deployment {foreign[0].get('id')} (task definition "
            f"{foreign[0].get('taskDefinition')}) was started by someone else after this run "
            f"recorded {name}'s restore point; {name} was not touched"
        )
        return False

    def deploy_service(self, outcome: ServiceOutcome) -> Phase:
        name = outcome.service
        if not self.guard(outcome):
            return Phase.CONFLICT
        started = self.clock()
        planned = plan_service(self.clients, self.config, name)

        def register() -> dict[str, Any]:
            with aws(f"service {name} (RegisterTaskDefinition)"):
                return dict(self.clients.ecs.register_task_definition(**planned.registration))

        registered = self.patiently(name, register, started + self.config.timeout_seconds)
        outcome.new_task_definition = str(registered["taskDefinition"]["taskDefinitionArn"])
        outcome.timings["register"] = round(self.clock() - started, 3)
        self.journal.record("registered", service=name, task_definition=outcome.new_task_definition)
        self.log(f"{name}: registered {outcome.new_task_definition}")
        if self.interruption.requested:
            outcome.verdict, outcome.reason = Phase.INTERRUPTED.value, "interrupted before update"
            return Phase.INTERRUPTED
        started = self.clock()
        expect = self.update(
            name, outcome.new_task_definition, outcome.old_task_definition, self.known[name]
        )
        outcome.new_deployment_id = expect.deployment_id
        outcome.timings["update"] = round(self.clock() - started, 3)
        self.log(
            f"{name}: deployment {expect.deployment_id} started on {outcome.new_task_definition}"
        )
        result = self.watch(name, expect, self.config.timeout_seconds, self.stop_now)
        outcome.timings["rollout"] = round(result.seconds, 3)
        outcome.verdict, outcome.reason = result.verdict.phase.value, result.verdict.reason
        self.log(f"{name}: {outcome.verdict}: {outcome.reason}")
        if result.verdict.phase not in (Phase.SUCCEEDED, Phase.CONFLICT, Phase.INTERRUPTED):
            outcome.dossier = self.dossier_for(expect.deployment_id, result.last_service)
        return result.verdict.phase

    # ---------------------------------------------------------------- services back
    def start_rollback(self, name: str, target: str) -> tuple[RollbackOutcome, Expectation | None]:
        """Send the service back to `target` (or note it is already going there); no waiting."""
        outcome = RollbackOutcome(target_task_definition=target)
        try:
            service = self.describe(name)
            primary = primary_deployment(service)
            current = str(primary.get("taskDefinition"))
            present = frozenset(str(d["id"]) for d in service.get("deployments", []))
            if current == target:
                # The circuit breaker already rolled back (or nothing changed): watch it settle.
                expect = Expectation(str(primary["id"]), target, target, present)
                self.log(f"{name}: already on {target} (deployment {primary['id']}); settling")
            else:
                self.log(f"{name}: rolling back from {current} to {target}")
                expect = self.update(name, target, current, present)
        except Exception as error:  # every failure must end in the report
            outcome.verdict, outcome.reason = Phase.FAILED.value, _failure_text(error)
            self.log(f"{name}: rollback failed: {outcome.reason}")
            return outcome, None
        outcome.deployment_id = expect.deployment_id
        outcome.verdict, outcome.reason = "in_progress", f"started: {expect.deployment_id}"
        self.journal.record(
            "rollback_started", service=name, target=target, deployment_id=expect.deployment_id
        )
        return outcome, expect

    def finish_rollback(self, name: str, outcome: RollbackOutcome, expect: Expectation) -> None:
        """Watch a started rollback until it is decided, it times out or the deadline comes."""
        started = self.clock()
        try:
            result = self.watch(
                name, expect, self.config.rollback_timeout, self.interruption.deadline
            )
        except Exception as error:  # every failure must end in the report
            outcome.verdict, outcome.reason = Phase.FAILED.value, _failure_text(error)
            outcome.seconds = round(self.clock() - started, 3)
            self.log(f"{name}: rollback failed: {outcome.reason}")
            return
        outcome.seconds = round(self.clock() - started, 3)
        if result.verdict.phase is Phase.INTERRUPTED:
            outcome.verdict = "in_progress"
            outcome.reason = (
                f"started (deployment {expect.deployment_id}) and still settling when the run "
                f"stopped watching after {self.interruption.signal_name}"
            )
        else:
            outcome.verdict, outcome.reason = result.verdict.phase.value, result.verdict.reason
        self.log(f"{name}: rollback {outcome.verdict}: {outcome.reason}")
        self.journal.record("rollback_verdict", service=name, verdict=outcome.verdict)
        if result.verdict.phase in (Phase.FAILED, Phase.TIMED_OUT):
            outcome.dossier = self.dossier_for(expect.deployment_id, result.last_service)

    def roll_back(
        self, targets: list[tuple[str, str]], report: DeployReport
    ) -> dict[str, RollbackOutcome]:
        """Start every rollback first, then watch each: a signal must find them all sent."""
        self.rolling_back = True
        started = [(name, *self.start_rollback(name, target)) for name, target in targets]
        outcomes = {name: rolled for name, rolled, _ in started}
        for service in report.services:
            if service.service in outcomes:
                service.rollback = outcomes[service.service]
        self.journal.checkpoint(report)
        for name, rolled, expect in started:
            if expect is not None:
                self.finish_rollback(name, rolled, expect)
        return outcomes


def _failure_text(error: Exception) -> str:
    if isinstance(error, DeployError):
        return str(error)
    return (
        f"unexpected {type(error).__name__} in the deploy engine (a bug: report it with the "
        "deploy log)"
    )


def _restore_points(run: _Run, services: dict[str, dict[str, Any]]) -> list[RestorePoint]:
    points = []
    for name in services:
        service = services[name]
        primary = primary_deployment(service)
        points.append(RestorePoint(name, str(service["taskDefinition"]), str(primary["id"])))
        run.known[name] = frozenset(str(d["id"]) for d in service.get("deployments", []))
        run.log(f"{name}: restore point {service['taskDefinition']} (deployment {primary['id']})")
        run.journal.record(
            "restore_point",
            service=name,
            task_definition=service["taskDefinition"],
            deployment_id=primary["id"],
        )
    return points


def _start(
    config: DeployConfig,
    log: LineLogger,
    clients: Clients | None,
    clock: Callable[[], float],
    sleep: Callable[[float], None] | None,
    journal: Journal | None,
    interruption: Interruption | None,
) -> _Run:
    connected = clients or connect(config)
    hidden = (*config.secrets(), *connected.secrets)
    interruption = interruption or Interruption(config.grace_seconds, clock)
    journal = journal or Journal()
    journal.hide(hidden)
    return _Run(
        config,
        connected,
        redacting(log, hidden),
        clock,
        sleep or interruption.sleep,
        interruption,
        journal,
    )


def deploy(
    config: DeployConfig,
    log: LineLogger = print,
    *,
    clients: Clients | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] | None = None,
    journal: Journal | None = None,
    interruption: Interruption | None = None,
) -> DeployReport:
    """Verify, record restore points (in AWS tags and the journal), then roll out in order.

    Raises DeployError only before anything changed (bad input, failed pre-flight). Once a
    change is made the outcome, good or bad, is in the returned report. After a signal noted
    by `interruption` the run stops waiting, rolls back what it touched and returns a report
    with verdict `interrupted`.
    """
    with redacted_errors(config.secrets()):
        run = _start(config, log, clients, clock, sleep, journal, interruption)
        with redacted_errors(run.clients.secrets):
            return scrubbed(_deploy(run), run.journal.secrets)


def _deploy(run: _Run) -> DeployReport:
    config = run.config
    checked = verify(config, run.clients)
    for finding in checked.findings:
        run.log(str(finding))
    checked.raise_if_blocked()
    identity = markers.RunIdentity(new_run_id(), now_iso(), config.image)
    report = DeployReport(
        operation="deploy",
        cluster=config.cluster,
        region=config.region,
        image=config.image,
        started_at=identity.started_at,
        run_id=identity.run_id,
        account=checked.account,
        restore_points=[],
    )
    run.journal.record(
        "run_started",
        run_id=identity.run_id,
        operation="deploy",
        cluster=config.cluster,
        region=config.region,
        account=checked.account,
        image=config.image,
        services=list(config.services),
    )
    report.restore_points = _restore_points(run, {n: checked.services[n] for n in config.services})
    report.services = [
        ServiceOutcome(p.service, p.task_definition, p.deployment_id) for p in report.restore_points
    ]
    _mark(run, identity, report, checked.services)
    run.journal.checkpoint(report)
    try:
        _roll_forward(run, report)
    except Exception as error:  # the report must still be written
        report.verdict, report.reason = Phase.FAILED.value, _failure_text(error)
    return _finish(run, report)


def _mark(
    run: _Run, identity: markers.RunIdentity, report: DeployReport, services: dict[str, Any]
) -> None:
    """Tag every service with its restore point and this run's in-flight marker."""
    marked: list[str] = []
    for point in report.restore_points:
        tags = markers.restore_tags(identity, point.task_definition, point.deployment_id)
        try:
            markers.mark(run.clients, services[point.service], tags)
        except DeployError as error:
            for name in marked:
                _clear_marker(run, name)
            raise DeployError(
                f"could not record {point.service}'s restore point in AWS, so nothing was "
                f"deployed: {error}"
            ) from None
        marked.append(point.service)
        run.journal.record("marked", service=point.service, run_id=identity.run_id)
    _refuse_a_concurrent_run(run, identity, services)


def _refuse_a_concurrent_run(
    run: _Run, identity: markers.RunIdentity, services: dict[str, Any]
) -> None:
    """Read the markers back: another run that marked a service since owns it (last writer)."""
    found = markers.read_markers(run.clients, [services[name] for name in run.config.services])
    others = [m for m in found if m.in_flight and m.run_id != identity.run_id]
    if not others:
        return
    for marker in found:
        if marker.run_id == identity.run_id:
            _clear_marker(run, marker.service)
    raise DeployError(
        f"run {others[0].run_id} marked service {others[0].service} while this run was marking "
        "its services: two deploys are running at once, and this one changed nothing; let the "
        "other finish (a workflow concurrency group keeps them apart), then deploy again"
    )


def _roll_forward(run: _Run, report: DeployReport) -> None:
    """Each service in order; any verdict but success stops the run and rolls back."""
    touched: list[ServiceOutcome] = []
    stopped: ServiceOutcome | None = None
    for outcome in report.services:
        if run.interruption.requested:
            break
        try:
            phase = run.deploy_service(outcome)
        except Exception as error:  # never leave services half-deployed
            # A signal cuts the retries of a throttled call short: that is no failure.
            phase = (
                Phase.INTERRUPTED
                if isinstance(error, DeployError) and error.transient and run.interruption.requested
                else Phase.FAILED
            )
            outcome.verdict, outcome.reason = phase.value, _failure_text(error)
            run.log(f"{outcome.service}: {phase.value}: {outcome.reason}")
        # Registered means an update may have reached ECS: rolling back a service that was not
        # changed only watches it stay where it is.
        if outcome.new_task_definition is not None:
            touched.append(outcome)
        run.journal.record("service_verdict", service=outcome.service, verdict=outcome.verdict)
        run.journal.checkpoint(report)
        if phase is not Phase.SUCCEEDED:
            stopped = outcome
            break
    if all(o.verdict == Phase.SUCCEEDED.value for o in report.services):
        report.verdict = Phase.SUCCEEDED.value
        report.reason = f"all {len(report.services)} services run {run.config.image}"
    elif stopped is not None and stopped.verdict == Phase.CONFLICT.value:
        report.verdict = Phase.CONFLICT.value
        report.reason = (
            f"stopped: {stopped.reason} on service {stopped.service}. Nothing was rolled back "
            "because another deploy now owns the service; when it is done, run rollback with "
            "this report if the services should return to the restore points"
        )
    elif stopped is None or stopped.verdict == Phase.INTERRUPTED.value:
        report.verdict = Phase.INTERRUPTED.value
        summary = f"{run.interruption.signal_name} received, the deploy stopped"
        report.reason = _rollback_touched(run, report, touched, summary)
    else:
        report.verdict = Phase.FAILED.value
        summary = f"service {stopped.service} {stopped.verdict}: {stopped.reason}"
        report.reason = _rollback_touched(run, report, touched, summary)


def _rollback_touched(
    run: _Run, report: DeployReport, touched: list[ServiceOutcome], summary: str
) -> str:
    if not touched:
        return summary + "; no service had been changed, so nothing was rolled back"
    names = ", ".join(o.service for o in reversed(touched))
    run.log(f"rolling back {names} to their restore points")
    report.reason = f"{summary}; rolling back {names}"
    run.roll_back([(o.service, o.old_task_definition) for o in reversed(touched)], report)
    return summary + "; " + _rollback_summary(touched)


def _rollback_summary(touched: list[ServiceOutcome]) -> str:
    back = [o for o in touched if o.rollback and o.rollback.verdict == Phase.SUCCEEDED.value]
    settling = [o for o in touched if o.rollback and o.rollback.verdict == "in_progress"]
    broken = [o for o in touched if o not in back and o not in settling]
    parts = []
    if back:
        parts.append(
            "rolled back " + ", ".join(f"{o.service} to {o.old_task_definition}" for o in back)
        )
    if settling:
        parts.append(
            "rollback started and still settling for "
            + ", ".join(f"{o.service} (to {o.old_task_definition})" for o in settling)
        )
    if broken:
        parts.append(
            "ROLLBACK ALSO FAILED for "
            + "; ".join(
                f"{o.service} ({o.rollback.verdict}: {o.rollback.reason})"
                for o in broken
                if o.rollback
            )
            + ": inspect those services and run rollback with this report"
        )
    return "; ".join(parts)


def _finish(run: _Run, report: DeployReport) -> DeployReport:
    """Clear the in-flight markers when every service is on a known task definition."""
    if all(settled(o) for o in report.services):
        for point in report.restore_points:
            _clear_marker(run, point.service)
    else:
        report.reason += (
            "; the services keep their in-flight marker in AWS: to return them to their restore "
            "points run `"
            + markers.rollback_command(
                run.config.cluster, run.config.region, run.config.endpoint_url
            )
            + "`"
        )
    report.finished_at = now_iso()
    run.journal.record("run_ended", verdict=report.verdict, reason=report.reason)
    run.journal.checkpoint(report)
    run.log(f"{report.operation} {report.verdict}: {report.reason}")
    return report


def _clear_marker(run: _Run, name: str) -> None:
    try:
        arn = str(run.describe(name)["serviceArn"])
        markers.clear_in_flight(run.clients, arn)
    except DeployError as error:
        run.log(f"{name}: warning: the in-flight marker could not be cleared: {error}")
        return
    run.journal.record("marker_cleared", service=name)


def rollback(
    config: DeployConfig,
    log: LineLogger = print,
    *,
    report_path: Path | None = None,
    clients: Clients | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] | None = None,
    journal: Journal | None = None,
    interruption: Interruption | None = None,
) -> DeployReport:
    """Return services to recorded restore points.

    With `report_path`: the report's restore points, once the report is shown to be made on
    this cluster, region and account for the task-definition families the services run.
    Without: the restore points the last interrupted run left in the AWS tags of
    `config.services` (every one of them it marked); when no run left a marker, each of
    `config.services` to its previous revision. Every rollback is sent before any is watched.
    """
    with redacted_errors(config.secrets()):
        run = _start(config, log, clients, clock, sleep, journal, interruption)
        with redacted_errors(run.clients.secrets):
            return scrubbed(_rollback(run, report_path), run.journal.secrets)


@dataclass(frozen=True)
class _RollbackPlan:
    services: dict[str, dict[str, Any]]  # name -> DescribeServices answer
    targets: dict[str, str]  # name -> task definition to return to
    marked: dict[str, markers.Marker]  # name -> its in-flight marker, if any


def _rollback(run: _Run, report_path: Path | None) -> DeployReport:
    config = run.config
    with aws("the caller identity"):
        account = str(run.clients.sts.get_caller_identity()["Account"])
    planned = _rollback_plan(run, report_path, account)
    report = DeployReport(
        operation="rollback",
        cluster=config.cluster,
        region=config.region,
        image=None,
        started_at=now_iso(),
        run_id=new_run_id(),
        account=account,
        restore_points=[],
    )
    run.journal.record(
        "run_started",
        run_id=report.run_id,
        operation="rollback",
        cluster=config.cluster,
        region=config.region,
        account=account,
        targets=planned.targets,
    )
    report.restore_points = _restore_points(run, planned.services)
    report.services = [
        ServiceOutcome(p.service, p.task_definition, p.deployment_id, planned.targets[p.service])
        for p in report.restore_points
    ]
    run.journal.checkpoint(report)
    try:
        run.roll_back(list(planned.targets.items()), report)
    except Exception as error:  # the report must still be written
        report.reason = _failure_text(error)
    for outcome in report.services:
        done = outcome.rollback or RollbackOutcome(planned.targets[outcome.service])
        outcome.new_deployment_id = done.deployment_id
        outcome.verdict, outcome.reason = done.verdict, done.reason
        outcome.timings["rollout"] = done.seconds
    return _finish_rollback(run, report, planned)


def _finish_rollback(run: _Run, report: DeployReport, planned: _RollbackPlan) -> DeployReport:
    bad = [o for o in report.services if o.verdict != Phase.SUCCEEDED.value]
    settling = [o for o in bad if o.verdict == "in_progress"]
    if not bad:
        report.verdict = Phase.SUCCEEDED.value
        report.reason = "rolled back " + ", ".join(
            f"{s} to {t}" for s, t in planned.targets.items()
        )
    else:
        report.verdict = (
            Phase.INTERRUPTED.value
            if settling and run.interruption.requested
            else Phase.FAILED.value
        )
        report.reason = "; ".join(
            r for r in [report.reason, *(f"{o.service} {o.verdict}: {o.reason}" for o in bad)] if r
        )
    for outcome in report.services:
        marker = planned.marked.get(outcome.service)
        if (
            marker is not None
            and outcome.verdict == Phase.SUCCEEDED.value
            and marker.restore_task_definition == outcome.new_task_definition
        ):
            _clear_marker(run, outcome.service)
    report.finished_at = now_iso()
    run.journal.record("run_ended", verdict=report.verdict, reason=report.reason)
    run.journal.checkpoint(report)
    run.log(f"rollback {report.verdict}: {report.reason}")
    return report


def _rollback_plan(run: _Run, report_path: Path | None, account: str) -> _RollbackPlan:
    config = run.config
    services = {name: run.describe(name) for name in config.services}
    found = {m.service: m for m in markers.read_markers(run.clients, list(services.values()))}
    if report_path is not None:
        targets = _report_targets(run, report_path, account, services)
    elif interrupted := markers.last_interrupted_run(list(found.values())):
        run.log(
            f"run {interrupted[0].run_id} (started {interrupted[0].started_at}, image "
            f"{interrupted[0].image}) did not finish: returning "
            f"{', '.join(m.service for m in interrupted)} to the restore points in its tags"
        )
        services = {m.service: services[m.service] for m in interrupted}
        targets = {m.service: m.restore_task_definition for m in interrupted}
    else:
        targets = {
            name: _previous_of(run, name, str(s["taskDefinition"])) for name, s in services.items()
        }
    marked = {name: m for name, m in found.items() if m.in_flight and name in services}
    for name, service in services.items():
        _refuse_if_busy(run, name, service, marked.get(name))
    return _RollbackPlan(services, targets, marked)


def _report_targets(
    run: _Run, report_path: Path, account: str, services: dict[str, dict[str, Any]]
) -> dict[str, str]:
    """The report's restore points, once the report is shown to belong to these services."""
    config = run.config
    recorded = load_recorded_run(report_path)
    points = {p.service: p.task_definition for p in recorded.restore_points}
    missing = [s for s in config.services if s not in points]
    if missing:
        raise DeployError(
            f"report {report_path} has no restore point for {', '.join(missing)}; pass only "
            f"the services it lists ({', '.join(points)})"
        )
    current = {name: str(s["taskDefinition"]) for name, s in services.items()}
    problems = binding_problems(
        recorded, cluster=config.cluster, region=config.region, account=account, current=current
    )
    if problems:
        raise DeployError(
            f"report {report_path} does not belong to cluster {config.cluster} in "
            f"{config.region}: {'; '.join(problems)}; pass the report a deploy to this "
            "cluster wrote, or leave --from-report out to use the restore points in AWS"
        )
    return {name: points[name] for name in config.services}


def _refuse_if_busy(
    run: _Run, name: str, service: dict[str, Any], marker: markers.Marker | None
) -> None:
    """A rollback never returns over a deployment that neither it nor a marked run started."""
    busy = deployment_in_progress(service)
    if not busy or run.config.force:
        return
    deployments = service.get("deployments", [])
    if marker is not None and all(_of_marked_run(run, d, marker) for d in deployments):
        return
    raise DeployError(
        f"service {name}: a deployment is in progress ({busy}) that no interrupted run of "
        "shipyard left; wait for it to finish or pass force"
    )


def _of_marked_run(run: _Run, deployment: dict[str, Any], marker: markers.Marker | None) -> bool:
    """Whether `deployment` is the marked run's restore point, its rollback or its release."""
    if marker is None:
        return False
    task_definition = str(deployment.get("taskDefinition"))
    if deployment.get("id") == marker.restore_deployment_id:
        return True
    if task_definition == marker.restore_task_definition:
        return True
    described, _ = describe_task_definition(run.clients, task_definition)
    images = {markers.tag_value(c.get("image", "")) for c in described["containerDefinitions"]}
    return marker.image in images


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
