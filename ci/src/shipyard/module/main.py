"""shipyard: test, build, scan, document, deploy and smoke the gridded-data platform.

Every stage is a function (`dagger call <stage>`); `pipeline` composes them for one CI event and
`rehearse` plays a whole release against an emulated AWS account with the real app running.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Annotated, Final, TypeVar, cast

import anyio
import dagger
from dagger import DefaultPath, Doc, Ignore, dag, function, object_type

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
    "ruff check app ci bench || status=1; "
    "ruff format --check app ci bench || status=1; "
    "mypy || status=1; "
    "exit $status",
]

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
    Doc("The repository root, narrowed to the Python code (app/, ci/, bench/) and its config"),
    DefaultPath("/"),
    Ignore(
        ["*", "!app/", "!ci/", "!bench/", "!pyproject.toml", "!requirements-dev.lock", *_CACHES]
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

F = TypeVar("F", bound=Callable[..., object])
# Functions with side effects (pushes, deploys, messages) must run on every call: Dagger caches
# function results by default, and a cached deploy silently does nothing.
never_cached = cast(Callable[[F], F], function(cache="never"))  # type: ignore[call-overload]
DEFAULT_REGION: Final = "ap-southeast-2"


@object_type
class Shipyard:
    """The delivery pipeline of the gridded-data platform, one function per stage."""

    image_overrides: Annotated[
        str,
        Doc('Image overrides as SHIPYARD_IMAGE_<NAME>=<ref> lines, e.g. "$(cat kit/images.env)"'),
    ] = ""

    def _images(self) -> ImageCatalog:
        return ImageCatalog.from_settings(self.image_overrides)

    @function
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
    async def lint(self, source: PythonProject) -> str:
        """Check style and types of all Python code: ruff check, ruff format --check, mypy."""
        return await toolchains.lint_environment(self._images(), source).with_exec(_LINT).stdout()

    @function
    def build(self, source: AppSource) -> dagger.Container:
        """Build the service image (linux/amd64) from app/Dockerfile on the pinned base image."""
        return toolchains.app_image(self._images(), source)

    @function
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
        aws_access_key_id: AwsKeyId = None,
        aws_secret_access_key: AwsSecretKey = None,
        aws_session_token: AwsSessionToken = None,
    ) -> str:
        """Push the image tagged with the git SHA and latest; returns repo@sha256:digest."""
        config = pipeline_flow.DeployTargetConfig("", "", "", repository, "", (), {})
        aws = steps.AwsCredentials(aws_access_key_id, aws_secret_access_key, aws_session_token)
        return await self.published_image(source, Target(config, aws), git_sha)

    @function
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
    async def docs_check(self, source: DocsSource, ci: CiSource) -> str:
        """Fail when a terraform README differs from what terraform-docs generates now."""
        run = await steps.run(
            toolchains.docs_runner(self._images(), ci)
            .with_directory("/src", source)
            .with_workdir("/src"),
            ["python3", "-m", "shipyard.tools.gates", "docs-check", "terraform"],
            "docs-check",
        )
        return run.output_or_raise()

    @function
    async def scan(self, source: TerraformSource, ci: CiSource) -> str:
        """Gate the infrastructure on checkov findings, with the repository's severity policy."""
        gate = ["scan", "terraform", "--policy-dir", "/opt/shipyard/policies"]
        run = await steps.run(
            toolchains.scan_runner(self._images(), ci)
            .with_directory("/src/terraform", source)
            .with_workdir("/src"),
            ["python3", "-m", "shipyard.tools.gates", *gate],
            "scan",
        )
        return run.output_or_raise()

    @function
    async def plan(
        self,
        ci: CiSource,
        cluster: Cluster,
        image: Annotated[str, Doc("Image to deploy, repo@sha256:digest (what publish returns)")],
        region: Region = DEFAULT_REGION,
        aws_access_key_id: AwsKeyId = None,
        aws_secret_access_key: AwsSecretKey = None,
        aws_session_token: AwsSessionToken = None,
        endpoint_url: EndpointUrl = "",
        service: Services = None,
        container: Containers = None,
    ) -> str:
        """Show each service's next task definition as a diff; changes nothing."""
        aws = steps.AwsCredentials(aws_access_key_id, aws_secret_access_key, aws_session_token)
        target = Target.adhoc(aws, cluster, region, service or (), container or (), endpoint_url)
        args = ["plan", "--cluster", cluster, "--image", image, "--region", region]
        run = await self._deploy_step(ci, target, [*args, *target.scope()])
        return run.output_or_raise()

    @never_cached
    async def deploy(
        self,
        ci: CiSource,
        cluster: Cluster,
        image: Annotated[str, Doc("Image to deploy, repo@sha256:digest (what publish returns)")],
        region: Region = DEFAULT_REGION,
        aws_access_key_id: AwsKeyId = None,
        aws_secret_access_key: AwsSecretKey = None,
        aws_session_token: AwsSessionToken = None,
        endpoint_url: EndpointUrl = "",
        timeout: Annotated[float, Doc("Seconds each service's rollout may take")] = 900.0,
        service: Services = None,
        container: Containers = None,
    ) -> str:
        """Roll the image out service by service; a failure rolls every service back."""
        aws = steps.AwsCredentials(aws_access_key_id, aws_secret_access_key, aws_session_token)
        target = Target.adhoc(aws, cluster, region, service or (), container or (), endpoint_url)
        outcome = await self.deploy_outcome(ci, target.with_timeout(timeout), image)
        if not outcome.run.passed:
            raise steps.StageFailed(outcome.markdown or outcome.run.failure().args[0])
        return outcome.markdown

    @never_cached
    async def rollback(
        self,
        ci: CiSource,
        cluster: Cluster,
        region: Region = DEFAULT_REGION,
        from_report: Annotated[
            dagger.File | None,
            Doc(
                "A deploy-report.json whose restore points to return to (default: the restore "
                "points an interrupted run left in the services' AWS tags, else each service's "
                "previous revision)"
            ),
        ] = None,
        aws_access_key_id: AwsKeyId = None,
        aws_secret_access_key: AwsSecretKey = None,
        aws_session_token: AwsSessionToken = None,
        endpoint_url: EndpointUrl = "",
        service: Annotated[
            list[str] | None,
            Doc("ECS service names (default: the report's, else tiles, timeseries)"),
        ] = None,
    ) -> str:
        """Return every service to the task definitions recorded before a deploy."""
        aws = steps.AwsCredentials(aws_access_key_id, aws_secret_access_key, aws_session_token)
        target = Target.adhoc(aws, cluster, region, service or (), (), endpoint_url)
        outcome = await self.rollback_outcome(ci, target, from_report)
        if not outcome.run.passed:
            raise steps.StageFailed(outcome.markdown or outcome.run.failure().args[0])
        return outcome.markdown

    async def _deploy_step(
        self,
        ci: dagger.Directory,
        target: Target,
        args: list[str],
        runner: dagger.Container | None = None,
    ) -> steps.StepRun:
        runner = target.aws.apply(
            runner or target.runner or toolchains.ci_runner(self._images(), ci)
        )
        endpoint = ["--endpoint-url", target.endpoint_url] if target.endpoint_url else []
        return await steps.run(
            steps.fresh(runner),
            ["python3", "-m", "shipyard.tools.deploy", *args, *endpoint, "--report-dir", "/out"],
            args[0],
        )

    async def deploy_outcome(
        self, ci: dagger.Directory, target: Target, image: str
    ) -> DeployOutcome:
        """Run the deploy engine and keep its report, whatever the verdict (for the flows)."""
        config = target.config
        args = ["deploy", "--cluster", config.cluster, "--image", image, "--region", config.region]
        args += [*target.scope(), "--timeout", str(target.rollout_timeout)]
        args += ["--poll-interval", str(target.poll_interval)]
        started = time.monotonic()
        run = await self._deploy_step(ci, target, args)
        return await DeployOutcome.read(run, "deploy", time.monotonic() - started)

    async def rollback_outcome(
        self, ci: dagger.Directory, target: Target, from_report: dagger.File | None
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
        run = await self._deploy_step(ci, target, args, runner)
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
        run = await self._smoke_run(ci, url, service, deadline)
        return run.output_or_raise()

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
        return await steps.run(
            steps.fresh(runner), [*suite, "--json-out", "/work/smoke.json"], "smoke"
        )

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
        event: Annotated[
            str, Doc("What triggered the run: pull_request, push or workflow_dispatch")
        ],
        ref: Annotated[str, Doc("The full git ref, e.g. refs/heads/main")],
        git_sha: Annotated[str, Doc("The commit under test; tags the released image")],
        project: PythonProject,
        app_project: AppProject,
        app: AppSource,
        terraform: TerraformSource,
        docs_source: DocsSource,
        ci: CiSource,
        repo: RepoSource,
        tool_locks: ToolLocks,
        environment: Annotated[str, Doc("Where a release goes: staging or production")] = "staging",
        pipeline_config: Annotated[
            str,
            Doc(
                "The environment's `terraform output -json pipeline` "
                "(cluster, services, containers, URL)"
            ),
        ] = "",
        promote_from: Annotated[
            str,
            Doc(
                "Promote this image (repo@sha256:..., what staging's run published) into this "
                "environment's repository by digest, instead of building and pushing"
            ),
        ] = "",
        aws_access_key_id: AwsKeyId = None,
        aws_secret_access_key: AwsSecretKey = None,
        aws_session_token: AwsSessionToken = None,
        webhook: Annotated[dagger.Secret | None, Doc("Chat webhook URL for the outcome")] = None,
        github_token: Annotated[
            dagger.Secret | None,
            Doc(
                "GitHub token: pushes the regenerated docs on a release, posts the report "
                "comment on a pull request"
            ),
        ] = None,
        codecov_token: Annotated[
            dagger.Secret | None,
            Doc("Codecov upload token (env:CODECOV_TOKEN); none skips the upload"),
        ] = None,
        codecov_url: Annotated[
            str, Doc("Codecov's address; a self-hosted Codecov's enterprise URL")
        ] = "https://codecov.io",
        infracost_api_key: Annotated[
            dagger.Secret | None,
            Doc("Infracost API key (env:INFRACOST_API_KEY); none skips the cost diff"),
        ] = None,
        repository: Annotated[str, Doc("owner/name on GitHub (github.repository)")] = "",
        pull_request: Annotated[
            int, Doc("The pull request's number (github.event.pull_request.number); 0: none")
        ] = 0,
        base_sha: Annotated[
            str, Doc("The pull request's base commit, the cost diff's before")
        ] = "",
        branch: Annotated[str, Doc("The branch under test, for Codecov (github.head_ref)")] = "",
        run_url: Annotated[str, Doc("This CI run's address, linked from the comment")] = "",
        github_api_url: Annotated[
            str, Doc("GitHub's REST API (github.api_url)")
        ] = "https://api.github.com",
    ) -> dagger.Directory:
        """Run what the event calls for (checks; on main a release); returns the report files."""
        flow = pipeline_flow.flow_for_event(event, ref)
        registry.checked_git_sha(git_sha)
        aws = steps.AwsCredentials(aws_access_key_id, aws_secret_access_key, aws_session_token)
        plan = None
        if flow is pipeline_flow.Flow.RELEASE:
            config = pipeline_flow.parse_pipeline_outputs(pipeline_config, environment)
            if promote_from:
                registry.digest_address(promote_from.partition("@")[0], promote_from)
            plan = release.Release(Target(config, aws), promote_from)
        sources = Sources(project, app_project, app, terraform, docs_source, ci, repo, tool_locks)
        secrets = release.Secrets(webhook, github_token)
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
            self, flow, plan, sources, secrets, git_sha, inputs
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

    async def published_image(self, app: dagger.Directory, target: Target, git_sha: str) -> str:
        """Push to the target's repository (git-SHA and latest tags); returns repo@sha256:..."""
        sha = registry.checked_git_sha(git_sha)
        image = await self._signed_in(toolchains.app_image(self._images(), app, sha), target)
        repository = target.config.repository
        published = await image.publish(f"{repository}:{sha}")
        await image.publish(f"{repository}:latest")
        return registry.digest_address(repository, published)

    async def promoted_image(
        self, ci: dagger.Directory, image: str, target: Target, git_sha: str
    ) -> str:
        """Copy an image byte for byte into the target's repository; its digest stays the same."""
        runner = target.runner or toolchains.ci_runner(self._images(), ci)
        if login := await self._registry_login(target):
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

    async def _signed_in(self, container: dagger.Container, target: Target) -> dagger.Container:
        if login := await self._registry_login(target):
            host, _ = registry.split_repository(target.config.repository)
            return container.with_registry_auth(host, *login)
        return container

    async def _registry_login(self, target: Target) -> tuple[str, dagger.Secret] | None:
        """ECR's user name and password for the target's registry; None for any other registry.

        One ECR token opens every registry the role may read: staging's too, when promoting.
        """
        host, _ = registry.split_repository(target.config.repository)
        region = registry.ecr_region(host)
        if region is None:
            return None
        login = await _ecr_login(region, target.aws)
        return login.username, dag.set_secret(f"ecr-password-{host}", login.password)

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
        return await self.notify_outcome(ci, webhook, message)

    async def notify_outcome(
        self,
        ci: dagger.Directory,
        webhook: dagger.Secret,
        message: NotifyMessage,
        runner: dagger.Container | None = None,
    ) -> str:
        """Send one notification from the core's notifier; what it did, in a word or a line."""
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
        run = await steps.run(
            steps.fresh(runner or toolchains.ci_runner(self._images(), ci)).with_secret_variable(
                "SHIPYARD_WEBHOOK_URL", webhook
            ),
            [
                "python3",
                "-m",
                "shipyard.tools.notify",
                *args,
                *(["--on-success"] if message.on_success else []),
            ],
            "notify",
        )
        return run.output_or_raise().strip()

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


async def _ecr_login(region: str, aws: steps.AwsCredentials) -> registry.RegistryLogin:
    if aws.access_key_id is None or aws.secret_access_key is None:
        raise registry.RegistryError(
            "pushing to or pulling from ECR needs AWS credentials; pass --aws-access-key-id "
            "env:AWS_ACCESS_KEY_ID --aws-secret-access-key env:AWS_SECRET_ACCESS_KEY "
            "(and --aws-session-token)"
        )
    token = await aws.session_token.plaintext() if aws.session_token else None
    return await anyio.to_thread.run_sync(
        registry.ecr_login,
        region,
        await aws.access_key_id.plaintext(),
        await aws.secret_access_key.plaintext(),
        token,
    )
