"""What the Python processes `./dev test` starts cost with ./dev's byte-code cache
(PYTHONPYCACHEPREFIX under .tools) against the named alternative, this machine's own environment:
PYTHONDONTWRITEBYTECODE=1 and no byte code in the virtualenv, so every process compiles every
module it imports anew.

Each xdist worker collects the suite, and many tests start the client CLI. Rounds alternate the
two ways; the cache lives in a temporary folder, filled by one untimed run first (its cost is
printed: the first run after a change pays it once).

    .venv/bin/python bench/byte_code.py [--rounds 4] [--process collect|cli|boto3 ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from machine import python_byte_code, timed_child

REPO = Path(__file__).resolve().parent.parent
PYTHON = REPO / ".venv" / "bin" / "python"
PROCESSES = {
    "collect": [
        str(PYTHON),
        "-m",
        "pytest",
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
        "--no-cov",
        "-m",
        "not engine",
    ],
    "cli": [str(PYTHON), "-m", "shipyard.module.cli", "--help"],
    # What each deploy engine run (and the moto-backed test servers) imports first.
    "boto3": [str(PYTHON), "-c", "import boto3"],
}


def cpu_seconds(command: list[str], env: dict[str, str]) -> float:
    return timed_child(command, REPO, env)[1]


def environments(cache: Path) -> dict[str, dict[str, str]]:
    return {
        "byte-code cache": python_byte_code(dict(os.environ), cache),
        "no byte code": python_byte_code(dict(os.environ), None),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--process", choices=PROCESSES, action="append")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as cache:
        ways = environments(Path(cache))
        for name in arguments.process or list(PROCESSES):
            command = PROCESSES[name]
            filling = cpu_seconds(command, ways["byte-code cache"])
            figures: dict[str, list[float]] = {way: [] for way in ways}
            for _ in range(arguments.rounds):
                for way, env in ways.items():
                    figures[way].append(cpu_seconds(command, env))
            for way, cpus in figures.items():
                print(
                    f"{name:<8} {way:<16} CPU median {statistics.median(cpus):5.2f} s"
                    f" ({min(cpus):.2f}-{max(cpus):.2f}), {arguments.rounds} runs"
                )
            cached, compiled = (statistics.median(figures[way]) for way in ways)
            print(
                f"{name:<8} cache / none: {cached / compiled:.2f}x CPU per process;"
                f" filling the cache once: {filling:.2f} s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
