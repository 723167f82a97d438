"""Wall time of the test suites as `./dev test` runs them (pytest-xdist workers, byte code kept
in ./dev's cache) against a named alternative in the same run: one pytest process, or the same
workers compiling every import anew (PYTHONDONTWRITEBYTECODE, this machine's environment).

The fast suite runs with coverage, as `./dev test` runs it; the engine suite needs the kit
(`eval "$(kit/provision --print-env)"` first) and takes about a quarter of an hour one way.

    .venv/bin/python bench/test_suite.py                 # the fast suite, both ways
    .venv/bin/python bench/test_suite.py --suite engine  # the engine suite, both ways
    .venv/bin/python bench/test_suite.py --against no-byte-code  # workers with and without
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


def timed(
    args: list[str], log: Path, cache: Path | None = DEV_BYTE_CODE
) -> tuple[float, float, str]:
    """Wall seconds, the machine's busy CPU seconds meanwhile, and pytest's tally."""
    started = time.monotonic()
    busy = busy_cpu_seconds()
    with log.open("w") as sink:
        done = subprocess.run(
            [str(REPO / ".venv/bin/pytest"), "-p", "no:cacheprovider", "-q", *args],
            cwd=REPO,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=python_byte_code(dict(os.environ), cache),
            check=False,
        )
    elapsed = time.monotonic() - started
    spent = busy_cpu_seconds() - busy
    # pytest's last line, framed by "=" unless -q dropped the frame.
    tally = re.findall(r"^=* ?(\d+ \w+.* in [0-9.]+s.*?) ?=*$", log.read_text(), re.MULTILINE)
    if done.returncode != 0:
        raise SystemExit(f"pytest {' '.join(args)} failed ({done.returncode}); see {log}")
    return elapsed, spent, tally[-1] if tally else "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", choices=sorted(SUITES), default="fast")
    parser.add_argument("--against", choices=["one-process", "no-byte-code"], default="one-process")
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="test-suite-bench-"))
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
