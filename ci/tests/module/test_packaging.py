"""The module installs the way `dagger call` installs it.

dagger's Python runtime (and the kit's, kit/python-runtime) vendors the SDK into the module's
`sdk/` as dagger-io 0.0.0, re-compiles requirements.lock from pyproject.toml and
sdk/pyproject.toml, installs both editable with the lock, then checks the environment. These
tests run those commands with the uv ./dev installs (decide/pins.toml) on a copy of ci/ with
PyPI's dagger-io vendored as the kit vendors it (so they need PyPI, like `./dev lock`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from shipyard_kit.sdk import vendor_python_sdk
from shipyard_kit.settings import SDK_LOCK

REPO = Path(__file__).resolve().parents[3]
UV = REPO / ".tools" / "uv" / "bin" / "uv"
RUNTIME = REPO / "kit" / "python-runtime" / "runtime" / "main.dang"
COMPILE = [
    "uv", "pip", "compile", "-q", "--universal", "-o", "requirements.lock",
    "pyproject.toml", "sdk/pyproject.toml",
]  # fmt: skip
INSTALL = ["uv", "pip", "install", "-e", "./sdk", "-e", ".", "--no-deps", "-r", "requirements.lock"]
CHECK = ["uv", "pip", "check"]
# ci/pyproject.toml before the fix: PyPI's release pinned, no source for the vendored SDK.
RELEASE_PIN = ('  "dagger-io",\n', '  "dagger-io==0.21.8",\n')


@pytest.fixture(scope="module")
def vendored_sdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scratch = tmp_path_factory.mktemp("sdk")
    vendor_python_sdk(scratch / "sdk", SDK_LOCK.read_text(), scratch)
    return scratch / "sdk"


def module_copy(target: Path, sdk: Path, pyproject: str) -> Path:
    """ci/ as the runtime mounts it: sources and lock, `sdk/` replaced by the vendored SDK."""
    shutil.copytree(REPO / "ci" / "src", target / "src")
    shutil.copy2(REPO / "ci" / "requirements.lock", target / "requirements.lock")
    (target / "pyproject.toml").write_text(pyproject)
    shutil.copytree(sdk, target / "sdk")
    return target


def run_runtime_install(module: Path, venv: Path) -> subprocess.CompletedProcess[str]:
    """The runtime's compile, install and check, stopping at the first failure."""
    subprocess.run([str(UV), "venv", "-q", "-p", "python3.11", str(venv)], check=True)
    env = {**os.environ, "VIRTUAL_ENV": str(venv), "UV_NATIVE_TLS": "1"}
    result = subprocess.CompletedProcess[str](args=[], returncode=0, stdout="", stderr="")
    for command in (COMPILE, INSTALL, CHECK):
        result = subprocess.run(
            [str(UV), *command[1:]], cwd=module, env=env, capture_output=True, text=True
        )
        if result.returncode != 0:
            return result
    return result


def test_the_commands_are_the_runtimes() -> None:
    runtime = RUNTIME.read_text()
    for command in (COMPILE, INSTALL[:7], INSTALL[7:], CHECK):
        assert ", ".join(f'"{word}"' for word in command) in runtime, command


def test_the_module_installs_with_the_vendored_sdk(tmp_path: Path, vendored_sdk: Path) -> None:
    pyproject = (REPO / "ci" / "pyproject.toml").read_text()
    module = module_copy(tmp_path / "ci", vendored_sdk, pyproject)
    result = run_runtime_install(module, tmp_path / "venv")
    assert result.returncode == 0, result.stderr
    assert "All installed packages are compatible" in result.stdout + result.stderr
    version = subprocess.run(
        [str(tmp_path / "venv" / "bin" / "python"), "-c",
         "import importlib.metadata as m, dagger; print(m.version('dagger-io'), dagger.__file__)"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert version[0] == "0.0.0"  # the vendored SDK, not PyPI's release
    assert version[1].startswith(str(module / "sdk"))


def test_pinning_the_release_instead_fails_the_install(tmp_path: Path, vendored_sdk: Path) -> None:
    pyproject = (REPO / "ci" / "pyproject.toml").read_text()
    assert RELEASE_PIN[0] in pyproject
    pinned = re.sub(
        r"^\[tool\.uv\.sources\]\n[^\[]*", "", pyproject.replace(*RELEASE_PIN), flags=re.MULTILINE
    )
    assert "tool.uv.sources" not in pinned
    module = module_copy(tmp_path / "ci", vendored_sdk, pinned)
    result = run_runtime_install(module, tmp_path / "venv")
    assert result.returncode != 0
    assert "dagger-io==0.21.8" in result.stderr
