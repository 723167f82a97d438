"""The release flow's order and decisions, with the stage functions replaced by recorders.

The real stages run on the engine (ci/tests/engine); here only the composition is under test:
which stage runs, in which order, and what a failure leads to.
"""

from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from shipyard import flows
from shipyard.pipeline_flow import DeployTargetConfig, Flow, StageResult, Verdict
from shipyard.steps import AwsCredentials, StageFailed

TARGET = flows.ReleaseTarget(
    DeployTargetConfig(
        "staging",
        "ap-southeast-2",
        "https://staging.example.org",
        "1.dkr/repo",
        "c",
        ("a", "b"),
        {"a": "tiles", "b": "timeseries"},
    ),
    promote=False,
)
SHA = "0123456789abcdef0123456789abcdef01234567"
# Stands for a dagger.Secret: the flow only checks that one was given.
GIVEN_TOKEN = object()


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
    """Stands in for Shipyard: records calls, answers as told."""

    publish_fails: bool = False
    deploy_passes: bool = True
    smoke_passes: bool = True
    docs_changed: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    async def publish(self, *args: Any) -> str:
        self.calls.append("publish")
        if self.publish_fails:
            raise StageFailed("push refused")
        return "1.dkr/repo@sha256:" + "0" * 64

    async def docs(self, *args: Any) -> FakeChanges:
        self.calls.append("docs")
        return FakeChanges(self.docs_changed)

    async def commit_docs(self, repo: Any, changes: Any, changed: list[str], token: Any) -> Any:
        self.calls.append(f"commit-docs {','.join(changed)}")
        return "committed", {}

    async def deploy_outcome(self, *args: Any, **kwargs: Any) -> FakeOutcome:
        named = ",".join(kwargs["containers"])
        self.calls.append(f"deploy {','.join(kwargs['services'])} containers {named}")
        return FakeOutcome(self.deploy_passes)

    async def smoke_stage(self, ci: Any, url: str) -> Any:
        self.calls.append(f"smoke {url}")
        if not self.smoke_passes:
            raise StageFailed("timeseries: HTTP 422")
        return "pass", {}

    async def rollback_outcome(self, *args: Any, **kwargs: Any) -> FakeOutcome:
        self.calls.append(f"rollback from {args[4]}")
        return FakeOutcome(True)


def release(recorder: Recorder, token: Any = GIVEN_TOKEN) -> flows.Ledger:
    ledger = flows.Ledger()
    sources = flows.Sources(*(["dir"] * 7))  # type: ignore[arg-type]
    secrets = flows.Secrets(AwsCredentials(None, None, None), None, token)
    anyio.run(flows.release, recorder, ledger, Flow.RELEASE, TARGET, sources, secrets, SHA)
    return ledger


def verdicts(ledger: flows.Ledger) -> dict[str, str]:
    return {stage.stage: str(stage.verdict) for stage in ledger.stages}


def test_a_green_release_deploys_in_order_smokes_and_needs_no_rollback() -> None:
    recorder = Recorder()
    ledger = release(recorder)
    assert sorted(recorder.calls[:2]) == ["docs", "publish"]
    # Each service's container, as terraform names it, goes to the deploy engine explicitly.
    assert recorder.calls[2:] == [
        "deploy a,b containers a=tiles,b=timeseries",
        "smoke https://staging.example.org",
    ]
    assert verdicts(ledger) == {
        "publish": "passed",
        "docs": "passed",
        "deploy": "passed",
        "smoke": "passed",
        "rollback": "skipped",
    }
    assert ledger.notes["image"].startswith("1.dkr/repo@sha256:")


def test_a_failed_smoke_rolls_back_from_the_deploy_report() -> None:
    recorder = Recorder(smoke_passes=False)
    ledger = release(recorder)
    assert recorder.calls[-1] == "rollback from out/deploy-report.json"
    assert verdicts(ledger)["smoke"] == "failed"
    assert verdicts(ledger)["rollback"] == "passed"


def test_a_failed_deploy_is_not_smoked_and_leaves_rollback_to_the_engine() -> None:
    recorder = Recorder(deploy_passes=False)
    ledger = release(recorder)
    assert not any(call.startswith(("smoke", "rollback")) for call in recorder.calls)
    assert verdicts(ledger)["smoke"] == "skipped"
    assert verdicts(ledger)["rollback"] == "skipped"


def test_a_failed_publish_stops_before_deploy() -> None:
    recorder = Recorder(publish_fails=True)
    ledger = release(recorder)
    assert not any(call.startswith("deploy") for call in recorder.calls)
    assert verdicts(ledger)["publish"] == "failed"
    assert verdicts(ledger)["deploy"] == "skipped"


@pytest.mark.parametrize(
    ("changed", "token", "committed"),
    [(["terraform/README.md"], GIVEN_TOKEN, True), ([], GIVEN_TOKEN, False), (["x"], None, False)],
)
def test_docs_are_committed_only_when_changed_and_a_token_is_given(
    changed: list[str], token: Any, committed: bool
) -> None:
    recorder = Recorder(docs_changed=changed)
    release(recorder, token)
    assert any(call.startswith("commit-docs") for call in recorder.calls) is committed
