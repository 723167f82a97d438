"""The release sequence's order and decisions, with the stage calls replaced by recorders.

The real stages run on the engine (ci/tests/engine, the rehearsal); here only the composition is
under test: which stage runs, in which order, and what a failure leads to.
"""

from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from shipyard.decide.pipeline_flow import DeployTargetConfig, Flow, StageResult, Verdict
from shipyard.decide.summary import RunReport
from shipyard.module import release
from shipyard.module.stages import Target
from shipyard.module.steps import AwsCredentials, StageFailed

CONFIG = DeployTargetConfig(
    "staging",
    "ap-southeast-2",
    "https://staging.example.org",
    "1.dkr/repo",
    "c",
    ("a", "b"),
    {"a": "tiles", "b": "timeseries"},
)
TARGET = Target(CONFIG, AwsCredentials(None, None, None))
SHA = "0123456789abcdef0123456789abcdef01234567"
STAGING_IMAGE = "1.dkr/staging@sha256:" + "1" * 64
# Stands for a dagger.Secret: the flow only checks that one was given.
GIVEN = object()


@dataclass
class FakeChanges:
    changed: list[str]

    async def added_paths(self) -> list[str]:
        return []

    async def modified_paths(self) -> list[str]:
        return self.changed


@dataclass
class FakeRun:
    passed: bool


@dataclass
class FakeOut:
    def file(self, name: str) -> str:
        return f"out/{name}"


@dataclass
class FakeOutcome:
    passed: bool
    run: FakeRun = field(init=False)
    out: FakeOut = field(default_factory=FakeOut)

    def __post_init__(self) -> None:
        self.run = FakeRun(self.passed)

    def stage(self, name: str) -> StageResult:
        return StageResult(name, Verdict.PASSED if self.passed else Verdict.FAILED, name)


@dataclass
class Recorder:
    """Stands in for the module object: records calls, answers as told."""

    failing: set[str] = field(default_factory=set)
    docs_changed: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name.split()[0] in self.failing:
            raise StageFailed(f"{name}: failed as told")

    async def test(self, source: Any) -> str:
        self._call("test")
        return "3 passed in 1.0s"

    async def lint(self, source: Any) -> str:
        self._call("lint")
        return ""

    async def scan(self, source: Any, ci: Any) -> str:
        self._call("scan")
        return "PASSED"

    async def docs_check(self, source: Any, ci: Any) -> str:
        self._call("docs-check")
        return "in sync"

    async def published_image(self, app: Any, ci: Any, target: Target, git_sha: str) -> str:
        self._call(f"publish {target.config.repository}")
        return "1.dkr/repo@sha256:" + "0" * 64

    async def promoted_image(self, ci: Any, image: str, target: Target, git_sha: str) -> str:
        self._call(f"promote {image}")
        return "1.dkr/repo@" + image.partition("@")[2]

    async def docs(self, source: Any, ci: Any) -> FakeChanges:
        self._call("docs")
        return FakeChanges(self.docs_changed)

    async def commit_docs(
        self, repo: Any, changes: Any, changed: list[str], token: Any, target: Target
    ) -> Any:
        self._call(f"docs-commit {','.join(changed)}")
        return "committed", {}

    async def deploy_outcome(self, ci: Any, target: Target, image: str) -> FakeOutcome:
        scope = " ".join(target.scope())
        self.calls.append(f"deploy {image.partition('@')[2][:9]} {scope}")
        return FakeOutcome("deploy" not in self.failing)

    async def smoke_stage(self, ci: Any, target: Target) -> Any:
        self._call(f"smoke {target.config.url}")
        return "pass", {}

    async def rollback_outcome(self, ci: Any, target: Target, report: Any) -> FakeOutcome:
        self.calls.append(f"rollback from {report}")
        return FakeOutcome(True)

    async def informational_checks(self, sources: Any, inputs: Any) -> list[StageResult]:
        self._call("informational")
        return [StageResult("cost", Verdict.SKIPPED, "skipped: no INFRACOST_API_KEY")]

    async def pr_comment(self, ci: Any, stages: Any, inputs: Any) -> Any:
        self._call("pr-comment")
        return StageResult("pr-comment", Verdict.PASSED, "posted"), None

    async def notify_outcome(self, ci: Any, webhook: Any, message: Any, runner: Any = None) -> str:
        self._call(f"notify {message.stage} {message.verdict}")
        return "sent"


