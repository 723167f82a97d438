"""The composed flows: which stage runs when, in parallel or in order, with every verdict kept.

The decisions themselves (event → flow, blockers, rollback, commit-back) are the pure functions
of :mod:`shipyard.pipeline_flow`; this module runs them against the engine.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import dagger
from dagger import dag

from shipyard import pipeline_flow, steps, toolchains
from shipyard.images import ImageCatalog
from shipyard.pipeline_flow import Flow, StageOutcome, StageResult, Verdict, run_stage, skipped
from shipyard.summary import RunReport, render_json, render_markdown

Action = Callable[[], Awaitable[StageOutcome]]


def explain(error: BaseException) -> str:
    """A stage failure in words: the tool's own report when there is one."""
    if isinstance(error, dagger.ExecError):
        output = (error.stdout + "\n" + error.stderr).strip()
        return f"exit {error.exit_code}: {steps.tail(output, 15)}"
    return str(error) or type(error).__name__


async def run_parallel(actions: Mapping[str, Action]) -> list[StageResult]:
    """Run stages side by side; each reports its own verdict (a failure cancels no sibling)."""
    results: dict[str, StageResult] = {}

    async def one(name: str, action: Action) -> None:
        results[name] = await run_stage(name, action, explain)

    async with anyio.create_task_group() as group:
        for name, action in actions.items():
            group.start_soon(one, name, action)
    return [results[name] for name in actions]


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


def report_directory(report: RunReport) -> dagger.Directory:
    return (
        dag.directory()
        .with_new_file("summary.md", render_markdown(report))
        .with_new_file("report.json", render_json(report))
    )


@dataclass
class Ledger:
    """The stages of one run, in the order they were decided."""

    stages: list[StageResult] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    def add(self, *results: StageResult) -> None:
        self.stages.extend(results)

    def get(self, stage: str) -> StageResult:
        return next(result for result in self.stages if result.stage == stage)

    def report(self, kind: str, flow: Flow, environment: str, git_sha: str) -> RunReport:
        return RunReport(kind, str(flow), environment, git_sha, list(self.stages), self.notes)


