"""shipyard: test, build, scan, document, deploy and smoke the gridded-data platform.

Every stage is a function (`dagger call <stage>`); `pipeline` composes them for one CI event and
`rehearse` plays a whole release against an emulated AWS account with the real app running.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Annotated, Final, TypeVar, cast

import dagger
from dagger import DefaultPath, Doc, Ignore, check, dag, function, generate, object_type, up

from shipyard.decide import pipeline_flow, topology
from shipyard.decide.images import ImageCatalog
from shipyard.decide.pipeline_flow import NotifyMessage, StageOutcome
from shipyard.module import pr_stages, rehearsal, release, steps, test_shards, toolchains
from shipyard.module.release import Sources
from shipyard.module.stages import DeployOutcome, Target
from shipyard.tools import registry

_CACHES: Final = [
    "**/__pycache__",
    "**/.venv",
    "**/.pytest_cache",
    "**/.mypy_cache",
    "**/.ruff_cache",
    "**/*.egg-info",
    "**/.coverage*",
    "**/coverage.xml",
]

# One step for the three tools: each step costs a container start and a snapshot (seconds on a
# busy 2-core runner), and every tool reports even when an earlier one found something.
_LINT: Final = [
    "sh",
    "-c",
    "status=0; "
    "ruff check app ci bench kit/shipyard_kit || status=1; "
    "ruff format --check app ci bench kit/shipyard_kit || status=1; "
    "mypy || status=1; "
    "exit $status",
]

# What a stage called on its own says when its verdict is against (see steps.judged).
SCAN: Final = steps.Judgement(
    "scan",
    "blocked by checkov findings at or above the policy's threshold",
    "fix each finding below in terraform/, or waive it in ci/policies/waivers.yml "
    "(check, resource, reason, expiry)",
)
DOCS_CHECK: Final = steps.Judgement(
    "docs-check",
    "drifted",
    "run `dagger call docs export --path .` and commit the READMEs it rewrites",
)
DEPLOY: Final = steps.Judgement(
    "deploy",
    "failed",
    "the dossier below gives each service's verdict and rollback; fix the cause, deploy again",
    report_on="stderr",
)
ROLLBACK: Final = steps.Judgement(
    "rollback",
    "did not bring every service back",
    "read the services below, then run rollback again (--from-report the deploy's report)",
    report_on="stderr",
)
SMOKE: Final = steps.Judgement(
    "smoke",
    "failed",
    "the checks marked ❌ below failed against the service; fix it or `dagger call rollback`",
)
NOTIFY: Final = steps.Judgement(
    "notify",
    "not delivered",
    "check that the webhook still exists and that the secret holds its URL",
)
PLAN: Final = steps.Judgement("plan", "failed", "read the deploy engine's message")

AppSource = Annotated[
    dagger.Directory,
    Doc("The service's folder app/: Dockerfile, package and tests"),
    DefaultPath("/app"),
    Ignore([*_CACHES, "tests"]),
]
AppProject = Annotated[
    dagger.Directory,
    Doc("The repository root, narrowed to app/, pyproject.toml and requirements-dev.lock"),
    DefaultPath("/"),
    Ignore(["*", "!app/", "!pyproject.toml", "!requirements-dev.lock", *_CACHES]),
]
PythonProject = Annotated[
    dagger.Directory,
    Doc(
        "The repository root, narrowed to the Python code (app/, ci/, bench/, the kit's package) "
        "and its config"
    ),
    DefaultPath("/"),
    Ignore(
        [
            "*",
            *("!app/", "!ci/", "!bench/", "!kit/shipyard_kit/"),
            *("!pyproject.toml", "!requirements-dev.lock", *_CACHES),
        ]
    ),
]
TerraformSource = Annotated[
    dagger.Directory,
    Doc("The infrastructure code, terraform/"),
    DefaultPath("/terraform"),
    Ignore(["**/.terraform", "**/*.tfstate*", "**/.terraform.lock.hcl"]),
]
DocsSource = Annotated[
    dagger.Directory,
    Doc("The repository root, narrowed to terraform/ (every module's README included)"),
    DefaultPath("/"),
    Ignore(["*", "!terraform/", "**/.terraform", "**/*.tfstate*", "**/.terraform.lock.hcl"]),
]
CiSource = Annotated[
    dagger.Directory,
    Doc("The pipeline's own Python core, ci/ (installed into the step containers)"),
    DefaultPath("/ci"),
    Ignore(["tests", *_CACHES]),
]
Shards = Annotated[
    int,
    Doc(
        "How many containers the test suite is split across, side by side; 0: one per CPU core "
        "of the engine"
    ),
]
ToolLocks = Annotated[
    dagger.Directory,
    Doc("The hash-pinned locks of the pipeline's own tools, scripts/tools/*.lock"),
    DefaultPath("/scripts/tools"),
    Ignore(["*", "!*.lock"]),
]
RepoSource = Annotated[
    dagger.Directory,
    Doc("The git checkout (with .git) the regenerated docs are committed to"),
    DefaultPath("/"),
    Ignore([".tools", ".venv", *_CACHES]),
]

AwsKeyId = Annotated[
    dagger.Secret | None, Doc("AWS access key id (e.g. env:AWS_ACCESS_KEY_ID from OIDC)")
]
AwsSecretKey = Annotated[
    dagger.Secret | None, Doc("AWS secret access key (e.g. env:AWS_SECRET_ACCESS_KEY)")
]
AwsSessionToken = Annotated[
    dagger.Secret | None,
    Doc("AWS session token of short-lived credentials (env:AWS_SESSION_TOKEN)"),
]
Region = Annotated[str, Doc("AWS region")]
Cluster = Annotated[str, Doc("ECS cluster name (terraform output cluster_name)")]
EndpointUrl = Annotated[str, Doc("AWS endpoint override, e.g. a rehearsal front; empty for AWS")]
Services = Annotated[
    list[str] | None,
    Doc(
        "ECS service names in deploy order (terraform output service_names); "
        "default tiles, timeseries"
    ),
]
Containers = Annotated[
    list[str] | None,
    Doc(
        "SERVICE=CONTAINER: the container whose image is replaced in that service's task "
        "definition (terraform output container_names); repeatable. A service not named uses "
        "its task definition's only container"
    ),
]

# run-pipeline's arguments: what the workflow passes from GitHub's context and its secrets.
Event = Annotated[str, Doc("What triggered the run: pull_request, push or workflow_dispatch")]
Ref = Annotated[str, Doc("The full git ref, e.g. refs/heads/main")]
CommitUnderTest = Annotated[str, Doc("The commit under test; tags the released image")]
Environment = Annotated[str, Doc("Where a release goes: staging or production")]
PipelineConfig = Annotated[
    str,
    Doc("The environment's `terraform output -json pipeline` (cluster, services, containers, URL)"),
]
PromoteFrom = Annotated[
    str,
    Doc(
        "Promote this image (repo@sha256:..., what staging's run published) into this "
        "environment's repository by digest, instead of building and pushing"
    ),
]
Webhook = Annotated[dagger.Secret | None, Doc("Chat webhook URL for the outcome")]
GithubToken = Annotated[
    dagger.Secret | None,
    Doc("GitHub token: pushes the regenerated docs on a release, posts the report comment on a PR"),
]
CodecovToken = Annotated[
    dagger.Secret | None, Doc("Codecov upload token (env:CODECOV_TOKEN); none skips the upload")
]
CodecovUrl = Annotated[str, Doc("Codecov's address; a self-hosted Codecov's enterprise URL")]
InfracostKey = Annotated[
    dagger.Secret | None,
    Doc("Infracost API key (env:INFRACOST_API_KEY); none skips the cost diff"),
]
GithubRepository = Annotated[str, Doc("owner/name on GitHub (github.repository)")]
PullRequest = Annotated[
    int, Doc("The pull request's number (github.event.pull_request.number); 0: none")
]
BaseSha = Annotated[str, Doc("The pull request's base commit, the cost diff's before")]
Branch = Annotated[str, Doc("The branch under test, for Codecov (github.head_ref)")]
RunUrl = Annotated[str, Doc("This CI run's address, linked from the comment")]
GithubApiUrl = Annotated[str, Doc("GitHub's REST API (github.api_url)")]

F = TypeVar("F", bound=Callable[..., object])
# Functions with side effects (pushes, deploys, messages) must run on every call: Dagger caches
# function results by default, and a cached deploy silently does nothing.
never_cached = cast(Callable[[F], F], function(cache="never"))  # type: ignore[call-overload]
# A path, not a password: where the sign-in step writes it, inside a throwaway container.
ECR_PASSWORD_FILE: Final = "/tmp/ecr-password"  # noqa: S105, S108


@object_type
class Shipyard:
    """The delivery pipeline of the gridded-data platform, one function per stage."""

    image_overrides: Annotated[
        str,
        Doc('Image overrides as SHIPYARD_IMAGE_<NAME>=<ref> lines, e.g. "$(cat kit/images.env)"'),
    ] = ""
    aws_access_key_id: AwsKeyId = None
    aws_secret_access_key: AwsSecretKey = None
    aws_session_token: AwsSessionToken = None
    aws_endpoint_url: EndpointUrl = ""

    def _images(self) -> ImageCatalog:
        return ImageCatalog.from_settings(self.image_overrides)

    def _aws(self) -> steps.AwsCredentials:
        return steps.AwsCredentials(
            self.aws_access_key_id, self.aws_secret_access_key, self.aws_session_token
        )

    def _target(self, config: pipeline_flow.DeployTargetConfig) -> Target:
        """Where this object's credentials and endpoint reach, for the environment configured."""
        return Target(config, self._aws(), endpoint_url=self.aws_endpoint_url)

    def _adhoc(
        self, cluster: str, region: str, services: Sequence[str], containers: Sequence[str]
    ) -> Target:
        return Target.adhoc(
            self._aws(), cluster, region, services, containers, self.aws_endpoint_url
        )

    @function
    @check
    async def test(self, source: AppProject, shards: Shards = 0) -> str:
        """Run the service's tests with coverage in parallel shards; returns the merged totals."""
        return await test_shards.summary(self._images(), source, shards)

    @function
    async def coverage(self, source: AppProject, shards: Shards = 0) -> dagger.File:
        """The service's coverage report (Cobertura XML), combined from the test run's shards."""
        return await test_shards.coverage_xml(self._images(), source, shards)

    @function
    async def test_durations(self, source: AppProject, shards: Shards = 0) -> dagger.File:
        """Each test file's seconds in a run: the shards' app/tests/durations.json."""
        return await test_shards.durations(self._images(), source, shards)

    @function
    @check
    async def lint(self, source: PythonProject) -> str:
        """Check style and types of all Python code: ruff check, ruff format --check, mypy."""
        return await toolchains.lint_environment(self._images(), source).with_exec(_LINT).stdout()

    @function
    def build(self, source: AppSource) -> dagger.Container:
        """Build the service image (linux/amd64) from app/Dockerfile on the pinned base image."""
        return toolchains.app_image(self._images(), source)

    @function
    @up
    def serve(self, source: AppSource) -> dagger.Service:
        """Run the service on its embedded dataset (dagger call serve up --ports 8080:8080)."""
        return toolchains.app_service(toolchains.app_image(self._images(), source))

    @never_cached
    async def publish(
        self,
        source: AppSource,
        repository: Annotated[
            str, Doc("Repository address without tag (terraform output ecr_repository_url)")
        ],
        git_sha: Annotated[str, Doc("The commit being released; becomes the image tag")],
        ci: CiSource,
    ) -> str:
        """Push the image tagged with the git SHA and latest; returns repo@sha256:digest."""
        config = pipeline_flow.DeployTargetConfig("", "", "", repository, "", (), {})
        return await self.published_image(source, ci, self._target(config), git_sha)

    @function
    @generate
    async def docs(self, source: DocsSource, ci: CiSource) -> dagger.Changeset:
        """Regenerate every terraform README; `docs export --path .` writes them back."""
        run = await steps.run(
            toolchains.docs_runner(self._images(), ci)
            .with_directory("/src", source)
            .with_workdir("/src"),
            ["python3", "-m", "shipyard.tools.gates", "docs", "terraform"],
            "docs",
        )
        if run.exit_code not in (steps.PASSED, steps.VERDICT_AGAINST):
            raise run.failure()
        return run.container.directory("/src").changes(source)

    @function
    @check
    async def docs_check(self, source: DocsSource, ci: CiSource) -> str:
        """Fail when a terraform README differs from what terraform-docs generates now."""
        run = await steps.judged(
            toolchains.docs_runner(self._images(), ci)
            .with_directory("/src", source)
            .with_workdir("/src"),
            ["python3", "-m", "shipyard.tools.gates", "docs-check", "terraform"],
            DOCS_CHECK,
        )
        return run.stdout

    @function
    @check
    async def scan(self, source: TerraformSource, ci: CiSource) -> str:
        """Gate the infrastructure on checkov findings, with the repository's severity policy."""
        gate = ["scan", "terraform", "--policy-dir", "/opt/shipyard/policies"]
        run = await steps.judged(
            toolchains.scan_runner(self._images(), ci)
            .with_directory("/src/terraform", source)
            .with_workdir("/src"),
            ["python3", "-m", "shipyard.tools.gates", *gate],
            SCAN,
        )
        return run.stdout

    @function
    async def plan(
        self,
        ci: CiSource,
        cluster: Cluster,
        image: Annotated[str, Doc("Image to deploy, repo@sha256:digest (what publish returns)")],
        region: Region = topology.REGION,
        service: Services = None,
        container: Containers = None,
    ) -> str:
        """Show each service's next task definition as a diff; changes nothing."""
        target = self._adhoc(cluster, region, service or (), container or ())
        args = ["plan", "--cluster", cluster, "--image", image, "--region", region]
        run = await self._deploy_step(ci, target, [*args, *target.scope()], judgement=PLAN)
        return run.stdout

    @never_cached
    async def deploy(
        self,
        ci: CiSource,
        cluster: Cluster,
        image: Annotated[str, Doc("Image to deploy, repo@sha256:digest (what publish returns)")],
        region: Region = topology.REGION,
        timeout: Annotated[float, Doc("Seconds each service's rollout may take")] = 900.0,
        service: Services = None,
        container: Containers = None,
    ) -> str:
        """Roll the image out service by service; a failure rolls every service back."""
        target = self._adhoc(cluster, region, service or (), container or ())
        outcome = await self.deploy_outcome(ci, target.with_timeout(timeout), image, DEPLOY)
        return outcome.markdown

    @never_cached
    async def rollback(
        self,
        ci: CiSource,
        cluster: Cluster,
        region: Region = topology.REGION,
        from_report: Annotated[
            dagger.File | None,
            Doc(
                "A deploy-report.json whose restore points to return to (default: the restore "
                "points an interrupted run left in the services' AWS tags, else each service's "
                "previous revision)"
            ),
        ] = None,
        service: Annotated[
            list[str] | None,
            Doc("ECS service names (default: the report's, else tiles, timeseries)"),
        ] = None,
    ) -> str:
        """Return every service to the task definitions recorded before a deploy."""
        target = self._adhoc(cluster, region, service or (), ())
        outcome = await self.rollback_outcome(ci, target, from_report, ROLLBACK)
        return outcome.markdown

    async def _deploy_step(
        self,
        ci: dagger.Directory,
        target: Target,
        args: list[str],
        runner: dagger.Container | None = None,
        judgement: steps.Judgement | None = None,
    ) -> steps.StepRun:
        runner = target.aws.apply(
            runner or target.runner or toolchains.ci_runner(self._images(), ci)
        )
        endpoint = ["--endpoint-url", target.endpoint_url] if target.endpoint_url else []
        deploy_engine = ["python3", "-m", "shipyard.tools.deploy"]
        command = [*deploy_engine, *args, *endpoint, "--report-dir", "/out"]
        if judgement is not None:
            return await steps.judged(steps.fresh(runner), command, judgement)
        return await steps.run(steps.fresh(runner), command, args[0])

    async def deploy_outcome(
        self,
        ci: dagger.Directory,
        target: Target,
        image: str,
        judgement: steps.Judgement | None = None,
    ) -> DeployOutcome:
        """Run the deploy engine and keep its report, whatever the verdict (for the flows);
        with a judgement, a failed verdict raises instead (for `deploy` called alone)."""
        config = target.config
        args = ["deploy", "--cluster", config.cluster, "--image", image, "--region", config.region]
        args += [*target.scope(), "--timeout", str(target.rollout_timeout)]
        args += ["--poll-interval", str(target.poll_interval)]
        started = time.monotonic()
        run = await self._deploy_step(ci, target, args, judgement=judgement)
        return await DeployOutcome.read(run, "deploy", time.monotonic() - started)

    async def rollback_outcome(
        self,
        ci: dagger.Directory,
        target: Target,
        from_report: dagger.File | None,
        judgement: steps.Judgement | None = None,
    ) -> DeployOutcome:
        """Return the services to a deploy report's restore points (no container names needed)."""
        config = target.config
        runner = target.runner or toolchains.ci_runner(self._images(), ci)
        args = ["rollback", "--cluster", config.cluster, "--region", config.region]
        args += [a for s in config.services for a in ("--service", s)]
        args += ["--poll-interval", str(target.poll_interval)]
        if from_report is not None:
            runner = runner.with_file("/in/deploy-report.json", from_report)
            args += ["--from-report", "/in/deploy-report.json"]
        started = time.monotonic()
        run = await self._deploy_step(ci, target, args, runner, judgement)
        return await DeployOutcome.read(run, "rollback", time.monotonic() - started)

    @never_cached
    async def smoke(
        self,
        ci: CiSource,
        url: Annotated[
            str, Doc("Base URL of a live deployment, e.g. https://staging.example.org")
        ] = "",
        service: Annotated[
            dagger.Service | None, Doc("A running service to smoke instead of a URL (port 8080)")
        ] = None,
        deadline: Annotated[float, Doc("Seconds for the whole run, retries included")] = 60.0,
    ) -> str:
        """Check a live deployment: health, a PNG tile, a timeseries and the metrics."""
        run = await self._smoke_run(ci, url, service, deadline, judgement=SMOKE)
        return run.stdout

    async def smoke_stage(self, ci: dagger.Directory, target: Target) -> StageOutcome:
        """The smoke suite as a pipeline stage: headline and failed checks, or StageFailed."""
        url, deadline = target.config.url, target.smoke_deadline
        run = await self._smoke_run(ci, url, None, deadline, target.runner)
        report = await steps.json_file(run.container, "/work/smoke.json")
        if run.exit_code == steps.VERDICT_AGAINST:
            raise steps.StageFailed(pipeline_flow.smoke_headline(run.stdout))
        run.output_or_raise()
        return pipeline_flow.smoke_headline(run.stdout), {"smoke": report or {}}

    async def _smoke_run(
        self,
        ci: dagger.Directory,
        url: str,
        service: dagger.Service | None,
        deadline: float,
        container: dagger.Container | None = None,
        judgement: steps.Judgement | None = None,
    ) -> steps.StepRun:
        if bool(url) == (service is not None):
            raise pipeline_flow.PipelineError(
                "smoke needs exactly one of --url (a live deployment) or --service (e.g. serve)"
            )
        runner = container or toolchains.ci_runner(self._images(), ci)
        if service is not None:
            runner = runner.with_service_binding("app", service)
            url = f"http://app:{toolchains.APP_PORT}"
        suite = ["python3", "-m", "shipyard.tools.smoke", url, "--deadline", str(deadline)]
        suite += ["--json-out", "/work/smoke.json"]
        if judgement is not None:
            return await steps.judged(steps.fresh(runner), suite, judgement)
        return await steps.run(steps.fresh(runner), suite, "smoke")

    @never_cached
    async def rehearse(
        self,
        app: AppSource,
        app_project: AppProject,
        project: PythonProject,
        terraform: TerraformSource,
        docs_source: DocsSource,
        ci: CiSource,
        repo: RepoSource,
        fault: Annotated[
            list[str] | None,
            Doc(
                "Break the release, as [ENVIRONMENT:][ROLE=]KIND: crash, unhealthy, pull-error, "
                "slow-rollout, smoke-failure (a service), or check-failure, publish-error, "
                "docs-drift, docs-push-rejected, webhook-down (the run); repeatable"
            ),
        ] = None,
        time_scale: Annotated[float, Doc("Simulated rollout seconds per real second")] = 20.0,
        registry: Annotated[
            str, Doc("A registry the engine reaches over plain HTTP (the kit runs one)")
        ] = "localhost:5000",
        registry_service: Annotated[
            dagger.Service | None,
            Doc(
                "That registry for the step containers, e.g. tcp://localhost:5000 "
                "(default: a tunnel to the client's host, which `dagger call` must pass)"
            ),
        ] = None,
    ) -> dagger.Directory:
        """Rehearse a push to main on an emulated AWS: staging, then production by digest."""
        faults = topology.parse_faults(fault or [])
        if not time_scale > 0:
            raise pipeline_flow.PipelineError("--time-scale must be positive, e.g. 20")
        sources = Sources(project, app_project, app, terraform, docs_source, ci, repo)
        git_sha = await self._head_commit(repo)
        report = await rehearsal.rehearse(
            self, self._images(), sources, faults, time_scale, git_sha, registry, registry_service
        )
        return release.report_directory(report)

    @never_cached
    async def run_pipeline(
        self,
        event: Event,
        ref: Ref,
        git_sha: CommitUnderTest,
        project: PythonProject,
        app_project: AppProject,
        app: AppSource,
        terraform: TerraformSource,
        docs_source: DocsSource,
        ci: CiSource,
        repo: RepoSource,
        tool_locks: ToolLocks,
        environment: Environment = "staging",
        pipeline_config: PipelineConfig = "",
        promote_from: PromoteFrom = "",
        webhook: Webhook = None,
        github_token: GithubToken = None,
        codecov_token: CodecovToken = None,
        codecov_url: CodecovUrl = "https://codecov.io",
        infracost_api_key: InfracostKey = None,
        repository: GithubRepository = "",
        pull_request: PullRequest = 0,
        base_sha: BaseSha = "",
        branch: Branch = "",
        run_url: RunUrl = "",
        github_api_url: GithubApiUrl = "https://api.github.com",
    ) -> dagger.Directory:
        """Run what the event calls for (checks; on main a release); returns the report files."""
        flow = pipeline_flow.flow_for_event(event, ref)
        registry.checked_git_sha(git_sha)
        plan = None
        if flow is pipeline_flow.Flow.RELEASE:
            config = pipeline_flow.parse_pipeline_outputs(pipeline_config, environment)
            if promote_from:
                registry.digest_address(promote_from.partition("@")[0], promote_from)
            plan = release.Release(self._target(config), promote_from)
        sources = Sources(project, app_project, app, terraform, docs_source, ci, repo, tool_locks)
        inputs = pr_stages.PullRequestInputs(
            git_sha=git_sha,
            repository=repository,
            number=pull_request if event == "pull_request" else 0,
            base_sha=base_sha,
            branch=branch,
            run_url=run_url,
            codecov_url=codecov_url,
            github_api_url=github_api_url,
            codecov_token=codecov_token,
            infracost_api_key=infracost_api_key,
            github_token=github_token,
        )
        report, comment = await release.pipeline(
            self, flow, plan, sources, release.Secrets(webhook, github_token), git_sha, inputs
        )
        return release.report_directory(report, comment)

    async def informational_checks(
        self, sources: Sources, inputs: pr_stages.PullRequestInputs
    ) -> list[pipeline_flow.StageResult]:
        """coverage-upload ∥ cost beside the checks: they inform and never block."""
        if sources.tool_locks is None:
            return []
        return await pr_stages.pull_request_stages(
            self._images(),
            sources.ci,
            inputs,
            sources.tool_locks.file("codecov.lock"),
            await test_shards.coverage_xml(self._images(), sources.app_project, shards=0),
            sources.terraform,
        )

    async def pr_comment(
        self,
        ci: dagger.Directory,
        stages: Sequence[pipeline_flow.StageResult],
        inputs: pr_stages.PullRequestInputs,
    ) -> tuple[pipeline_flow.StageResult, pr_stages.Informational]:
        """The pull request's one report comment, posted or updated in place."""
        return await pr_stages.comment_stage(self._images(), ci, stages, inputs)

    async def published_image(
        self, app: dagger.Directory, ci: dagger.Directory, target: Target, git_sha: str
    ) -> str:
        """Push to the target's repository (git-SHA and latest tags); returns repo@sha256:..."""
        sha = registry.checked_git_sha(git_sha)
        image = toolchains.app_image(self._images(), app, sha)
        repository = target.config.repository
        address = registry.routed(repository, target.engine_registries)
        if login := await self._registry_login(ci, target):
            image = image.with_registry_auth(registry.split_repository(address)[0], *login)
        published = await image.publish(f"{address}:{sha}")
        await image.publish(f"{address}:latest")
        return registry.digest_address(repository, published)

    async def promoted_image(
        self, ci: dagger.Directory, image: str, target: Target, git_sha: str
    ) -> str:
        """Copy an image byte for byte into the target's repository; its digest stays the same."""
        runner = target.runner or toolchains.ci_runner(self._images(), ci)
        if login := await self._registry_login(ci, target):
            username, password = login
            runner = runner.with_env_variable("SHIPYARD_REGISTRY_USERNAME", username)
            runner = runner.with_secret_variable("SHIPYARD_REGISTRY_PASSWORD", password)
        args = ["--source", image, "--destination", target.config.repository]
        args += ["--tag", registry.checked_git_sha(git_sha)]
        args += [
            a for host, url in target.registry_endpoints for a in ("--endpoint", f"{host}={url}")
        ]
        run = await steps.run(
            steps.fresh(runner), ["python3", "-m", "shipyard.tools.promote", *args], "promote"
        )
        # The tool refuses any digest but the source's; this reads the address it printed.
        copied = run.output_or_raise().strip().splitlines()[-1]
        return registry.digest_address(target.config.repository, copied)

    async def _registry_login(
        self, ci: dagger.Directory, target: Target
    ) -> tuple[str, dagger.Secret] | None:
        """ECR's user name and password for the target's registry; None for any other registry.

        Signed in from a step container, as every AWS call is: the target's endpoint (a
        rehearsal's emulator) is reached from there. One ECR token opens every registry the
        role may read: staging's too, when promoting.
        """
        host, _ = registry.split_repository(target.config.repository)
        region = registry.ecr_region(host)
        if region is None:
            return None
        if target.aws.access_key_id is None or target.aws.secret_access_key is None:
            raise registry.RegistryError(
                "pushing to or pulling from ECR needs AWS credentials; pass --aws-access-key-id "
                "env:AWS_ACCESS_KEY_ID --aws-secret-access-key env:AWS_SECRET_ACCESS_KEY "
                "(and --aws-session-token)"
            )
        args = ["python3", "-m", "shipyard.tools.registry", "ecr-login", "--region", region]
        args += ["--password-file", ECR_PASSWORD_FILE]
        args += ["--endpoint-url", target.endpoint_url] if target.endpoint_url else []
        runner = target.aws.apply(
            steps.fresh(target.runner or toolchains.ci_runner(self._images(), ci))
        )
        run = await steps.run(runner, args, "ECR sign-in")
        username = run.output_or_raise().strip().splitlines()[-1]
        password = await run.container.file(ECR_PASSWORD_FILE).contents()
        return username, dag.set_secret(f"ecr-password-{host}", password)

    async def _head_commit(self, repo: dagger.Directory) -> str:
        git = dag.container().from_(self._images().reference("GIT")).with_directory("/repo", repo)
        sha = await git.with_workdir("/repo").with_exec(["git", "rev-parse", "HEAD"]).stdout()
        return registry.checked_git_sha(sha.strip())

    async def commit_docs(
        self,
        repo: dagger.Directory,
        changes: dagger.Changeset,
        changed: list[str],
        token: dagger.Secret | None,
        target: Target,
    ) -> StageOutcome:
        """Commit the regenerated READMEs ([skip ci]) and push them to the checked-out branch."""
        if token is None:
            raise pipeline_flow.PipelineError("committing docs back needs --github-token")
        push = (
            'git -c http.extraheader="AUTHORIZATION: basic '
            '$(printf "x-access-token:%s" "$GITHUB_TOKEN" | base64 | tr -d "\\n")" '
            'push "$DOCS_REMOTE" HEAD:$(git rev-parse --abbrev-ref HEAD)'
        )
        git = steps.fresh(dag.container().from_(self._images().reference("GIT")))
        for host, service in target.bindings:
            git = git.with_service_binding(host, service)
        pushed = (
            git.with_directory("/repo", repo.with_changes(changes))
            .with_workdir("/repo")
            .with_exec(["git", "config", "user.name", "shipyard"])
            .with_exec(["git", "config", "user.email", "shipyard@users.noreply.github.com"])
            .with_exec(["git", "add", "--", *changed])
            .with_exec(
                ["git", "commit", "--quiet", "-m", pipeline_flow.docs_commit_message(changed)]
            )
            .with_env_variable("DOCS_REMOTE", target.docs_remote)
            .with_secret_variable("GITHUB_TOKEN", token)
            .with_exec(["sh", "-c", push])
        )
        await pushed.sync()
        return pipeline_flow.docs_commit_message(changed), {"changed": changed}

    @never_cached
    async def notify(
        self,
        ci: CiSource,
        webhook: Annotated[dagger.Secret, Doc("Slack-compatible incoming webhook URL")],
        stage: Annotated[str, Doc("The stage the message is about, e.g. deploy")],
        verdict: Annotated[str, Doc("Its verdict, e.g. failed")],
        git_sha: Annotated[str, Doc("The commit concerned")],
        environment: Annotated[str, Doc("Where it happened, e.g. staging")] = "",
        summary: Annotated[str, Doc("One or two lines on what happened")] = "",
        on_success: Annotated[bool, Doc("Post successes too, not only failures")] = False,
    ) -> str:
        """Post a stage's outcome to a chat webhook; failures always, successes on request."""
        message = NotifyMessage(stage, verdict, git_sha, environment or "-", summary, on_success)
        return await self.notify_outcome(ci, webhook, message, judgement=NOTIFY)

    async def notify_outcome(
        self,
        ci: dagger.Directory,
        webhook: dagger.Secret,
        message: NotifyMessage,
        runner: dagger.Container | None = None,
        judgement: steps.Judgement | None = None,
    ) -> str:
        """Send one notification from the core's notifier; what it did, in a word or a line.
        With a judgement, a message not delivered is a failed exec (`notify` called alone)."""
        args = [
            "--stage",
            message.stage,
            "--commit",
            message.git_sha,
            "--environment",
            message.environment,
            "--verdict",
            message.verdict,
            "--summary",
            message.summary,
        ]
        args += ["--on-success"] if message.on_success else []
        container = steps.fresh(
            runner or toolchains.ci_runner(self._images(), ci)
        ).with_secret_variable("SHIPYARD_WEBHOOK_URL", webhook)
        command = ["python3", "-m", "shipyard.tools.notify", *args]
        if judgement is not None:
            run = await steps.judged(container, [*command, "--require-delivery"], judgement)
            return run.stdout.strip()
        return (await steps.run(container, command, "notify")).output_or_raise().strip()

    @function
    async def cost(
        self,
        source: TerraformSource,
        ci: CiSource,
        base: Annotated[
            dagger.Directory | None,
            Doc("terraform/ as the base commit has it (default: the same tree, no change)"),
        ] = None,
        infracost_api_key: Annotated[
            dagger.Secret | None, Doc("Infracost API key (env:INFRACOST_API_KEY); none skips")
        ] = None,
    ) -> str:
        """Estimate the monthly cost change of the infrastructure with infracost (needs a key)."""
        outcome = await pr_stages.cost_diff(
            self._images(), ci, base or source, source, infracost_api_key
        )
        return outcome.markdown or outcome.line
