"""Wall time of the test suites as `./dev test` runs them (pytest-xdist workers, byte code kept
in ./dev's cache) against a named alternative in the same run: one pytest process, or the same
workers compiling every import anew (PYTHONDONTWRITEBYTECODE, this machine's environment); or
both suites one after the other, as `./dev test` runs them, against both side by side.

The fast suite runs with coverage, as `./dev test` runs it; the engine suite needs the kit
(`eval "$(kit/provision --print-env)"` first) and takes about a quarter of an hour one way.

    .venv/bin/python bench/test_suite.py                 # the fast suite, both ways
    .venv/bin/python bench/test_suite.py --suite engine  # the engine suite, both ways
    .venv/bin/python bench/test_suite.py --against no-byte-code  # workers with and without
    .venv/bin/python bench/test_suite.py --suite both    # one after the other vs side by side
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import busy_cpu_seconds, cores, python_byte_code

REPO = Path(__file__).resolve().parent.parent
DEV_BYTE_CODE = REPO / ".tools" / "pycache"
SUITES = {
    "fast": ["-m", "not engine"],
    "engine": [
        "-m",
        "engine",
        "--no-cov",
        "ci/tests/engine",
        "ci/tests/workflow/test_workflow_runs.py",
    ],
}


def workers(suite: str) -> list[str]:
    """The workers `./dev test` gives the suite, read from ./dev itself."""
    completed = subprocess.run(
        ["./dev", "test-workers", suite], cwd=REPO, capture_output=True, text=True, check=True
    )
    return completed.stdout.split()


def as_dev_test_runs(suite: str) -> list[str]:
    """The suite's pytest arguments with the workers `./dev test` gives it."""
    return [*SUITES[suite], *workers(suite)]


def pytest_command(args: list[str]) -> list[str]:
    return [str(REPO / ".venv/bin/pytest"), "-p", "no:cacheprovider", "-q", *args]


def tally(log: Path) -> str:
    """pytest's last line, framed by "=" unless -q dropped the frame."""
    tallies = re.findall(r"^=* ?(\d+ \w+.* in [0-9.]+s.*?) ?=*$", log.read_text(), re.MULTILINE)
    return tallies[-1] if tallies else "?"


def timed(
    args: list[str], log: Path, cache: Path | None = DEV_BYTE_CODE
) -> tuple[float, float, str]:
    """Wall seconds, the machine's busy CPU seconds meanwhile, and pytest's tally."""
    started = time.monotonic()
    busy = busy_cpu_seconds()
    with log.open("w") as sink:
        done = subprocess.run(
            pytest_command(args),
            cwd=REPO,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=python_byte_code(dict(os.environ), cache),
            check=False,
        )
    elapsed = time.monotonic() - started
    spent = busy_cpu_seconds() - busy
    if done.returncode != 0:
        raise SystemExit(f"pytest {' '.join(args)} failed ({done.returncode}); see {log}")
    return elapsed, spent, tally(log)


def side_by_side(logs: Path) -> tuple[float, float, str]:
    """Both suites started together, each with ./dev test's workers; wall until both are done."""
    started = time.monotonic()
    busy = busy_cpu_seconds()
    env = python_byte_code(dict(os.environ), DEV_BYTE_CODE)
    runs = {}
    for suite in ("fast", "engine"):
        log = logs / f"side-by-side-{suite}.log"
        command = pytest_command(as_dev_test_runs(suite))
        with log.open("w") as sink:
            runs[log] = subprocess.Popen(
                command, cwd=REPO, stdout=sink, stderr=subprocess.STDOUT, env=env
            )
    failed = [str(log) for log, run in runs.items() if run.wait() != 0]
    elapsed = time.monotonic() - started
    if failed:
        raise SystemExit(f"side by side, failed: see {', '.join(failed)}")
    return elapsed, busy_cpu_seconds() - busy, "; ".join(tally(log) for log in runs)


def both_suites(logs: Path) -> int:
    """The two suites one after the other (./dev test) against both side by side."""
    fast = timed(as_dev_test_runs("fast"), logs / "fast.log")
    engine = timed(as_dev_test_runs("engine"), logs / "engine.log")
    after = (fast[0] + engine[0], fast[1] + engine[1], f"{fast[2]}; {engine[2]}")
    side = side_by_side(logs)
    for label, (wall, cpu, tallies) in (("one after another", after), ("side by side", side)):
        print(f"{label + ':':<19} {wall:7.1f} s, machine busy {cpu:7.1f} CPU-s  ({tallies})")
    print(f"side by side / one after another: {side[0] / after[0]:.2f}x on {cores()} cores")
    print(f"logs {logs}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", choices=[*sorted(SUITES), "both"], default="fast")
    parser.add_argument("--against", choices=["one-process", "no-byte-code"], default="one-process")
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="test-suite-bench-"))
    if args.suite == "both":
        return both_suites(logs)
    parallel_args = workers(args.suite)
    suite = [*SUITES[args.suite], *parallel_args]
    if args.against == "one-process":
        alternative = "one pytest process"
        other, other_cpu, other_tally = timed(
            [*SUITES[args.suite], "-n", "0"], logs / "one-process.log"
        )
    else:
        alternative = "no byte code"
        other, other_cpu, other_tally = timed(suite, logs / "no-byte-code.log", cache=None)
    many, many_cpu, many_tally = timed(suite, logs / "workers.log")
    print(f"{args.suite} suite, {alternative + ':':<20} {other:7.1f} s  ({other_tally})")
    print(f"{args.suite} suite, {' '.join(parallel_args):<18} {many:7.1f} s  ({many_tally})")
    print(f"workers / {alternative}: {many / other:.2f}x on {cores()} cores; logs {logs}")
    # The machine's cores run the tests, the servers and tools they start, and the engine alike.
    for label, cpu in ((alternative, other_cpu), ("workers", many_cpu)):
        print(
            f"machine busy, {label}: {cpu:7.1f} CPU-s; spread over {cores()} cores no layout of"
            f" this work beats {cpu / cores():.1f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