def deploy_details(report: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parts of a deploy report a summary shows: verdict, services and any dossier."""
    if not report:
        return {}
    details: dict[str, Any] = {"verdict": report.get("verdict"), "reason": report.get("reason")}
    dossiers = {
        service["service"]: service["dossier"]
        for service in report.get("services", [])
        if service.get("dossier")
    }
    if dossiers:
        details["dossier"] = dossiers
    details["services"] = {
        service["service"]: service.get("verdict") for service in report.get("services", [])
    }
    rollbacks = {
        service["service"]: service["rollback"].get("verdict")
        for service in report.get("services", [])
        if service.get("rollback")
    }
    if rollbacks:
        details["rollback"] = rollbacks
    details["report"] = dict(report)
    return details


def skipped_release(ledger: Ledger, reason: str, stages: tuple[str, ...]) -> None:
    ledger.add(*(skipped(stage, reason) for stage in stages))


RELEASE_AFTER_PUBLISH = ("deploy", "smoke", "rollback")


@dataclass(frozen=True)
class Sources:
    """Every input directory a pipeline run reads, each narrowed as its stage needs."""

    project: dagger.Directory
    app_project: dagger.Directory
    app: dagger.Directory
    terraform: dagger.Directory
    docs: dagger.Directory
    ci: dagger.Directory
    repo: dagger.Directory


@dataclass(frozen=True)
class ReleaseTarget:
    """Where a release goes (from terraform's pipeline output), and whether to promote."""

    config: pipeline_flow.DeployTargetConfig
    promote: bool


@dataclass(frozen=True)
class Secrets:
    aws: steps.AwsCredentials
    webhook: dagger.Secret | None
    github_token: dagger.Secret | None


async def checks(shipyard: Any, sources: Sources) -> list[StageResult]:
    """test ∥ lint ∥ scan ∥ docs-check, every verdict reported."""

    async def test() -> StageOutcome:
        return await shipyard.test(sources.app_project), {}

    async def lint() -> StageOutcome:
        await shipyard.lint(sources.project)
        return "ruff check, ruff format --check and mypy clean", {}

    async def scan() -> StageOutcome:
        return first_lines(await shipyard.scan(sources.terraform, sources.ci), 4), {}

    async def docs_check() -> StageOutcome:
        return first_lines(await shipyard.docs_check(sources.docs, sources.ci), 1), {}

    return await run_parallel({"test": test, "lint": lint, "scan": scan, "docs-check": docs_check})


async def release(
    shipyard: Any,
    ledger: Ledger,
    flow: Flow,
    target: ReleaseTarget,
    sources: Sources,
    secrets: Secrets,
    git_sha: str,
) -> None:
    """publish ∥ docs → deploy → smoke → rollback when smoke fails → notify."""
    image: dict[str, str] = {}
    changes: dict[str, dagger.Changeset] = {}

    async def publish() -> StageOutcome:
        if target.promote:
            image["address"] = await shipyard.promoted_image(
                target.config.repository, git_sha, target.config.region, secrets.aws
            )
            return f"promoting {image['address']}", {"image": image["address"]}
        image["address"] = await shipyard.publish(
            sources.app,
            target.config.repository,
            git_sha,
            secrets.aws.access_key_id,
            secrets.aws.secret_access_key,
            secrets.aws.session_token,
        )
        return f"pushed {image['address']}", {"image": image["address"]}

    async def docs() -> StageOutcome:
        changes["docs"] = await shipyard.docs(sources.docs, sources.ci)
        changed = [*await changes["docs"].added_paths(), *await changes["docs"].modified_paths()]
        return (f"{len(changed)} README(s) regenerated" if changed else "in sync"), {
            "changed": changed
        }

    ledger.add(*await run_parallel({"publish": publish, "docs": docs}))
    if ledger.get("docs").verdict is Verdict.PASSED:
        changed = list(ledger.get("docs").details["changed"])
        if pipeline_flow.should_commit_docs(flow, changed, secrets.github_token is not None):
            ledger.add(
                await run_stage(
                    "docs-commit",
                    lambda: shipyard.commit_docs(
                        sources.repo, changes["docs"], changed, secrets.github_token
                    ),
                    explain,
                )
            )
    if "address" not in image:
        skipped_release(ledger, "not deployed: publish failed", RELEASE_AFTER_PUBLISH)
        return
    ledger.notes["image"] = image["address"]
    config = target.config
    outcome = await shipyard.deploy_outcome(
        sources.ci,
        secrets.aws,
        config.cluster,
        image["address"],
        config.region,
        services=config.services,
        containers=pipeline_flow.container_assignments(config.containers),
    )
    ledger.add(outcome.stage("deploy"))
    if not outcome.run.passed:
        ledger.add(skipped("smoke", "not smoked: deploy failed (the deploy engine rolled back)"))
        ledger.add(skipped("rollback", "done by the deploy engine, see the deploy report"))
        return
    ledger.add(
        await run_stage("smoke", lambda: shipyard.smoke_stage(sources.ci, config.url), explain)
    )
    if pipeline_flow.needs_rollback(ledger.get("deploy"), ledger.get("smoke")):
        rolled = await shipyard.rollback_outcome(
            sources.ci,
            secrets.aws,
            config.cluster,
            config.region,
            outcome.out.file("deploy-report.json"),
            services=config.services,
        )
        ledger.add(rolled.stage("rollback"))
    else:
        ledger.add(skipped("rollback", "not needed: smoke passed"))


@dataclass(frozen=True)
class NotifyMessage:
    """What one notification says."""

    stage: str
    verdict: str
    git_sha: str
    environment: str
    summary: str
    on_success: bool


def shipyard_message(report: RunReport, failed: list[str]) -> NotifyMessage:
    """One message for a run: the first failed stage leads; releases are posted even when green."""
    stage = failed[0] if failed else ("release" if report.flow == Flow.RELEASE else "checks")
    lines = [f"{s.stage}: {s.verdict}" for s in report.stages if s.verdict is not Verdict.SKIPPED]
    summary = "; ".join(lines)
    if failed:
        cause = next(s for s in report.stages if s.stage == failed[0]).summary
        summary = f"{first_lines(cause, 2)} ({summary})"
    return NotifyMessage(
        stage=stage,
        verdict=str(report.verdict),
        git_sha=report.git_sha,
        environment=report.environment or "pull request",
        summary=summary,
        on_success=report.flow == Flow.RELEASE,
    )


async def notify(
    shipyard: Any,
    ledger: Ledger,
    report: RunReport,
    ci: dagger.Directory,
    webhook: dagger.Secret | None,
) -> None:
    """Tell the team: every failure, and every release (a deploy is news even when green)."""
    if webhook is None:
        ledger.add(skipped("notify", "no webhook given"))
        return
    failed = pipeline_flow.failed_stages(report.stages)
    message = shipyard_message(report, failed)

    async def send() -> StageOutcome:
        return await shipyard.notify_outcome(ci, webhook, message), {}

    ledger.add(await run_stage("notify", send, explain))


REHEARSAL_SERVICES = ("tiles", "timeseries")
# What --fault accepts, and the rollout simulator's name for each fault it plays itself.
SIMULATED_FAULTS = {
    "crash": "crash",
    "unhealthy": "unhealthy",
    "pull-error": "pull_error",
    "slow-rollout": "slow",
}
SMOKE_FAILURE = "smoke-failure"
FAULT_KINDS = (*SIMULATED_FAULTS, SMOKE_FAILURE)
# ECS-like patience for one service's rollout, in simulated seconds (scaled to real time).
REHEARSAL_ROLLOUT_DEADLINE = 300.0
REHEARSAL_SMOKE_DEADLINE = 20.0
FRONT_PORT = 4566
# The ALB's listener rules (terraform/main.tf): the smoke suite meets both services through it.
LISTENER_RULES = {
    "/tiles/*": "tiles",
    "/health": "tiles",
    "/metrics": "tiles",
    "/api/*": "timeseries",
}


def simulator_faults(faults: Mapping[str, str]) -> list[str]:
    """The rollout simulator's --fault arguments for the faults it plays (all but smoke)."""
    args: list[str] = []
    for service, kind in sorted(faults.items()):
        if kind in SIMULATED_FAULTS:
            args += ["--fault", f"{service}={SIMULATED_FAULTS[kind]}"]
    return args


def listener_routes(port: int) -> list[str]:
    args: list[str] = []
    for pattern, service in LISTENER_RULES.items():
        args += ["--route", f"{pattern}=http://{service}:{port}"]
    return args


# A release that starts and reports healthy but answers a real request wrong: the timeseries
# limit set below the smoke suite's one-year query. Only the smoke suite can catch it.
SMOKE_FAILURE_SETTINGS = {"GRIDSERVE_MAX_TIMESERIES_DAYS": "1"}
SMOKE_FAILURE_SERVICE = "timeseries"


def rehearsal_faults(specs: list[str]) -> dict[str, str]:
    """``--fault`` values → {service: kind}; a bare kind hits the service it can break."""
    placed = [
        f"{SMOKE_FAILURE_SERVICE}={spec}" if spec == SMOKE_FAILURE else spec for spec in specs
    ]
    faults = pipeline_flow.parse_faults(placed, REHEARSAL_SERVICES, FAULT_KINDS)
    for service, kind in faults.items():
        if kind == SMOKE_FAILURE and service != SMOKE_FAILURE_SERVICE:
            raise pipeline_flow.PipelineError(
                f"--fault {service}={kind}: the smoke failure is played by the "
                f"{SMOKE_FAILURE_SERVICE} service's settings; write --fault {SMOKE_FAILURE}"
            )
    return faults


def rehearsal_app(
    image: dagger.Container, service: str, faults: Mapping[str, str]
) -> dagger.Service:
    """The built image running as one ECS service would run it (its role set)."""
    container = image.with_env_variable("GRIDSERVE_ROLE", service)
    if faults.get(service) == SMOKE_FAILURE:
        for name, value in SMOKE_FAILURE_SETTINGS.items():
            container = container.with_env_variable(name, value)
    return toolchains.app_service(container)


async def rehearsal(
    shipyard: Any,
    images: ImageCatalog,
    app: dagger.Directory,
    ci: dagger.Directory,
    faults: Mapping[str, str],
    time_scale: float,
    git_sha: str,
) -> RunReport:
    """build → seed the emulated account → deploy → smoke → rollback when smoke fails."""
    if time_scale <= 0:
        raise pipeline_flow.PipelineError("--time-scale must be positive, e.g. 20")
    ledger = Ledger(notes={"faults": dict(faults) or "none", "time_scale": time_scale})
    image = toolchains.app_image(images, app)

    async def build() -> StageOutcome:
        await image.sync()
        return "built the service image (linux/amd64)", {}

    ledger.add(await run_stage("build", build, explain))
    if ledger.get("build").verdict is Verdict.FAILED:
        skipped_release(
            ledger, "not rehearsed: the image did not build", ("seed", *RELEASE_AFTER_PUBLISH)
        )
        return ledger.report("rehearsal", Flow.RELEASE, "rehearsal", git_sha)

    # Every rehearsal gets its own emulator and services: state never leaks between runs.
    run_id = uuid.uuid4().hex
    apps = {service: rehearsal_app(image, service, faults) for service in REHEARSAL_SERVICES}
    runner = (
        toolchains.ci_runner(images, ci)
        .with_env_variable("SHIPYARD_REHEARSAL", run_id)
        # moto accepts any credentials; these are placeholders, not secrets.
        .with_env_variable("AWS_ACCESS_KEY_ID", "rehearsal")
        .with_env_variable("AWS_SECRET_ACCESS_KEY", "rehearsal")
    )
    with_apps = runner
    for service, running in apps.items():
        with_apps = with_apps.with_service_binding(service, running)
    moto = (
        dag.container()
        .from_(images.reference("MOTO"))
        .with_env_variable("SHIPYARD_REHEARSAL", run_id)
        .with_exposed_port(5000)
        .as_service(use_entrypoint=True)
    )
    probes = [arg for s in REHEARSAL_SERVICES for arg in ("--app", f"{s}=http://{s}:8080/health")]
    front = (
        with_apps.with_service_binding("moto", moto)
        .with_exposed_port(FRONT_PORT)
        .as_service(
            args=[
                "python3",
                "-m",
                "shipyard.rehearsal",
                "--moto-url",
                "http://moto:5000",
                "--host",
                "0.0.0.0",  # noqa: S104 -- a service container answers on its own interface
                "--port",
                str(FRONT_PORT),
                "--time-scale",
                str(time_scale),
                *probes,
                *simulator_faults(faults),
            ]
        )
    )
    listener = with_apps.with_exposed_port(8080).as_service(
        args=["python3", "-m", "shipyard.listener", "--port", "8080", *listener_routes(8080)]
    )
    driver = runner.with_service_binding("aws", front).with_service_binding("alb", listener)
    endpoint = f"http://aws:{FRONT_PORT}"
    await front.start()
    try:
        await _rehearse_release(shipyard, ledger, ci, driver, endpoint, time_scale, git_sha)
    finally:
        await front.stop()
    return ledger.report("rehearsal", Flow.RELEASE, "rehearsal", git_sha)


async def _rehearse_release(
    shipyard: Any,
    ledger: Ledger,
    ci: dagger.Directory,
    driver: dagger.Container,
    endpoint: str,
    time_scale: float,
    git_sha: str,
) -> None:
    account: dict[str, Any] = {}

    async def seed() -> StageOutcome:
        run = await steps.run(
            steps.fresh(driver),
            ["python3", "-m", "shipyard.seed_cli", "--endpoint-url", endpoint, "--tag", git_sha],
            "seed",
        )
        account.update(json.loads(run.output_or_raise().strip().splitlines()[-1]))
        return (
            f"cluster {account['cluster']} with {', '.join(account['services'])} "
            f"on {account['previous_image'].rsplit('@', 1)[-1][:19]}",
            {"image": account["image"]},
        )

    ledger.add(await run_stage("seed", seed, explain))
    if not account:
        skipped_release(
            ledger,
            "not deployed: the account could not be seeded",
            ("plan", *RELEASE_AFTER_PUBLISH),
        )
        return
    ledger.notes["image"] = account["image"]
    no_credentials = steps.AwsCredentials(None, None, None)
    # The seeded task definitions name their containers like terraform does; the release names
    # them explicitly, as the pipeline does from terraform's container_names.
    containers = pipeline_flow.container_assignments(account["containers"])

    async def plan() -> StageOutcome:
        diff = await shipyard.plan_text(
            ci,
            no_credentials,
            account["cluster"],
            account["image"],
            account["region"],
            endpoint_url=endpoint,
            container=driver,
            services=account["services"],
            containers=containers,
        )
        return f"next task definitions of {', '.join(account['services'])}", {"diff": diff}

    ledger.add(await run_stage("plan", plan, explain))
    outcome = await shipyard.deploy_outcome(
        ci,
        no_credentials,
        account["cluster"],
        account["image"],
        account["region"],
        endpoint_url=endpoint,
        timeout=REHEARSAL_ROLLOUT_DEADLINE / time_scale,
        container=driver,
        poll_interval=1.0,
        services=account["services"],
        containers=containers,
    )
    ledger.add(outcome.stage("deploy"))
    if not outcome.run.passed:
        ledger.add(skipped("smoke", "not smoked: deploy failed (the deploy engine rolled back)"))
        ledger.add(skipped("rollback", "done by the deploy engine, see the deploy stage"))
        return
    ledger.add(
        await run_stage(
            "smoke",
            lambda: shipyard.smoke_stage(
                ci, "http://alb:8080", container=driver, deadline=REHEARSAL_SMOKE_DEADLINE
            ),
            explain,
        )
    )
    if not pipeline_flow.needs_rollback(ledger.get("deploy"), ledger.get("smoke")):
        ledger.add(skipped("rollback", "not needed: smoke passed"))
        return
    rolled = await shipyard.rollback_outcome(
        ci,
        no_credentials,
        account["cluster"],
        account["region"],
        outcome.out.file("deploy-report.json"),
        endpoint_url=endpoint,
        container=driver,
        poll_interval=1.0,
    )
    ledger.add(rolled.stage("rollback"))


async def pipeline(
    shipyard: Any,
    flow: Flow,
    target: ReleaseTarget | None,
    sources: Sources,
    secrets: Secrets,
    git_sha: str,
) -> RunReport:
    """Checks for every event; on the release branch then publish ∥ docs → deploy → smoke →
    rollback when smoke fails; always a notification when a webhook is given."""
    ledger = Ledger()
    environment = target.config.environment if target else ""
    ledger.add(*await checks(shipyard, sources))
    blocker = pipeline_flow.release_blocker(ledger.stages)
    if target is not None and blocker is None:
        await release(shipyard, ledger, flow, target, sources, secrets, git_sha)
    elif target is not None and blocker is not None:
        skipped_release(ledger, blocker, ("publish", "docs", *RELEASE_AFTER_PUBLISH))
    report = ledger.report("pipeline", flow, environment, git_sha)
    await notify(shipyard, ledger, report, sources.ci, secrets.webhook)
    return ledger.report("pipeline", flow, environment, git_sha)
