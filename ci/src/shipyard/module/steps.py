"""Running the core's command-line entry points inside the engine, and reading their verdicts.

The core's CLIs (``python -m shipyard.tools.gates|deploy|smoke|rehearsal``) exit 0 for a pass,
1 for a verdict against (blocked, drifted, failed rollout) and 2 when they could not decide.
Output of a step that mounts secrets is scrubbed of them by the engine.

Two ways to run one: `judged` for a function a person calls (a verdict against is a failed
exec, so `dagger call -i` opens a shell in that container), `run` for the compositions, which
read the reports a failed step left behind (a failed deploy's restore points, for the rollback).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import dagger

PASSED: Final = 0
VERDICT_AGAINST: Final = 1
TAIL_LINES: Final = 40


class StageFailed(Exception):
    """A stage's tool returned a verdict against, or could not run; the text is its own report."""


@dataclass(frozen=True)
class StepRun:
    """One finished step: its exit code, output and the container state it left."""

    what: str
    exit_code: int
    stdout: str
    stderr: str
    container: dagger.Container

    @property
    def passed(self) -> bool:
        return self.exit_code == PASSED

    def failure(self) -> StageFailed:
        if self.exit_code == VERDICT_AGAINST and self.stdout.strip():
            return StageFailed(f"{self.what}: {self.stdout.strip()}")
        return StageFailed(
            f"{self.what} could not run (exit {self.exit_code}): {tail(self.stderr or self.stdout)}"
        )

    def output_or_raise(self) -> str:
        if not self.passed:
            raise self.failure()
        return self.stdout


@dataclass(frozen=True)
class Judgement:
    """How a stage names a verdict against, and what to do about it."""

    what: str
    verdict: str  # e.g. "blocked", "drifted"
    fix: str
    # Where the tool prints its report: the gates and smoke on stdout; the deploy engine's
    # stdout is its progress log, so it prints the dossier of a failed verdict on stderr.
    report_on: str = "stdout"

    def failure(self, exit_code: int, stdout: str, stderr: str) -> StageFailed:
        if exit_code != VERDICT_AGAINST:
            return StageFailed(
                f"{self.what} could not run (exit {exit_code}): {tail(stderr or stdout)}"
            )
        report = (stderr if self.report_on == "stderr" else stdout).strip()
        return StageFailed(
            f"{self.what}: {self.verdict} (exit 1); {self.fix}\n{report or tail(stderr or stdout)}"
        )


async def judged(container: dagger.Container, args: Sequence[str], judgement: Judgement) -> StepRun:
    """Run a step whose exit code is its verdict, as an exec that fails with it: `dagger call -i`
    then has a failed exec to open a shell in. Raises StageFailed naming the verdict and the fix;
    on a pass the returned container holds the reports the step wrote."""
    done = container.with_exec(list(args))
    try:
        stdout = await done.stdout()
    except dagger.ExecError as error:
        raise judgement.failure(error.exit_code, error.stdout, error.stderr) from error
    return StepRun(judgement.what, PASSED, stdout, "", done)


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def fresh(container: dagger.Container) -> dagger.Container:
    """Make the next step run anew: it acts on the world (deploys, pushes, probes a live URL),
    and an identical step earlier in the engine's cache must not stand in for it."""
    return container.with_env_variable("SHIPYARD_INVOCATION", uuid.uuid4().hex)


async def run(container: dagger.Container, args: Sequence[str], what: str) -> StepRun:
    """Run a step to completion whatever its exit code, so every verdict can be read."""
    done = container.with_exec(list(args), expect=dagger.ReturnType.ANY)
    return StepRun(
        what=what,
        exit_code=await done.exit_code(),
        stdout=await done.stdout(),
        stderr=await done.stderr(),
        container=done,
    )


async def json_file(container: dagger.Container, path: str) -> dict[str, Any] | None:
    """A JSON report the step wrote, or None when it wrote none: it stopped before, perhaps
    before making the report's folder (an argument error), and its own message then explains."""
    if not await container.exists(path, expected_type=dagger.ExistsType.REGULAR_TYPE):
        return None
    document = json.loads(await container.file(path).contents())
    return document if isinstance(document, dict) else None


@dataclass(frozen=True)
class AwsCredentials:
    """AWS credentials handed to step containers as secret environment variables only."""

    access_key_id: dagger.Secret | None
    secret_access_key: dagger.Secret | None
    session_token: dagger.Secret | None

    def apply(self, container: dagger.Container) -> dagger.Container:
        for name, secret in self.variables().items():
            container = container.with_secret_variable(name, secret)
        return container

    def variables(self) -> Mapping[str, dagger.Secret]:
        given = {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }
        return {name: secret for name, secret in given.items() if secret is not None}
