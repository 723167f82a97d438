"""bench/byte_code.py compares ./dev's byte-code cache with none and prints both; one round of
the client CLI, run as its docstring says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_one_round_prints_both_ways_and_their_ratio() -> None:
    done = subprocess.run(
        [sys.executable, "bench/byte_code.py", "--rounds", "1", "--process", "cli"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert [line.split(" CPU")[0].split() for line in lines[:2]] == [
        ["cli", "byte-code", "cache"],
        ["cli", "no", "byte", "code"],
    ]
    assert re.fullmatch(
        r"cli +cache / none: \d+\.\d\dx CPU per process; filling the cache once: \d+\.\d\d s",
        lines[2],
    )