def run(
    recorder: Recorder,
    flow: Flow = Flow.RELEASE,
    token: Any = GIVEN,
    promote_from: str = "",
) -> RunReport:
    plan = release.Release(TARGET, promote_from) if flow is Flow.RELEASE else None
    sources = release.Sources(*(["dir"] * 7))  # type: ignore[arg-type]
    secrets = release.Secrets(GIVEN, token)  # type: ignore[arg-type]
    report, _ = anyio.run(release.pipeline, recorder, flow, plan, sources, secrets, SHA)
    return report


def verdicts(report: RunReport) -> dict[str, str]:
    return {stage.stage: str(stage.verdict) for stage in report.stages}


def test_a_green_release_checks_publishes_deploys_in_order_smokes_and_notifies() -> None:
    recorder = Recorder()
    report = run(recorder)
    assert sorted(recorder.calls[:3]) == ["lint", "scan", "test"]
    assert sorted(recorder.calls[3:5]) == ["docs", "publish 1.dkr/repo"]
    # Each service's container, as terraform names it, goes to the deploy engine explicitly.
    assert recorder.calls[5:] == [
        "deploy sha256:00 --service a --service b --container a=tiles --container b=timeseries",
        "smoke https://staging.example.org",
        "notify release passed",
    ]
    assert verdicts(report) == {
        "test": "passed",
        "lint": "passed",
        "scan": "passed",
        "publish": "passed",
        "docs": "passed",
        "docs-commit": "skipped",
        "deploy": "passed",
        "smoke": "passed",
        "rollback": "skipped",
        "notify": "passed",
    }
    assert report.notes["image"].startswith("1.dkr/repo@sha256:")


def test_pull_requests_run_the_four_checks_and_never_release() -> None:
    recorder = Recorder()
    report = run(recorder, Flow.CHECKS)
    assert sorted(recorder.calls[:4]) == ["docs-check", "lint", "scan", "test"]
    assert recorder.calls[4:] == ["notify checks passed"]
    assert report.verdict is Verdict.PASSED


def test_a_failed_check_blocks_the_whole_release_and_is_reported() -> None:
    recorder = Recorder(failing={"lint"})
    report = run(recorder)
    assert not any(c.startswith(("publish", "deploy", "docs")) for c in recorder.calls)
    assert verdicts(report)["publish"] == "skipped"
    assert "lint failed" in report.stages[-2].summary
    assert recorder.calls[-1] == "notify lint failed"


def test_a_failed_smoke_rolls_back_from_the_deploy_report() -> None:
    recorder = Recorder(failing={"smoke"})
    report = run(recorder)
    assert "rollback from out/deploy-report.json" in recorder.calls
    assert verdicts(report)["smoke"] == "failed"
    assert verdicts(report)["rollback"] == "passed"
    assert report.verdict is Verdict.FAILED


def test_a_failed_deploy_is_not_smoked_and_says_the_engine_rolled_back() -> None:
    recorder = Recorder(failing={"deploy"})
    report = run(recorder)
    assert not any(call.startswith(("smoke", "rollback")) for call in recorder.calls)
    assert verdicts(report)["smoke"] == "skipped"
    assert report.stages[-2].summary.startswith("rolled back by the deploy engine")


def test_a_failed_publish_stops_before_deploy() -> None:
    recorder = Recorder(failing={"publish"})
    report = run(recorder)
    assert not any(call.startswith("deploy") for call in recorder.calls)
    assert verdicts(report)["publish"] == "failed"
    assert verdicts(report)["deploy"] == "skipped"


def test_a_promotion_copies_the_tested_digest_and_skips_checks_and_docs() -> None:
    recorder = Recorder()
    report = run(recorder, promote_from=STAGING_IMAGE)
    assert recorder.calls[0] == f"promote {STAGING_IMAGE}"
    assert not any(c in ("test", "lint", "scan", "docs") for c in recorder.calls)
    assert recorder.calls[1].startswith("deploy sha256:11")
    assert verdicts(report)["test"] == "skipped"
    assert report.notes["image"] == "1.dkr/repo@sha256:" + "1" * 64


def test_a_failed_docs_push_does_not_stop_the_release() -> None:
    recorder = Recorder(failing={"docs-commit"}, docs_changed=["terraform/README.md"])
    report = run(recorder)
    assert verdicts(report)["docs-commit"] == "failed"
    assert verdicts(report)["deploy"] == "passed"


@pytest.mark.parametrize(
    ("changed", "token", "committed"),
    [(["terraform/README.md"], GIVEN, True), ([], GIVEN, False), (["x"], None, False)],
)
def test_docs_are_committed_only_when_changed_and_a_token_is_given(
    changed: list[str], token: Any, committed: bool
) -> None:
    recorder = Recorder(docs_changed=changed)
    run(recorder, token=token)
    assert any(call.startswith("docs-commit") for call in recorder.calls) is committed
