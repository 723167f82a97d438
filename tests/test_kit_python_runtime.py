"""What the kit's Python SDK runtime reads from a module (kit/python-runtime/discover.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DISCOVER = Path(__file__).resolve().parent.parent / "kit" / "python-runtime" / "discover.py"
KIT_PYTHON = "localhost:5000/shipyard/python:3.11-bookworm"
PYPROJECT = '[project]\nname = "my-ci.tools"\nversion = "0.1.0"\n'


def discover(module: Path, name: str = "my-module") -> subprocess.CompletedProcess[str]:
    # As the runtime runs it: a fresh interpreter, no byte-code written beside the source.
    return subprocess.run(
        [sys.executable, "-B", str(DISCOVER), str(module), name, KIT_PYTHON],
        capture_output=True,
        text=True,
        check=False,
    )


def test_names_come_from_the_module_and_its_project(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "requirements.lock").write_text("")
    result = discover(tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "mainObject": "MyModule",
        "projectName": "my-ci.tools",
        "packageName": "my_ci_tools",
        "baseImage": KIT_PYTHON,
        "lock": "requirements",
    }


def test_the_module_name_names_the_project_when_pyproject_does_not(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.dagger]\n")
    plan = json.loads(discover(tmp_path, "shipyard").stdout)
    assert (plan["mainObject"], plan["packageName"], plan["lock"]) == ("Shipyard", "shipyard", "")


def test_uv_lock_wins_over_requirements_lock(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "requirements.lock").write_text("")
    (tmp_path / "uv.lock").write_text("")
    assert json.loads(discover(tmp_path).stdout)["lock"] == "uv"


def test_base_image_setting_replaces_the_kits_image(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        PYPROJECT + '\n[tool.dagger]\nbase-image = "localhost:5000/acme/python:3.12"\n'
    )
    assert json.loads(discover(tmp_path).stdout)["baseImage"] == "localhost:5000/acme/python:3.12"


@pytest.mark.parametrize(
    ("pyproject", "message"),
    [
        (None, "the module has no pyproject.toml"),
        ("[project\n", "kit python runtime: "),
    ],
)
def test_a_module_it_cannot_read_is_refused_in_one_line(
    tmp_path: Path, pyproject: str | None, message: str
) -> None:
    if pyproject is not None:
        (tmp_path / "pyproject.toml").write_text(pyproject)
    result = discover(tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
