"""The per-process benches run one round as their docstrings say and print both ways and their
ratio: bench/pytest_startup.py (the plugins pyproject.toml names vs every entry point) and
bench/byte_code.py (./dev's byte-code cache vs none)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def bench_lines(script: str, *arguments: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, f"bench/{script}", "--rounds", "1", *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.splitlines()


def test_pytest_startup_prints_both_ways_and_their_ratio() -> None:
    lines = bench_lines("pytest_startup.py")
    assert [line.split(" wall")[0].strip() for line in lines[:2]] == [
        "named plugins",
        "every entry point",
    ]
    assert re.fullmatch(r"named / every entry point: \d+\.\d\dx CPU per pytest process", lines[2])


def test_byte_code_prints_both_ways_and_their_ratio() -> None:
    lines = bench_lines("byte_code.py", "--process", "boto3")
    assert [line.split(" CPU")[0].split() for line in lines[:2]] == [
        ["boto3", "byte-code", "cache"],
        ["boto3", "no", "byte", "code"],
    ]
    assert re.fullmatch(
        r"boto3 +cache / none: \d+\.\d\dx CPU per process; filling the cache once: \d+\.\d\d s",
        lines[2],
    )
