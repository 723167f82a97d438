"""The one release sequence: checks → publish (or promote) ∥ docs → docs commit-back → deploy →
smoke → rollback when smoke fails → notify. The workflow's jobs and the rehearsal both run it;
only the `Target` differs.

The decisions (which flow, what blocks, when to roll back or commit) are the pure functions of
:mod:`shipyard.decide.pipeline_flow`; this module runs them against the engine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import anyio
import dagger
from dagger import dag

from shipyard.decide import pipeline_flow, progress
from shipyard.decide.pipeline_flow import (
    RELEASE_AFTER_PUBLISH,
    Flow,
    Ledger,
    StageOutcome,
    StageResult,
    run_stage,
    skipped,
)
from shipyard.decide.pr_report import degraded_summary
from shipyard.decide.summary import RunReport, render_json, render_markdown
from shipyard.module import steps
from shipyard.module.pr_stages import Informational, PullRequestInputs
from shipyard.module.stages import Stages, Target

Action = Callable[[], Awaitable[StageOutcome]]


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
    tool_locks: dagger.Directory | None = None  # scripts/tools: the coverage uploader's lock


@dataclass(frozen=True)
class Secrets:
    webhook: dagger.Secret | None
    github_token: dagger.Secret | None


@dataclass(frozen=True)
class Release:
    """A release run's target, and the digest it promotes instead of publishing (production)."""

    target: Target
    promote_from: str = ""


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


def report_directory(report: RunReport, comment: Informational | None = None) -> dagger.Directory:
    """summary.md and report.json; a pull-request comment GitHub did not take (a fork's read-only
    token) goes into the summary instead."""
    summary = render_markdown(report)
    if comment is not None:
        summary = degraded_summary(summary, comment.markdown, comment.posted)
    return (
        dag.directory()
        .with_new_file("summary.md", summary)
        .with_new_file("report.json", render_json(report))
    )


async def checks(
    stages: Stages, flow: Flow, sources: Sources, inputs: PullRequestInputs | None
) -> list[StageResult]:
    """test ∥ lint ∥ scan, and on pull requests docs-check ∥ coverage-upload ∥ cost (those two
    inform and never block). A release regenerates the docs and commits them back instead of
    checking them, so drift on the release branch is fixed, not a blocker."""

    async def test() -> StageOutcome:
        return await stages.test(sources.app_project), {}

    async def lint() -> StageOutcome:
        await stages.lint(sources.project)
        return "ruff check, ruff format --check and mypy clean", {}

    async def scan() -> StageOutcome:
        return pipeline_flow.first_lines(await stages.scan(sources.terraform, sources.ci), 4), {}

    async def docs_check() -> StageOutcome:
        return pipeline_flow.first_lines(await stages.docs_check(sources.docs, sources.ci), 1), {}

    actions: dict[str, Action] = {"test": test, "lint": lint, "scan": scan}
    if flow is not Flow.CHECKS:
        return await run_parallel(actions)
    actions["docs-check"] = docs_check
    results: dict[str, list[StageResult]] = {}

    async def gating() -> None:
        results["gating"] = await run_parallel(actions)

    async def informing() -> None:
        results["informing"] = (
            await stages.informational_checks(sources, inputs) if inputs is not None else []
        )

    async with anyio.create_task_group() as group:
        group.start_soon(gating)
        group.start_soon(informing)
    return [*results["gating"], *results["informing"]]


async def publish_and_docs(
    stages: Stages, ledger: Ledger, release: Release, sources: Sources, secrets: Secrets, sha: str
) -> str | None:
    """publish (or promote) ∥ docs, then the docs commit-back; the image address, if any."""
    image: dict[str, str] = {}
    changes: dict[str, dagger.Changeset] = {}
    target = release.target

    async def publish() -> StageOutcome:
        if release.promote_from:
            image["address"] = await stages.promoted_image(
                sources.ci, release.promote_from, target, sha
            )
            return f"promoted {image['address']} (the digest staging tested)", dict(image)
        image["address"] = await stages.published_image(sources.app, sources.ci, target, sha)
        return f"pushed {image['address']}", dict(image)

    async def docs() -> StageOutcome:
        changes["docs"] = await stages.docs(sources.docs, sources.ci)
        changed = [*await changes["docs"].added_paths(), *await changes["docs"].modified_paths()]
        return (f"{len(changed)} README(s) regenerated" if changed else "in sync"), {
            "changed": changed
        }

    actions: dict[str, Action] = {"publish": publish}
    if not release.promote_from:
        actions["docs"] = docs
    ledger.add(*await run_parallel(actions))
    if ledger.passed("docs"):
        changed = list(ledger.get("docs").details["changed"])
        if pipeline_flow.should_commit_docs(
            Flow.RELEASE, changed, secrets.github_token is not None
        ):
            ledger.add(
                await run_stage(
                    "docs-commit",
                    lambda: stages.commit_docs(
                        sources.repo, changes["docs"], changed, secrets.github_token, target
                    ),
                    explain,
                )
            )
        else:
            reason = "nothing changed" if changed == [] else "no --github-token to push with"
            ledger.add(skipped("docs-commit", reason))
    return image.get("address")


