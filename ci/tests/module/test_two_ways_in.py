"""`./dev` takes the Dagger CLI a person already has at the pinned version, else the kit, and
says which; the programs it starts keep their byte code in one cache under .tools; the
repository stands alone (nothing points outside it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PINNED = json.loads((REPO / "dagger.json").read_text())["engineVersion"]
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
# The notes folder beside the checkout, spelt so that this file does not match itself.
OUTSIDE = "../" + "shared"
BYTE_CODE_CACHE = REPO / ".tools" / "pycache"


def which_engine(path: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("_EXPERIMENTAL_DAGGER")}
    return subprocess.run(
        [str(REPO / "dev"), "which-engine"],
        env={**env, "PATH": path, **extra},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def fake_dagger(folder: Path, answer: str, exit_code: int = 0) -> Path:
    """A `dagger` that answers `dagger version` as the real CLI does (or fails)."""
    folder.mkdir(parents=True, exist_ok=True)
    cli = folder / "dagger"
    cli.write_text(f'#!/bin/sh\n[ "$1" = version ] || exit 64\necho "{answer}"\nexit {exit_code}\n')
    cli.chmod(0o755)
    return cli


def test_a_dagger_at_the_pinned_version_is_used_without_the_kit(tmp_path: Path) -> None:
    cli = fake_dagger(tmp_path / "my bin", f"dagger {PINNED} (docker-image://x) linux/amd64")
    done = which_engine(f"{cli.parent}:{SYSTEM_PATH}")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"engine: your Dagger CLI {cli} ({PINNED}); no kit needed\n"


def test_the_kits_own_cli_on_path_means_the_kit(tmp_path: Path) -> None:
    """After `eval "$(kit/provision --print-env)"` the kit's CLI is on PATH at the pinned
    version; it is still the kit (its engine, its runner host), not a CLI of one's own."""
    cli = fake_dagger(tmp_path / "bin", f"dagger {PINNED} (docker-image://x) linux/amd64")
    done = which_engine(f"{cli.parent}:{SYSTEM_PATH}", SHIPYARD_KIT_STATE=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("engine: the offline kit (the dagger on PATH is the kit's own")


@pytest.mark.parametrize(
    ("answer", "exit_code", "found"),
    [
        ("dagger v0.20.1 (docker-image://x) linux/amd64", 0, "is v0.20.1"),
        ("Error: unknown command", 1, "is of unknown version"),
    ],
)
def test_a_dagger_at_another_version_is_not_used(
    tmp_path: Path, answer: str, exit_code: int, found: str
) -> None:
    cli = fake_dagger(tmp_path, answer, exit_code)
    done = which_engine(f"{cli.parent}:{SYSTEM_PATH}")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"engine: the offline kit ({cli} {found}, this repository pins {PINNED}); "
        "see kit/README.md\n"
    )


def test_without_a_dagger_the_kit_is_used() -> None:
    done = which_engine(SYSTEM_PATH)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"engine: the offline kit (no dagger on PATH; this repository pins {PINNED}); "
        "see kit/README.md\n"
    )


def test_byte_code_goes_to_the_cache_not_beside_the_sources(tmp_path: Path) -> None:
    """Even where the environment sets PYTHONDONTWRITEBYTECODE: each process would otherwise
    compile every import anew. Seen through a Python `dagger` that imports a module of its own."""
    (tmp_path / "answer.py").write_text('VERSION = "dagger v0.0.1 (fake) linux/amd64"\n')
    cli = tmp_path / "dagger"
    cli.write_text(
        f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(tmp_path)!r})\n"
        "import answer\nprint(answer.VERSION)\n"
    )
    cli.chmod(0o755)
    # An empty prefix is no prefix of one's own, to Python and to ./dev alike.
    done = which_engine(
        f"{tmp_path}:{SYSTEM_PATH}", PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=""
    )
    assert done.returncode == 0, done.stderr
    assert "is v0.0.1" in done.stdout, done.stdout  # the stand-in ran and answered
    cached = list((BYTE_CODE_CACHE / tmp_path.relative_to("/")).glob("answer.*.pyc"))
    assert len(cached) == 1, f"no byte code for answer.py under {BYTE_CODE_CACHE}"
    assert not (tmp_path / "__pycache__").exists()


def test_nothing_in_the_repository_points_outside_it() -> None:
    tracked = subprocess.run(
        ["git", "grep", "-n", "-I", "-e", OUTSIDE, "-e", f"/work/{OUTSIDE[3:]}", "--", "."],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tracked.returncode == 1, f"links outside the repository:\n{tracked.stdout}"


def test_dev_run_finds_its_event_anywhere_and_refuses_an_unknown_one_before_any_setup() -> None:
    done = subprocess.run(
        [str(REPO / "dev"), "run", "--verbose", "--event", "merge_group"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == "./dev run: --event merge_group is not push or pull_request\n"
    assert done.stdout == ""  # refused before setup said anything
