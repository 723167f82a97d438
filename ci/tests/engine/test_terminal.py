"""The client CLI on a terminal: a live line while a stage waits, drawn only on a TTY."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parents[3]
# Nothing answers there: the smoke suite retries until its deadline, a stage that waits.
SMOKE = ["smoke", "--url", "http://127.0.0.1:9", "--deadline", "6"]
CALL_TIMEOUT_SECONDS = 600


def on_a_terminal(args: list[str]) -> tuple[int, str]:
    """Run the client CLI with stdout and stderr on a pseudo-terminal; its exit code and output."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI, its output on the terminal
        os.chdir(REPO)
        os.execv(sys.executable, [sys.executable, "-m", "shipyard.module.cli", *args])  # noqa: S606
    output = b""
    deadline = time.monotonic() + CALL_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_a_waiting_stage_gets_a_live_line_on_a_terminal_only() -> None:
    code, shown = on_a_terminal(SMOKE)
    assert code == 1, shown[-3000:]
    assert "▶ smoke" in shown
    assert "\r\x1b[K  … smoke waiting " in shown, shown[-3000:]
    assert "✖ smoke failed in " in shown
    piped = subprocess.run(
        [sys.executable, "-m", "shipyard.module.cli", *SMOKE],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=CALL_TIMEOUT_SECONDS,
        check=False,
    )
    assert piped.returncode == 1, piped.stderr[-3000:]
    assert "▶ smoke" in piped.stderr
    assert "waiting" not in piped.stderr
    assert "\x1b[" not in piped.stdout + piped.stderr