async def deploy_smoke_rollback(
    stages: Stages, ledger: Ledger, target: Target, ci: dagger.Directory, image: str
) -> None:
    """deploy → smoke → rollback when smoke fails (a failed deploy rolls itself back)."""
    progress.announce("deploy")
    outcome = await stages.deploy_outcome(ci, target, image)
    ledger.add(outcome.stage("deploy"))
    if not outcome.run.passed:
        ledger.add(skipped("smoke", "not smoked: deploy failed"))
        ledger.add(skipped("rollback", "rolled back by the deploy engine, see the deploy stage"))
        return
    ledger.add(await run_stage("smoke", lambda: stages.smoke_stage(ci, target), explain))
    if not pipeline_flow.needs_rollback(ledger.get("deploy"), ledger.get("smoke")):
        ledger.add(skipped("rollback", "not needed: smoke passed"))
        return
    report = outcome.out.file("deploy-report.json")
    progress.announce("rollback")
    ledger.add((await stages.rollback_outcome(ci, target, report)).stage("rollback"))


async def notify(
    stages: Stages,
    ledger: Ledger,
    flow: Flow,
    environment: str,
    git_sha: str,
    ci: dagger.Directory,
    webhook: dagger.Secret | None,
    runner: dagger.Container | None,
) -> None:
    """Tell the team: every failure, and every release (a deploy is news even when green)."""
    if webhook is None:
        ledger.add(skipped("notify", "no webhook given"))
        return
    message = pipeline_flow.notify_message(flow, ledger.stages, environment, git_sha)

    async def send() -> StageOutcome:
        return await stages.notify_outcome(ci, webhook, message, runner), {}

    ledger.add(await run_stage("notify", send, explain))


async def pipeline(
    stages: Stages,
    flow: Flow,
    release: Release | None,
    sources: Sources,
    secrets: Secrets,
    git_sha: str,
    inputs: PullRequestInputs | None = None,
) -> tuple[RunReport, Informational | None]:
    """Checks for every event; on a pull request then its one comment; on the release branch
    the release; always a notification when a webhook is given. A promotion skips the checks
    its digest already passed. Returns the report and the pull request's comment, if any."""
    environment = release.target.config.environment if release else ""
    with progress.scope(environment):
        return await _pipeline(stages, flow, release, sources, secrets, git_sha, inputs)


async def _pipeline(
    stages: Stages,
    flow: Flow,
    release: Release | None,
    sources: Sources,
    secrets: Secrets,
    git_sha: str,
    inputs: PullRequestInputs | None,
) -> tuple[RunReport, Informational | None]:
    ledger = Ledger()
    environment = release.target.config.environment if release else ""
    comment = None
    if release is not None and release.promote_from:
        ledger.skip(pipeline_flow.PROMOTION_SKIPS_CHECKS, ("test", "lint", "scan"))
    else:
        ledger.add(*await checks(stages, flow, sources, inputs))
    if inputs is not None and inputs.number:
        stage, comment = await stages.pr_comment(sources.ci, ledger.stages, inputs)
        ledger.add(stage)
    blocker = pipeline_flow.release_blocker(ledger.stages)
    if release is not None and blocker is not None:
        ledger.skip(blocker, ("publish", "docs", "docs-commit", *RELEASE_AFTER_PUBLISH))
    elif release is not None:
        image = await publish_and_docs(stages, ledger, release, sources, secrets, git_sha)
        if image is None:
            ledger.skip("not deployed: publish failed", RELEASE_AFTER_PUBLISH)
        else:
            ledger.notes["image"] = image
            await deploy_smoke_rollback(stages, ledger, release.target, sources.ci, image)
    runner = release.target.runner if release else None
    await notify(stages, ledger, flow, environment, git_sha, sources.ci, secrets.webhook, runner)
    report = RunReport(
        "pipeline", str(flow), environment, git_sha, list(ledger.stages), ledger.notes
    )
    return report, comment
