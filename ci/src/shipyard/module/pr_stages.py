"""The pull-request stages that inform and never block: coverage upload, cost diff, the comment.

Thin Dagger wrappers around the core's tools (``python -m shipyard.tools.coverage``,
``shipyard.tools.cost``, ``shipyard.tools.pr_comment``), for the checks to call side by side.
None of them
raises: whatever goes wrong (no secret, a service down or slow, a step that cannot start) comes
back as one line, ``skipped: ...`` or ``warning: ...``, and :func:`informational` turns that
into a stage that passed or was skipped, never one that failed.

Secrets reach the step containers only as secret variables, whose values the engine scrubs
from the output it returns.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import anyio
import dagger
from dagger import dag

from shipyard.decide.images import ImageCatalog
from shipyard.decide.pipeline_flow import StageResult, Verdict
from shipyard.decide.pr_report import PrReport, coverage_figure, is_skipped, render_comment
from shipyard.module import steps, toolchains
from shipyard.tools.coverage import DEFAULT_URL as CODECOV_URL
from shipyard.tools.pr_comment import DEFAULT_API_URL, FALLBACK

CODECOV_VENV: Final = "/opt/codecov"
INFRACOST_BINARY: Final = "/usr/local/bin/infracost"
UNCHANGED: Final = "the checks' verdict is unchanged"
# What the module's TerraformSource ignores when it uploads the head's terraform/.
TERRAFORM_EXCLUDES: Final = ("**/.terraform", "**/*.tfstate*", "**/.terraform.lock.hcl")


@dataclass(frozen=True)
class Informational:
    """An informational stage's one line, and any Markdown it made for the comment."""

    line: str
    markdown: str = ""
    posted: bool = False  # the comment only: whether GitHub took it

    def stage(self, name: str, seconds: float = 0.0) -> StageResult:
        verdict = Verdict.SKIPPED if is_skipped(self.line) else Verdict.PASSED
        details = {"markdown": self.markdown} if self.markdown else {}
        return StageResult(name, verdict, self.line, seconds, details)


InformationalAction = Callable[[], Awaitable[Informational]]


async def informational(name: str, action: InformationalAction) -> StageResult:
    """Run one informational stage, timed; its verdict is passed or skipped, never failed."""
    started = time.monotonic()
    try:
        outcome = await action()
    except Exception as error:  # the contract: an informational stage never fails the checks
        outcome = Informational(f"warning: {name} could not run ({error}); {UNCHANGED}")
    return outcome.stage(name, time.monotonic() - started)


async def run_informational(actions: Mapping[str, InformationalAction]) -> list[StageResult]:
    """Informational stages side by side, each with its own verdict."""
    results: dict[str, StageResult] = {}

    async def one(name: str, action: InformationalAction) -> None:
        results[name] = await informational(name, action)

    async with anyio.create_task_group() as group:
        for name, action in actions.items():
            group.start_soon(one, name, action)
    return [results[name] for name in actions]


def _could_not_run(what: str, error: dagger.DaggerError) -> Informational:
    reason = steps.tail(str(error), 1) or type(error).__name__
    return Informational(f"warning: {what} could not run ({reason[:200]}); {UNCHANGED}")


@dataclass(frozen=True)
class CoverageTarget:
    """Where the coverage goes and what Codecov is told about it."""

    commit: str
    slug: str = ""
    branch: str = ""
    pull_request: str = ""
    build_url: str = ""
    url: str = CODECOV_URL
    timeout_s: float = 120.0


def codecov_runner(
    images: ImageCatalog, ci: dagger.Directory, codecov_lock: dagger.File
) -> dagger.Container:
    """The core with codecov-cli in its own venv from the hash-pinned scripts/tools/codecov.lock
    (its pins must not meet the core's)."""
    install = f"uv venv --quiet {CODECOV_VENV} && VIRTUAL_ENV={CODECOV_VENV} "
    install += "uv pip install --quiet --require-hashes -r /deps/codecov.lock"
    return (
        toolchains.ci_runner(images, ci)
        .with_file("/deps/codecov.lock", codecov_lock)
        .with_exec(["sh", "-c", install])
    )


