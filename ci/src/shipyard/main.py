"""shipyard: test, build, scan, document, deploy and smoke the gridded-data platform.

Every stage is a function (`dagger call <stage>`); `pipeline` composes them for one CI event and
`rehearse` plays a whole release against an emulated AWS account with the real app running.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final, TypeVar, cast

import anyio
import dagger
from dagger import DefaultPath, Doc, Ignore, dag, function, object_type

from shipyard import flows, pipeline_flow, registry, steps, toolchains
from shipyard.images import ImageCatalog

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


def _scope(services: Sequence[str], containers: Sequence[str]) -> list[str]:
    """The deploy engine's --service and --container (SERVICE=CONTAINER) arguments."""
    return [arg for service in services for arg in ("--service", service)] + [
        arg for assignment in containers for arg in ("--container", assignment)
    ]


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
    async def test(self, source: AppProject) -> str:
        """Run the service's test suite with coverage; returns pytest's and coverage's totals."""
        output = await self._tested(source).stdout()
        return pipeline_flow.summarize_test_run(output)

    @function
    def coverage(self, source: AppProject) -> dagger.File:
        """The service's coverage report (Cobertura XML) from a test run."""
        return self._tested(source).file("/src/coverage.xml")

    def _tested(self, source: dagger.Directory) -> dagger.Container:
        return toolchains.testing_environment(self._images(), source).with_exec(
            ["pytest", "app/tests", "-m", "not engine", "-p", "no:cacheprovider", "-q"]
        )

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
        sha = registry.checked_git_sha(git_sha)
        image = toolchains.app_image(self._images(), source, sha)
        host, _ = registry.split_repository(repository)
        if region := registry.ecr_region(host):
            login = await _ecr_login(
                region, aws_access_key_id, aws_secret_access_key, aws_session_token
            )
            image = image.with_registry_auth(
                login.host, login.username, dag.set_secret("ecr-password", login.password)
            )
        published = await image.publish(f"{repository}:{sha}")
        await image.publish(f"{repository}:latest")
        return registry.digest_address(repository, published)

    @function
    async def docs(self, source: DocsSource, ci: CiSource) -> dagger.Changeset:
        """Regenerate every terraform README; `docs export --path .` writes them back."""
        run = await steps.run(
            toolchains.docs_runner(self._images(), ci)
            .with_directory("/src", source)
            .with_workdir("/src"),
            ["python3", "-m", "shipyard.gates", "docs", "terraform"],
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
            ["python3", "-m", "shipyard.gates", "docs-check", "terraform"],
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
            ["python3", "-m", "shipyard.gates", *gate],
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
        credentials = steps.AwsCredentials(
            aws_access_key_id, aws_secret_access_key, aws_session_token
        )
        return await self.plan_text(
            ci,
            credentials,
            cluster,
            image,
            region,
            endpoint_url=endpoint_url,
            services=service or (),
            containers=container or (),
        )

    async def plan_text(
        self,
        ci: dagger.Directory,
        credentials: steps.AwsCredentials,
        cluster: str,
        image: str,
        region: str,
        *,
        endpoint_url: str = "",
        container: dagger.Container | None = None,
        services: Sequence[str] = (),
        containers: Sequence[str] = (),
    ) -> str:
        """The deploy engine's dry run: each service's next task definition as a diff."""
        args = ["plan", "--cluster", cluster, "--image", image, "--region", region]
        args += _scope(services, containers)
        run = await self._deploy_step(ci, credentials, args, endpoint_url, container)
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
        credentials = steps.AwsCredentials(
            aws_access_key_id, aws_secret_access_key, aws_session_token
        )
        outcome = await self.deploy_outcome(
            ci,
            credentials,
            cluster,
            image,
            region,
            endpoint_url=endpoint_url,
            timeout=timeout,
            services=service or (),
            containers=container or (),
        )
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
                "A deploy-report.json whose restore points to return to "
                "(default: each service's previous revision)"
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
        credentials = steps.AwsCredentials(
            aws_access_key_id, aws_secret_access_key, aws_session_token
        )
        outcome = await self.rollback_outcome(
            ci,
            credentials,
            cluster,
            region,
            from_report,
            endpoint_url=endpoint_url,
            services=service or (),
        )
        if not outcome.run.passed:
            raise steps.StageFailed(outcome.markdown or outcome.run.failure().args[0])
        return outcome.markdown

    async def _deploy_step(
        self,
        ci: dagger.Directory,
        credentials: steps.AwsCredentials,
        args: list[str],
        endpoint_url: str,
        container: dagger.Container | None = None,
    ) -> steps.StepRun:
        runner = credentials.apply(container or toolchains.ci_runner(self._images(), ci))
        endpoint = ["--endpoint-url", endpoint_url] if endpoint_url else []
        return await steps.run(
            steps.fresh(runner),
            ["python3", "-m", "shipyard.deploy", *args, *endpoint, "--report-dir", "/out"],
            args[0],
        )

    async def deploy_outcome(
        self,
        ci: dagger.Directory,
        credentials: steps.AwsCredentials,
        cluster: str,
        image: str,
        region: str,
        *,
        endpoint_url: str = "",
        timeout: float = 900.0,
        container: dagger.Container | None = None,
        poll_interval: float = 5.0,
        services: Sequence[str] = (),
        containers: Sequence[str] = (),
    ) -> DeployOutcome:
        """Run the deploy engine and keep its report, whatever the verdict (for the flows)."""
        args = ["deploy", "--cluster", cluster, "--image", image, "--region", region]
        args += _scope(services, containers)
        args += ["--timeout", str(timeout), "--poll-interval", str(poll_interval)]
        started = time.monotonic()
        run = await self._deploy_step(ci, credentials, args, endpoint_url, container)
        return await DeployOutcome.read(run, "deploy", time.monotonic() - started)

    async def rollback_outcome(
        self,
        ci: dagger.Directory,
        credentials: steps.AwsCredentials,
        cluster: str,
        region: str,
        from_report: dagger.File | None,
        *,
        endpoint_url: str = "",
        container: dagger.Container | None = None,
        poll_interval: float = 5.0,
        services: Sequence[str] = (),
    ) -> DeployOutcome:
        """Return the services to a deploy report's restore points (for the flows).

        A rollback returns to recorded task definitions, so it needs no container names.
        """
        runner = container or toolchains.ci_runner(self._images(), ci)
        args = ["rollback", "--cluster", cluster, "--region", region]
        args += _scope(services, ())
        args += ["--poll-interval", str(poll_interval)]
        if from_report is not None:
            runner = runner.with_file("/in/deploy-report.json", from_report)
            args += ["--from-report", "/in/deploy-report.json"]
        started = time.monotonic()
        run = await self._deploy_step(ci, credentials, args, endpoint_url, runner)
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

    async def smoke_stage(
        self,
        ci: dagger.Directory,
        url: str,
        *,
        container: dagger.Container | None = None,
        deadline: float = 60.0,
    ) -> pipeline_flow.StageOutcome:
        """The smoke suite as a pipeline stage: headline and failed checks, or StageFailed."""
        run = await self._smoke_run(ci, url, None, deadline, container)
        report = await steps.json_file(run.container, "/work/smoke.json")
        if run.exit_code == steps.VERDICT_AGAINST:
            raise steps.StageFailed(flows.smoke_headline(run.stdout))
        run.output_or_raise()
        return flows.smoke_headline(run.stdout), {"smoke": report or {}}

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
        suite = ["python3", "-m", "shipyard.smoke", url, "--deadline", str(deadline)]
        return await steps.run(
            steps.fresh(runner), [*suite, "--json-out", "/work/smoke.json"], "smoke"
        )

    @never_cached
    async def rehearse(
        self,
        app: AppSource,
        ci: CiSource,
        fault: Annotated[
            list[str] | None,
            Doc(
                "Break the release: crash, unhealthy, pull-error, slow-rollout or smoke-failure, "
                "optionally as SERVICE=KIND (tiles, timeseries); repeatable"
            ),
        ] = None,
        time_scale: Annotated[float, Doc("Simulated rollout seconds per real second")] = 20.0,
        git_sha: Annotated[str, Doc("Tag of the rehearsed image")] = "rehearsal",
    ) -> dagger.Directory:
        """Play a whole release with no cloud account; returns summary.md and report.json."""
        faults = flows.rehearsal_faults(fault or [])
        report = await flows.rehearsal(self, self._images(), app, ci, faults, time_scale, git_sha)
        return flows.report_directory(report)

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
        environment: Annotated[str, Doc("Where a release goes: staging or production")] = "staging",
        pipeline_config: Annotated[
            str,
            Doc(
                "The environment's `terraform output -json pipeline` "
                "(cluster, services, containers, URL)"
            ),
        ] = "",
        promote: Annotated[
            bool, Doc("Deploy the image already published for this commit instead of pushing")
        ] = False,
        aws_access_key_id: AwsKeyId = None,
        aws_secret_access_key: AwsSecretKey = None,
        aws_session_token: AwsSessionToken = None,
        webhook: Annotated[dagger.Secret | None, Doc("Chat webhook URL for the outcome")] = None,
        github_token: Annotated[
            dagger.Secret | None, Doc("Token that may push the regenerated docs to the branch")
        ] = None,
    ) -> dagger.Directory:
        """Run what the event calls for (checks; on main a release); returns the report files."""
        flow = pipeline_flow.flow_for_event(event, ref)
        registry.checked_git_sha(git_sha)
        target = (
            flows.ReleaseTarget(
                pipeline_flow.parse_pipeline_outputs(pipeline_config, environment), promote
            )
            if flow is pipeline_flow.Flow.RELEASE
            else None
        )
        sources = flows.Sources(project, app_project, app, terraform, docs_source, ci, repo)
        aws = steps.AwsCredentials(aws_access_key_id, aws_secret_access_key, aws_session_token)
        secrets = flows.Secrets(aws, webhook, github_token)
        report = await flows.pipeline(self, flow, target, sources, secrets, git_sha)
        return flows.report_directory(report)

    async def promoted_image(
        self, repository: str, git_sha: str, region: str, aws: steps.AwsCredentials
    ) -> str:
        """The digest address of the image already published for this commit."""
        host, name = registry.split_repository(repository)
        if aws.access_key_id is None or aws.secret_access_key is None:
            raise registry.RegistryError("--promote needs AWS credentials to look the image up")
        token = await aws.session_token.plaintext() if aws.session_token else None
        digest = await anyio.to_thread.run_sync(
            registry.ecr_image_digest,
            region,
            name,
            registry.checked_git_sha(git_sha),
            await aws.access_key_id.plaintext(),
            await aws.secret_access_key.plaintext(),
            token,
        )
        return f"{host}/{name}@{digest}"

    async def commit_docs(
        self,
        repo: dagger.Directory,
        changes: dagger.Changeset,
        changed: list[str],
        token: dagger.Secret | None,
    ) -> pipeline_flow.StageOutcome:
        """Commit the regenerated READMEs to the checked-out branch and push them."""
        if token is None:
            raise pipeline_flow.PipelineError("committing docs back needs --github-token")
        await self.docs_pushed(repo, changes, changed, token).sync()
        return pipeline_flow.docs_commit_message(changed), {"changed": changed}

    def docs_pushed(
        self,
        repo: dagger.Directory,
        changes: dagger.Changeset,
        changed: list[str],
        token: dagger.Secret,
    ) -> dagger.Container:
        """The checkout with the docs committed ([skip ci]) and pushed to origin's branch."""
        push = (
            'git -c http.extraheader="AUTHORIZATION: basic '
            '$(printf "x-access-token:%s" "$GITHUB_TOKEN" | base64 | tr -d "\\n")" '
            "push origin HEAD:$(git rev-parse --abbrev-ref HEAD)"
        )
        return (
            steps.fresh(dag.container().from_(self._images().reference("GIT")))
            .with_directory("/repo", repo.with_changes(changes))
            .with_workdir("/repo")
            .with_exec(["git", "config", "user.name", "shipyard"])
            .with_exec(["git", "config", "user.email", "shipyard@users.noreply.github.com"])
            .with_exec(["git", "add", "--", *changed])
            .with_exec(
                ["git", "commit", "--quiet", "-m", pipeline_flow.docs_commit_message(changed)]
            )
            .with_secret_variable("GITHUB_TOKEN", token)
            .with_exec(["sh", "-c", push])
        )

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
        message = flows.NotifyMessage(
            stage, verdict, git_sha, environment or "-", summary, on_success
        )
        return await self.notify_outcome(ci, webhook, message)

    async def notify_outcome(
        self, ci: dagger.Directory, webhook: dagger.Secret, message: flows.NotifyMessage
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
            steps.fresh(toolchains.ci_runner(self._images(), ci)).with_secret_variable(
                "SHIPYARD_WEBHOOK_URL", webhook
            ),
            [
                "python3",
                "-m",
                "shipyard.notify",
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
        infracost_api_key: Annotated[
            dagger.Secret | None, Doc("Infracost API key (env:INFRACOST_API_KEY); none skips")
        ] = None,
    ) -> str:
        """Estimate the monthly cost of the infrastructure with infracost, when a key is given."""
        if infracost_api_key is None:
            return "skipped: no key (pass --infracost-api-key env:INFRACOST_API_KEY)"
        return await (
            dag.container()
            .from_(self._images().reference("INFRACOST"))
            .with_secret_variable("INFRACOST_API_KEY", infracost_api_key)
            .with_directory("/src", source)
            .with_exec(["infracost", "breakdown", "--path", "/src", "--no-color"])
            .stdout()
        )


async def _ecr_login(
    region: str,
    access_key_id: dagger.Secret | None,
    secret_access_key: dagger.Secret | None,
    session_token: dagger.Secret | None,
) -> registry.RegistryLogin:
    if access_key_id is None or secret_access_key is None:
        raise registry.RegistryError(
            "pushing to ECR needs AWS credentials; pass --aws-access-key-id env:AWS_ACCESS_KEY_ID "
            "--aws-secret-access-key env:AWS_SECRET_ACCESS_KEY (and --aws-session-token)"
        )
    token = await session_token.plaintext() if session_token else None
    return await anyio.to_thread.run_sync(
        registry.ecr_login,
        region,
        await access_key_id.plaintext(),
        await secret_access_key.plaintext(),
        token,
    )


@dataclass(frozen=True)
class DeployOutcome:
    """A deploy or rollback step with the report it wrote (JSON and Markdown)."""

    run: steps.StepRun
    report: dict[str, Any] | None
    markdown: str
    out: dagger.Directory
    seconds: float

    @classmethod
    async def read(cls, run: steps.StepRun, operation: str, seconds: float) -> DeployOutcome:
        report = await steps.json_file(run.container, f"/out/{operation}-report.json")
        markdown = (
            await run.container.file(f"/out/{operation}-report.md").contents() if report else ""
        )
        return cls(run, report, markdown, run.container.directory("/out"), seconds)

    def stage(self, name: str) -> pipeline_flow.StageResult:
        """This step as a pipeline stage: verdict, the report's reason, any failure dossier."""
        if self.report is None:
            summary = str(self.run.failure())
        else:
            summary = str(self.report.get("reason") or self.report.get("verdict"))
        verdict = pipeline_flow.Verdict.PASSED if self.run.passed else pipeline_flow.Verdict.FAILED
        return pipeline_flow.StageResult(
            name, verdict, summary, self.seconds, flows.deploy_details(self.report)
        )
