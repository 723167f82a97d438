"""`./dev test` runs each suite on pytest-xdist workers: the options `./dev test-workers` prints
are the ones it passes, and they start that many workers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
CORES = len(os.sched_getaffinity(0))
PYTEST = Path(sys.executable).with_name("pytest")


def workers_for(suite: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO / "dev"), "test-workers", suite],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_the_fast_suite_gets_twice_the_cores_and_the_engine_suite_one_more() -> None:
    assert workers_for("fast").stdout.split() == ["-n", str(CORES * 2)]
    assert workers_for("engine").stdout.split() == ["-n", str(CORES + 1)]


def test_an_unknown_suite_is_refused_with_the_choices() -> None:
    done = workers_for("slow")
    assert done.returncode == 2
    assert "usage: ./dev test-workers fast|engine" in done.stderr


def test_dev_test_passes_the_printed_options_to_pytest() -> None:
    dev = (REPO / "dev").read_text()
    assert '"$ROOT/.venv/bin/pytest" -m "not engine" $workers "$@"' in dev  # lint: the wiring
    assert "workers=$(cmd_test_workers engine)" in dev


def run_suite(folder: Path, suite: str) -> subprocess.CompletedProcess[str]:
    options = workers_for(suite).stdout.split()
    # The repository's configuration, as ./dev test runs under it (its plugins, not autoload).
    config = ["-c", str(REPO / "pyproject.toml"), "--rootdir", str(folder)]
    return subprocess.run(
        [str(PYTEST), *config, "-p", "no:cacheprovider", "--no-cov", *options, str(folder)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


WHERE_AM_I = """
import os, pathlib, pytest

@pytest.mark.parametrize("n", range(8))
def test_somewhere(n):
    pathlib.Path(__file__).with_name(f"{n}.worker").write_text(os.environ["PYTEST_XDIST_WORKER"])
"""


@pytest.mark.parametrize("suite", ["fast", "engine"])
def test_the_options_start_that_many_workers(tmp_path: Path, suite: str) -> None:
    (tmp_path / "test_where.py").write_text(WHERE_AM_I)
    done = run_suite(tmp_path, suite)
    assert done.returncode == 0, done.stdout[-2000:]
    expected = CORES * 2 if suite == "fast" else CORES + 1
    assert f"created: {expected}/{expected} workers" in done.stdout, done.stdout[-2000:]
    workers = {path.read_text() for path in tmp_path.glob("*.worker")}
    assert len(workers) > 1, "every test ran on one worker"
