"""What the compositions need from the stages, typed, so a renamed stage fails mypy, not a run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import dagger

from shipyard.decide import pipeline_flow
from shipyard.decide.pipeline_flow import DeployTargetConfig, StageOutcome, StageResult, Verdict
from shipyard.module import steps
from shipyard.module.pr_stages import Informational, PullRequestInputs
from shipyard.tools.deploy.config import parse_container_assignments


@dataclass(frozen=True)
class Target:
    """Where a release goes and how its steps reach it.

    For a real release the endpoints are AWS's own and `runner` is None; a rehearsal sets the
    emulator's endpoint and a runner with the emulated services bound. Nothing else differs.
    """

    config: DeployTargetConfig
    aws: steps.AwsCredentials
    endpoint_url: str = ""
    runner: dagger.Container | None = None
    rollout_timeout: float = 900.0
    poll_interval: float = 5.0
    smoke_deadline: float = 60.0
    docs_remote: str = "origin"
    # Registry hosts reached at another base URL[/prefix] from step containers: (host, URL).
    registry_endpoints: tuple[tuple[str, str], ...] = ()
    # Registry hosts the engine pushes to at another address[/prefix]: (host, address).
    engine_registries: tuple[tuple[str, str], ...] = ()
    # The emulated endpoints a step outside `runner` must reach (the docs push): (host, service).
    bindings: tuple[tuple[str, dagger.Service], ...] = ()

    @classmethod
    def adhoc(
        cls,
        aws: steps.AwsCredentials,
        cluster: str,
        region: str,
        services: Sequence[str],
        containers: Sequence[str],
        endpoint_url: str = "",
    ) -> Target:
        """A target named on the command line (plan, deploy, rollback) instead of by terraform."""
        config = DeployTargetConfig(
            environment="",
            region=region,
            url="",
            repository="",
            cluster=cluster,
            services=tuple(services),
            containers=parse_container_assignments(containers),
        )
        return cls(config, aws, endpoint_url=endpoint_url)

    def scope(self) -> list[str]:
        """The deploy engine's --service and --container (SERVICE=CONTAINER) arguments."""
        containers = pipeline_flow.container_assignments(self.config.containers)
        return [arg for service in self.config.services for arg in ("--service", service)] + [
            arg for assignment in containers for arg in ("--container", assignment)
        ]

    def with_timeout(self, seconds: float) -> Target:
        return replace(self, rollout_timeout=seconds)


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

    def stage(self, name: str) -> StageResult:
        """This step as a pipeline stage: verdict, the report's reason, any failure dossier."""
        if self.report is None:
            summary = str(self.run.failure())
        else:
            summary = str(self.report.get("reason") or self.report.get("verdict"))
        verdict = Verdict.PASSED if self.run.passed else Verdict.FAILED
        return StageResult(
            name, verdict, summary, self.seconds, pipeline_flow.deploy_details(self.report)
        )


class Stages(Protocol):
    """The stage calls a composition makes; the module object implements them."""

    async def informational_checks(
        self, sources: Any, inputs: PullRequestInputs
    ) -> list[StageResult]: ...

    async def pr_comment(
        self, ci: dagger.Directory, stages: Sequence[StageResult], inputs: PullRequestInputs
    ) -> tuple[StageResult, Informational]: ...

    async def test(self, source: dagger.Directory) -> str: ...

    async def lint(self, source: dagger.Directory) -> str: ...

    async def scan(self, source: dagger.Directory, ci: dagger.Directory) -> str: ...

    async def docs_check(self, source: dagger.Directory, ci: dagger.Directory) -> str: ...

    async def docs(self, source: dagger.Directory, ci: dagger.Directory) -> dagger.Changeset: ...

    async def published_image(
        self, app: dagger.Directory, ci: dagger.Directory, target: Target, git_sha: str
    ) -> str: ...

    async def promoted_image(
        self, ci: dagger.Directory, image: str, target: Target, git_sha: str
    ) -> str: ...

    async def deploy_outcome(
        self, ci: dagger.Directory, target: Target, image: str
    ) -> DeployOutcome: ...

    async def rollback_outcome(
        self, ci: dagger.Directory, target: Target, from_report: dagger.File | None
    ) -> DeployOutcome: ...

    async def smoke_stage(self, ci: dagger.Directory, target: Target) -> StageOutcome: ...

    async def commit_docs(
        self,
        repo: dagger.Directory,
        changes: dagger.Changeset,
        changed: list[str],
        token: dagger.Secret | None,
        target: Target,
    ) -> StageOutcome: ...

    async def notify_outcome(
        self,
        ci: dagger.Directory,
        webhook: dagger.Secret,
        message: pipeline_flow.NotifyMessage,
        runner: dagger.Container | None = None,
    ) -> str: ...
