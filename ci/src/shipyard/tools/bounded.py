"""Running a third-party command-line tool with a deadline, keeping whatever it printed.

The tools the pull-request stages drive (codecov-cli, infracost) talk to internet services and
have no overall timeout of their own: a server that accepts the connection and never answers
holds them forever. The process and anything it started run in their own session, so all of
them are stopped together when the deadline passes.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Finished:
    """How a tool ended: its exit code (None when it was stopped) and what it printed."""

    exit_code: int | None
    output: str
    timeout_s: float

    @property
    def timed_out(self) -> bool:
        return self.exit_code is None


def run_bounded(command: Sequence[str], env: Mapping[str, str], timeout_s: float) -> Finished:
    """Run ``command`` with stdout and stderr together, stopping it after ``timeout_s``."""
    try:
        process = subprocess.Popen(
            list(command),
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    except OSError as error:
        return Finished(127, f"Exception: cannot start {command[0]} ({error.strerror})", timeout_s)
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return Finished(None, output, timeout_s)
    return Finished(process.returncode, output, timeout_s)
