"""The real terraform CLI over terraform/: formatting, and validation against the real provider."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

TerraformTree = Any  # the fixture type lives in conftest.py, which is not importable

PROVIDER = "registry.terraform.io/hashicorp/aws"
MIRROR_SCRIPT = "scripts/terraform-provider-mirror.sh"


def _run(
    args: list[str], cwd: Path, env: dict[str, str], timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _copy_configuration(tree: TerraformTree, destination: Path) -> Path:
    """The .tf files of the root and its modules, without READMEs, tests or local state."""
    target = destination / "terraform"
    shutil.copytree(
        tree.root,
        target,
        ignore=shutil.ignore_patterns("tests", "*.md", ".terraform", "environments"),
    )
    return target


def test_fmt_check_is_clean(
    tree: TerraformTree, terraform_bin: str, terraform_env: dict[str, str]
) -> None:
    result = _run([terraform_bin, "fmt", "-check", "-recursive", "-diff"], tree.root, terraform_env)
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}{result.stderr}"


def test_fmt_check_catches_a_misformatted_file(
    tree: TerraformTree, terraform_bin: str, terraform_env: dict[str, str], tmp_path: Path
) -> None:
    """The check above can fail: the same command flags a file that is not canonical."""
    copy = _copy_configuration(tree, tmp_path)
    (copy / "main.tf").write_text(
        (copy / "main.tf").read_text(encoding="utf-8").replace("  name       =", "name=", 1),
        encoding="utf-8",
    )
    result = _run([terraform_bin, "fmt", "-check", "-recursive"], copy, terraform_env)
    assert result.returncode != 0
    assert "main.tf" in result.stdout


def _mirror() -> Path:
    configured = os.environ.get("TF_PROVIDER_MIRROR")
    root = Path(__file__).resolve().parents[2]
    return Path(configured) if configured else root / ".tools" / "terraform-providers"


def _require_provider_mirror() -> Path:
    mirror = _mirror()
    if not any((mirror / PROVIDER).glob("*/*/terraform-provider-aws*")):
        pytest.skip(
            f"no {PROVIDER} provider in the filesystem mirror {mirror}: this machine cannot "
            "download it (no provider registry) or build it (the Go module proxy serves no "
            f"version >= 5.81 of its module); fill the mirror with {MIRROR_SCRIPT} where the "
            "registry is reachable, or point TF_PROVIDER_MIRROR at one"
        )
    return mirror


def _init_against_mirror(
    copy: Path, mirror: Path, terraform_bin: str, env: dict[str, str], tmp_path: Path
) -> dict[str, str]:
    cli_config = tmp_path / "mirror.tfrc"
    cli_config.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["{PROVIDER}"]\n  }}\n'
        "}\n",
        encoding="utf-8",
    )
    env = {**env, "TF_CLI_CONFIG_FILE": str(cli_config)}
    init = _run([terraform_bin, "init", "-backend=false", "-input=false"], copy, env, timeout=600)
    assert init.returncode == 0, f"terraform init against {mirror} failed:\n{init.stderr}"
    return env


def test_validate_with_the_real_aws_provider(
    tree: TerraformTree, terraform_bin: str, terraform_env: dict[str, str], tmp_path: Path
) -> None:
    mirror = _require_provider_mirror()
    copy = _copy_configuration(tree, tmp_path)
    env = _init_against_mirror(copy, mirror, terraform_bin, terraform_env, tmp_path)
    result = _run([terraform_bin, "validate", "-json"], copy, env)
    report = json.loads(result.stdout)
    assert report["valid"], json.dumps(report["diagnostics"], indent=2)
    assert report["warning_count"] == 0, json.dumps(report["diagnostics"], indent=2)


def test_validate_rejects_an_attribute_the_provider_does_not_have(
    tree: TerraformTree, terraform_bin: str, terraform_env: dict[str, str], tmp_path: Path
) -> None:
    """The validation above can fail: a misspelt argument is caught by the provider schema."""
    mirror = _require_provider_mirror()
    copy = _copy_configuration(tree, tmp_path)
    main = copy / "modules" / "ecs-service" / "main.tf"
    main.write_text(
        main.read_text(encoding="utf-8").replace(
            "deployment_maximum_percent", "deployment_maximal_percent", 1
        ),
        encoding="utf-8",
    )
    env = _init_against_mirror(copy, mirror, terraform_bin, terraform_env, tmp_path)
    result = _run([terraform_bin, "validate", "-json"], copy, env)
    report = json.loads(result.stdout)
    assert not report["valid"]
    assert "deployment_maximal_percent" in result.stdout
