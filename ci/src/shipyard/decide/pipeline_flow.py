"""The pipeline's decisions, free of Dagger: which stages an event runs, per-stage verdicts, the
overall verdict, when to roll back and when to commit regenerated docs back."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from shipyard.decide import progress


class PipelineError(ValueError):
    """The pipeline was asked for something it cannot do (an unknown event, a bad option)."""


class Flow(StrEnum):
    """What a run does: checks only (pull requests, side branches) or checks then a release."""

    CHECKS = "checks"
    RELEASE = "release"


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


KNOWN_EVENTS: Final = ("pull_request", "push", "workflow_dispatch")


def flow_for_event(event: str, ref: str, release_branch: str = "main") -> Flow:
    """Pull requests only check; a push (or manual run) on the release branch also releases."""
    if event not in KNOWN_EVENTS:
        raise PipelineError(
            f"event {event!r} is not one the pipeline handles; pass --event with one of "
            f"{', '.join(KNOWN_EVENTS)} (GitHub: ${{{{ github.event_name }}}})"
        )
    if event == "pull_request":
        return Flow.CHECKS
    if not ref.startswith("refs/"):
        raise PipelineError(
            f"ref {ref!r} is not a full git ref; pass --ref like refs/heads/{release_branch} "
            "(GitHub: ${{ github.ref }})"
        )
    return Flow.RELEASE if ref == f"refs/heads/{release_branch}" else Flow.CHECKS


@dataclass(frozen=True)
class StageResult:
    """One stage's outcome, with a one-line summary and any structured details it produced."""

    stage: str
    verdict: Verdict
    summary: str
    seconds: float = 0.0
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "verdict": str(self.verdict),
            "summary": self.summary,
            "seconds": round(self.seconds, 2),
            "details": dict(self.details),
        }


def skipped(stage: str, reason: str) -> StageResult:
    return StageResult(stage, Verdict.SKIPPED, reason)


StageOutcome = tuple[str, Mapping[str, Any]]


async def run_stage(
    stage: str,
    action: Callable[[], Awaitable[StageOutcome]],
    explain: Callable[[BaseException], str],
    clock: Callable[[], float] = time.monotonic,
) -> StageResult:
    """Run one stage and turn any failure into a FAILED verdict instead of an exception.

    The pipeline runs stages in anyio task groups, which cancel every sibling on the first
    exception; catching per stage is what lets every stage report its own verdict.
    """
    started = clock()
    progress.announce(stage)
    try:
        summary, details = await action()
        result = StageResult(stage, Verdict.PASSED, summary, clock() - started, details)
    except Exception as error:
        result = StageResult(stage, Verdict.FAILED, explain(error), clock() - started)
    progress.announce(stage, str(result.verdict), result.seconds, result.summary)
    return result


def failed_stages(results: Iterable[StageResult]) -> list[str]:
    return [result.stage for result in results if result.verdict is Verdict.FAILED]


def release_blocker(checks: Sequence[StageResult]) -> str | None:
    """Why the release must not start, or None when every check passed."""
    failed = failed_stages(checks)
    return f"not released: {', '.join(failed)} failed" if failed else None


def needs_rollback(deploy: StageResult, smoke: StageResult) -> bool:
    """Roll back when the new release went live but failed its smoke suite.

    A failed deploy is rolled back by the deploy engine itself, to the task definitions it
    recorded before starting, so it needs no second rollback here.
    """
    return deploy.verdict is Verdict.PASSED and smoke.verdict is Verdict.FAILED


def overall_verdict(results: Iterable[StageResult]) -> Verdict:
    """The run fails when any stage failed; a run whose smoke suite failed stays failed even when
    the rollback that followed succeeded."""
    return Verdict.FAILED if failed_stages(results) else Verdict.PASSED


def docs_commit_message(changed_paths: Sequence[str]) -> str:
    """The commit-back message: names what changed and carries [skip ci] so it triggers no run."""
    if not changed_paths:
        raise PipelineError("no regenerated docs changed; nothing to commit (check before asking)")
    listed = ", ".join(sorted(changed_paths)[:5])
    more = f" and {len(changed_paths) - 5} more" if len(changed_paths) > 5 else ""
    return f"docs: regenerate terraform docs ({listed}{more}) [skip ci]"


