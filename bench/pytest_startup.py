"""What one pytest process costs before its first test, with the plugins pyproject.toml names
against the named alternative, pytest's default: every installed plugin's entry point loaded.

Every xdist worker of `./dev test`, every shard of the test stage and every pytest a test starts
pays this once. Rounds alternate the two ways; each runs pytest on one small test file.

    .venv/bin/python bench/pytest_startup.py [--rounds 6]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tomllib
from pathlib import Path

from machine import timed_child

REPO = Path(__file__).resolve().parent.parent
TARGET = "tests/test_pins.py"


def autoloading_addopts() -> str:
    """pyproject.toml's addopts without its plugin list: pytest loading every entry point."""
    options = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]
    kept, named = [], iter(options["ini_options"]["addopts"])
    for option in named:
        if option == "-p":
            next(named)
        elif option != "--disable-plugin-autoload":
            kept.append(option)
    return " ".join(kept)


def run_once(extra: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds of one pytest process."""
    pytest = [str(REPO / ".venv/bin/pytest"), "-q", "-p", "no:cacheprovider"]
    return timed_child([*pytest, *extra, TARGET], REPO)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    rounds = parser.parse_args().rounds
    ways = {"named plugins": [], "every entry point": ["-o", f"addopts={autoloading_addopts()}"]}
    figures: dict[str, list[tuple[float, float]]] = {way: [] for way in ways}
    for _ in range(rounds):
        for way, extra in ways.items():
            figures[way].append(run_once(extra))
    for way, runs in figures.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(
            f"{way:<18} wall median {statistics.median(walls):5.2f} s"
            f" ({min(walls):.2f}-{max(walls):.2f}), CPU median {statistics.median(cpus):5.2f} s"
            f" ({min(cpus):.2f}-{max(cpus):.2f}), {rounds} runs"
        )
    named, every = (statistics.median(c for _, c in figures[way]) for way in ways)
    print(f"named / every entry point: {named / every:.2f}x CPU per pytest process")
    return 0


if __name__ == "__main__":
    sys.exit(main())
