"""bench/pytest_startup.py compares the repository's pytest configuration with pytest's default
(every entry point loaded) and prints both; one round, run as its docstring says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_one_round_prints_both_ways_and_their_ratio() -> None:
    done = subprocess.run(
        [sys.executable, "bench/pytest_startup.py", "--rounds", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert [line.split(" wall")[0].strip() for line in lines[:2]] == [
        "named plugins",
        "every entry point",
    ]
    assert re.fullmatch(r"named / every entry point: \d+\.\d\dx CPU per pytest process", lines[2])