def should_commit_docs(flow: Flow, changed_paths: Sequence[str], token_given: bool) -> bool:
    """Commit regenerated docs back only on a release run, only when they changed, only with a
    token to push with."""
    return flow is Flow.RELEASE and bool(changed_paths) and token_given


def parse_faults(
    specs: Sequence[str], services: Sequence[str], kinds: Sequence[str]
) -> dict[str, str]:
    """Parse ``--fault`` values: ``KIND`` (applies to the first service) or ``SERVICE=KIND``."""
    faults: dict[str, str] = {}
    for spec in specs:
        service, sep, kind = spec.partition("=")
        if not sep:
            service, kind = services[0], spec
        if service not in services:
            raise PipelineError(
                f"--fault {spec!r}: unknown service {service!r}; use one of {', '.join(services)}"
            )
        if kind not in kinds:
            raise PipelineError(
                f"--fault {spec!r}: unknown fault {kind!r}; use one of {', '.join(kinds)}"
            )
        if service in faults:
            raise PipelineError(f"--fault {spec!r}: {service} already has a fault; give one each")
        faults[service] = kind
    return faults


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace any secret value that leaked into a message (an exception's text, say)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


_PYTEST_TOTALS: Final = re.compile(r"^=*\s*(\d+ (?:passed|failed|error).* in [\d.]+s).*$")
_COVERAGE_TOTAL: Final = re.compile(r"^TOTAL\s.*?(\d+(?:\.\d+)?%)\s*$")


def summarize_test_run(pytest_output: str) -> str:
    """pytest's totals line and coverage's total, e.g. ``41 passed in 3.20s; coverage 92%``."""
    totals = coverage = None
    for line in pytest_output.splitlines():
        if match := _PYTEST_TOTALS.match(line.strip()):
            totals = match.group(1).rstrip(" =")
        elif match := _COVERAGE_TOTAL.match(line.strip()):
            coverage = match.group(1)
    if totals is None:
        raise PipelineError(
            "pytest printed no totals line; run `dagger call test` to see its output"
        )
    return f"{totals}; coverage {coverage}" if coverage else totals


@dataclass(frozen=True)
class DeployTargetConfig:
    """Where a release goes, as terraform exports it (``terraform output -json pipeline``).

    `services` are the ECS service names in deploy order; `containers` maps each of them to the
    container whose image the release replaces.
    """

    environment: str
    region: str
    url: str
    repository: str
    cluster: str
    services: tuple[str, ...]
    containers: Mapping[str, str]


def container_assignments(containers: Mapping[str, str]) -> tuple[str, ...]:
    """The deploy engine's ``--container SERVICE=CONTAINER`` values for a service→container map."""
    return tuple(f"{service}={container}" for service, container in containers.items())


def parse_pipeline_outputs(text: str, environment: str) -> DeployTargetConfig:
    """Read terraform's ``pipeline`` output; the names are defined there once, never retyped."""
    fix = "pass `terraform output -json pipeline` of that environment's workspace"
    try:
        outputs = json.loads(text)
    except json.JSONDecodeError as error:
        raise PipelineError(f"--pipeline-config is not JSON ({error.msg}); {fix}") from None
    if not isinstance(outputs, dict):
        raise PipelineError(f"--pipeline-config must be a JSON object; {fix}")
    needed = (
        "environment",
        "region",
        "alb_url",
        "ecr_repository_url",
        "cluster_name",
        "service_names",
        "container_names",
        "deploy_order",
    )
    if missing := [key for key in needed if key not in outputs]:
        raise PipelineError(f"--pipeline-config lacks {', '.join(missing)}; {fix}")
    if outputs["environment"] != environment:
        raise PipelineError(
            f"--pipeline-config describes {outputs['environment']!r}, not --environment "
            f"{environment!r}; {fix}"
        )
    names, containers, order = (
        outputs["service_names"],
        outputs["container_names"],
        outputs["deploy_order"],
    )
    if not (isinstance(names, dict) and isinstance(containers, dict)):
        raise PipelineError(
            "--pipeline-config service_names and container_names must be objects keyed by "
            f"service role; {fix}"
        )
    if unknown := [role for role in order if role not in names]:
        raise PipelineError(f"--pipeline-config deploy_order names {unknown} with no service")
    if unnamed := [role for role in order if not containers.get(role)]:
        raise PipelineError(
            f"--pipeline-config container_names has no container for {', '.join(unnamed)} (the "
            f"container whose image the release replaces); {fix}"
        )
    return DeployTargetConfig(
        environment=environment,
        region=str(outputs["region"]),
        url=str(outputs["alb_url"]),
        repository=str(outputs["ecr_repository_url"]),
        cluster=str(outputs["cluster_name"]),
        services=tuple(str(names[role]) for role in order),
        containers={str(names[role]): str(containers[role]) for role in order},
    )


# Stages of a release after the image exists, in order; skipped together when it does not.
RELEASE_AFTER_PUBLISH: Final = ("deploy", "smoke", "rollback")
PROMOTION_SKIPS_CHECKS: Final = "not run: promoting the digest that passed them before staging"


def first_lines(text: str, count: int = 3) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " / ".join(lines[:count])


def smoke_headline(markdown: str) -> str:
    """The smoke report's headline and the rows of the checks that did not pass, on one line."""
    lines = markdown.strip().splitlines()
    headline = lines[0].lstrip("# ").strip() if lines else "smoke: no report"
    failed = [
        row.strip().strip("|").split("|")[-1].strip()
        for row in lines
        if row.startswith("|") and ("❌" in row or "no-data" in row)
    ]
    return "; ".join([headline, *failed])


def deploy_details(report: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parts of a deploy report a summary shows: verdict, services and any dossier."""
    if not report:
        return {}
    services = report.get("services", [])
    details: dict[str, Any] = {"verdict": report.get("verdict"), "reason": report.get("reason")}
    if dossiers := {s["service"]: s["dossier"] for s in services if s.get("dossier")}:
        details["dossier"] = dossiers
    details["services"] = {s["service"]: s.get("verdict") for s in services}
    if rollbacks := {
        s["service"]: s["rollback"].get("verdict") for s in services if s.get("rollback")
    }:
        details["rollback"] = rollbacks
    details["report"] = dict(report)
    return details


@dataclass
class Ledger:
    """The stages of one run, in the order they were decided, and the notes that go with them."""

    stages: list[StageResult] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    def add(self, *results: StageResult) -> None:
        self.stages.extend(results)
        for result in results:
            progress.announce(result.stage, str(result.verdict), result.seconds, result.summary)

    def skip(self, reason: str, stages: Sequence[str]) -> None:
        self.add(*(skipped(stage, reason) for stage in stages))

    def get(self, stage: str) -> StageResult:
        return next(result for result in self.stages if result.stage == stage)

    def passed(self, stage: str) -> bool:
        return any(r.stage == stage and r.verdict is Verdict.PASSED for r in self.stages)


@dataclass(frozen=True)
class NotifyMessage:
    """What one notification says."""

    stage: str
    verdict: str
    git_sha: str
    environment: str
    summary: str
    on_success: bool


def notify_message(
    flow: Flow, stages: Sequence[StageResult], environment: str, git_sha: str
) -> NotifyMessage:
    """One message for a run: the first failed stage leads; releases are posted even when green."""
    failed = failed_stages(stages)
    stage = failed[0] if failed else ("release" if flow is Flow.RELEASE else "checks")
    summary = "; ".join(
        f"{s.stage}: {s.verdict}" for s in stages if s.verdict is not Verdict.SKIPPED
    )
    if failed:
        cause = next(s for s in stages if s.stage == failed[0]).summary
        summary = f"{first_lines(cause, 2)} ({summary})"
    return NotifyMessage(
        stage=stage,
        verdict=str(overall_verdict(stages)),
        git_sha=git_sha,
        environment=environment or "pull request",
        summary=summary,
        on_success=flow is Flow.RELEASE,
    )