async def coverage_upload(
    images: ImageCatalog,
    ci: dagger.Directory,
    codecov_lock: dagger.File,
    coverage_xml: dagger.File,
    token: dagger.Secret | None,
    target: CoverageTarget,
) -> Informational:
    """Upload the test stage's coverage.xml with codecov-cli; one line whatever happens."""
    if token is None:
        return Informational("skipped: no CODECOV_TOKEN")
    args = [
        "python3",
        "-m",
        "shipyard.tools.coverage",
        "/work/coverage.xml",
        "--commit",
        target.commit,
    ]
    args += ["--url", target.url, "--timeout", str(target.timeout_s)]
    args += ["--codecovcli", f"{CODECOV_VENV}/bin/codecovcli"]
    optional = {
        "--slug": target.slug,
        "--branch": target.branch,
        "--pr": target.pull_request,
        "--build-url": target.build_url,
    }
    args += [arg for option, value in optional.items() if value for arg in (option, value)]
    try:
        runner = (
            steps.fresh(codecov_runner(images, ci, codecov_lock))
            .with_file("/work/coverage.xml", coverage_xml)
            .with_secret_variable("CODECOV_TOKEN", token)
        )
        run = await steps.run(runner, args, "coverage-upload")
    except dagger.DaggerError as error:
        return _could_not_run("coverage upload", error)
    return Informational(_last_line(run, "coverage upload"))


def _last_line(run: steps.StepRun, what: str) -> str:
    lines = run.stdout.strip().splitlines()
    if run.passed and lines:
        return lines[-1]
    reason = steps.tail(run.stderr or run.stdout, 1)[:200] or "no output"
    return f"warning: {what} exited {run.exit_code} ({reason}); {UNCHANGED}"


def base_terraform(repository: str, base_sha: str, token: dagger.Secret | None) -> dagger.Directory:
    """terraform/ as the pull request's base commit has it, fetched from GitHub by the engine
    (the checkout holds the head only), without what the head's upload leaves out either, so
    that an untouched terraform/ compares equal."""
    tree = (
        dag.git(f"https://github.com/{repository}", http_auth_token=token)
        .commit(base_sha)
        .tree()
        .directory("terraform")
    )
    return comparable(tree)


def comparable(terraform: dagger.Directory) -> dagger.Directory:
    """terraform/ without local state, lock or provider cache, as the head is uploaded."""
    return dag.directory().with_directory(".", terraform, exclude=list(TERRAFORM_EXCLUDES))


def infracost_runner(images: ImageCatalog, ci: dagger.Directory) -> dagger.Container:
    """The core with the infracost binary of the pinned official image (a static Go binary)."""
    # Wherever the image keeps it (a path of its own, not one the copy could collide with).
    copy = 'cp "$(command -v infracost)" /shipyard-infracost'
    binary = (
        dag.container()
        .from_(images.reference("INFRACOST"))
        .with_exec(["sh", "-c", copy])
        .file("/shipyard-infracost")
    )
    return toolchains.ci_runner(images, ci).with_file(INFRACOST_BINARY, binary)


async def terraform_changed(base: dagger.Directory, head: dagger.Directory) -> bool:
    """Whether the pull request touches terraform/ at all."""
    changes = head.changes(base)
    paths = [
        *await changes.added_paths(),
        *await changes.modified_paths(),
        *await changes.removed_paths(),
    ]
    return bool(paths)


async def cost_diff(
    images: ImageCatalog,
    ci: dagger.Directory,
    base: dagger.Directory,
    head: dagger.Directory,
    api_key: dagger.Secret | None,
) -> Informational:
    """infracost breakdown on the base's terraform/, diff --compare-to on the head's; one line
    and the comment's cost section."""
    if api_key is None:
        return Informational("skipped: no INFRACOST_API_KEY")
    try:
        if not await terraform_changed(base, head):
            return Informational("skipped: the pull request does not change terraform/")
        runner = (
            steps.fresh(infracost_runner(images, ci))
            .with_directory("/src/base/terraform", base)
            .with_directory("/src/head/terraform", head)
            .with_secret_variable("INFRACOST_API_KEY", api_key)
        )
        args = ["python3", "-m", "shipyard.tools.cost", "--base", "/src/base/terraform"]
        args += ["--head", "/src/head/terraform", "--out-dir", "/out"]
        args += ["--infracost", INFRACOST_BINARY]
        run = await steps.run(runner, args, "cost")
        line = _last_line(run, "cost")
        markdown = ""
        if "cost.md" in await run.container.directory("/out").entries():
            markdown = await run.container.file("/out/cost.md").contents()
    except dagger.DaggerError as error:
        return _could_not_run("the cost estimate", error)
    return Informational(line, markdown or line)


