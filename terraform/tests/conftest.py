"""Shared fixtures of the terraform tests: where things are, the real tools, parsed HCL."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import hcl2
import pytest

TERRAFORM_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = TERRAFORM_DIR.parent
MODULE_NAMES = (
    "alb",
    "data",
    "ecr",
    "ecs-service",
    "iam",
    "kms-key",
    "monitoring",
    "network",
    "s3-bucket",
)
ENVIRONMENTS = ("staging", "production")

_PARSE_OPTIONS = hcl2.SerializationOptions(
    strip_string_quotes=True, explicit_blocks=False, with_comments=False
)


class TerraformTree:
    """Read-only view of terraform/ through python-hcl2."""

    root = TERRAFORM_DIR
    repo_root = REPO_ROOT
    environments = ENVIRONMENTS
    module_names = MODULE_NAMES

    def __init__(self) -> None:
        self._cache: dict[Path, dict[str, Any]] = {}

    @property
    def module_dirs(self) -> list[Path]:
        """The root module first, then every module under modules/."""
        return [TERRAFORM_DIR, *(TERRAFORM_DIR / "modules" / name for name in MODULE_NAMES)]

    def module_dir(self, name: str) -> Path:
        return TERRAFORM_DIR if name == "root" else TERRAFORM_DIR / "modules" / name

    def parse_file(self, path: Path) -> dict[str, Any]:
        if path not in self._cache:
            with path.open(encoding="utf-8") as handle:
                self._cache[path] = hcl2.load(handle, serialization_options=_PARSE_OPTIONS)
        return self._cache[path]

    def blocks(self, directory: Path, kind: str, filename: str = "*.tf") -> dict[str, Any]:
        """Labelled blocks of one kind (variable, output, module, locals) as name -> body."""
        found: dict[str, Any] = {}
        for path in sorted(directory.glob(filename)):
            for entry in self.parse_file(path).get(kind, []):
                found.update(entry)
        return found

    def resources(self, directory: Path, kind: str = "resource") -> dict[str, Any]:
        """resource (or data) blocks of a module as "type.name" -> body."""
        found: dict[str, Any] = {}
        for path in sorted(directory.glob("*.tf")):
            for entry in self.parse_file(path).get(kind, []):
                for resource_type, named in entry.items():
                    for name, body in named.items():
                        found[f"{resource_type}.{name}"] = body
        return found

    def tfvars(self, environment: str) -> dict[str, Any]:
        return self.parse_file(TERRAFORM_DIR / "environments" / f"{environment}.tfvars")


def find_tool(name: str) -> str:
    """The project's tool from .tools/bin, else the machine's; fail (never skip) if neither."""
    pinned = REPO_ROOT / ".tools" / "bin" / name
    if pinned.exists() and os.access(pinned, os.X_OK):
        return str(pinned)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} not found in .tools/bin or on PATH: run ./dev setup to install it")
    return found


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test taking `module` runs once for the root module and once per module."""
    if "module" in metafunc.fixturenames:
        metafunc.parametrize("module", ("root", *MODULE_NAMES))


@pytest.fixture(scope="session")
def tree() -> TerraformTree:
    return TerraformTree()


@pytest.fixture(scope="session")
def terraform_bin() -> str:
    return find_tool("terraform")


@pytest.fixture(scope="session")
def checkov_bin() -> str:
    return find_tool("checkov")


@pytest.fixture(scope="session")
def terraform_docs_bin() -> str:
    return find_tool("terraform-docs")


@pytest.fixture
def terraform_env(tmp_path: Path) -> dict[str, str]:
    """Environment for the terraform CLI: an empty CLI config of its own, no update checks."""
    cli_config = tmp_path / "terraformrc"
    cli_config.write_text("", encoding="utf-8")
    env = dict(os.environ)
    env.update(
        TF_CLI_CONFIG_FILE=str(cli_config),
        TF_IN_AUTOMATION="1",
        CHECKPOINT_DISABLE="1",
        TF_DATA_DIR=str(tmp_path / "tf-data"),
    )
    return env
