"""Running the core's command-line entry points inside the engine, and reading their verdicts.

The core's CLIs (``python -m shipyard.tools.gates|deploy|smoke|rehearsal``) exit 0 for a pass,
1 for a verdict against (blocked, drifted, failed rollout) and 2 when they could not decide.
Output of a step that mounts secrets is scrubbed of them by the engine.
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