async def pr_comment(
    images: ImageCatalog,
    ci: dagger.Directory,
    report: PrReport,
    token: dagger.Secret | None,
    repository: str,
    pull_request: int,
    api_url: str = DEFAULT_API_URL,
) -> Informational:
    """Post or update the pull request's one comment; its Markdown comes back for the step
    summary, where it goes when GitHub did not take it."""
    body = render_comment(report)
    if token is None:
        return Informational(f"skipped: no GITHUB_TOKEN; {FALLBACK}", body)
    args = ["python3", "-m", "shipyard.tools.pr_comment", "--report", "/work/pr-report.json"]
    args += ["--repository", repository, "--pull-request", str(pull_request)]
    args += ["--api-url", api_url, "--out", "/work/comment.md"]
    try:
        runner = (
            steps.fresh(toolchains.ci_runner(images, ci))
            .with_new_file("/work/pr-report.json", report.to_json())
            .with_secret_variable("GITHUB_TOKEN", token)
        )
        run = await steps.run(runner, args, "pr-comment")
    except dagger.DaggerError as error:
        return Informational(_could_not_run("the comment", error).line, body)
    line = _last_line(run, "the comment")
    return Informational(line, body, posted=line.startswith(("posted ", "updated ")))


@dataclass(frozen=True)
class PullRequestInputs:
    """What the informational stages need from the event, and their secrets (each optional)."""

    git_sha: str
    repository: str = ""  # owner/name
    number: int = 0  # 0: not a pull request (a push), so no cost diff and no comment
    base_sha: str = ""
    branch: str = ""
    run_url: str = ""
    codecov_url: str = CODECOV_URL
    github_api_url: str = DEFAULT_API_URL
    codecov_token: dagger.Secret | None = None
    infracost_api_key: dagger.Secret | None = None
    github_token: dagger.Secret | None = None


async def pull_request_stages(
    images: ImageCatalog,
    ci: dagger.Directory,
    inputs: PullRequestInputs,
    codecov_lock: dagger.File,
    coverage_xml: dagger.File,
    head_terraform: dagger.Directory,
    base: dagger.Directory | None = None,
) -> list[StageResult]:
    """coverage-upload ∥ cost, to run beside the checks; never a failed verdict. The base's
    terraform/ is fetched from GitHub unless given."""
    target = CoverageTarget(
        inputs.git_sha,
        slug=inputs.repository,
        branch=inputs.branch,
        pull_request=str(inputs.number or ""),
        build_url=inputs.run_url,
        url=inputs.codecov_url,
    )

    async def upload() -> Informational:
        return await coverage_upload(
            images, ci, codecov_lock, coverage_xml, inputs.codecov_token, target
        )

    async def cost() -> Informational:
        if not (inputs.number and inputs.repository and inputs.base_sha):
            return Informational("skipped: no pull request number and base commit to compare with")
        before = base or base_terraform(inputs.repository, inputs.base_sha, inputs.github_token)
        return await cost_diff(images, ci, before, head_terraform, inputs.infracost_api_key)

    return await run_informational({"coverage-upload": upload, "cost": cost})


def comment_report(stages: Sequence[StageResult], inputs: PullRequestInputs) -> PrReport:
    """The comment's content from the stages decided so far (the cost stage brings its section)."""
    cost = next((s for s in stages if s.stage == "cost"), None)
    return PrReport(
        stages=tuple((s.stage, str(s.verdict), s.summary) for s in stages),
        git_sha=inputs.git_sha,
        run_url=inputs.run_url,
        coverage=coverage_figure(s.summary for s in stages),
        cost=(cost.details.get("markdown") or cost.summary) if cost else None,
    )


async def comment_stage(
    images: ImageCatalog,
    ci: dagger.Directory,
    stages: Sequence[StageResult],
    inputs: PullRequestInputs,
) -> tuple[StageResult, Informational]:
    """The pr-comment stage after the checks, and its outcome (whose Markdown goes to the step
    summary when it was not posted: see pr_report.degraded_summary)."""
    if not inputs.number:
        outcome = Informational("skipped: not a pull request")
        return outcome.stage("pr-comment"), outcome
    report = comment_report(stages, inputs)
    held: list[Informational] = []

    async def post() -> Informational:
        held.append(
            await pr_comment(
                images, ci, report, inputs.github_token, inputs.repository, inputs.number,
                inputs.github_api_url,
            )
        )  # fmt: skip
        return held[0]

    stage = await informational("pr-comment", post)
    return stage, held[0] if held else Informational(stage.summary, render_comment(report))
