"""`kit/provision --print-env` puts the kit's `dagger` on PATH: evaluated by a real shell, once."""

from __future__ import annotations

import subprocess

from shipyard_kit.cli import path_export


def evaluated_path(line: str, path: str, times: int = 1) -> str:
    script = "\n".join([line] * times) + '\nprintf %s "$PATH"'
    done = subprocess.run(
        ["bash", "-c", script], env={"PATH": path}, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_the_kits_bin_goes_first_on_path() -> None:
    line = path_export("/var/lib/shipyard kit/bin")
    assert evaluated_path(line, "/usr/bin:/bin") == "/var/lib/shipyard kit/bin:/usr/bin:/bin"


def test_evaluating_it_again_adds_nothing() -> None:
    line = path_export("/var/lib/shipyard-kit/bin")
    assert (
        evaluated_path(line, "/usr/bin:/bin", times=3) == "/var/lib/shipyard-kit/bin:/usr/bin:/bin"
    )
