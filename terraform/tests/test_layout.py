"""Every module is laid out like terraform-aws-modules and documents its interface."""

from __future__ import annotations

from pathlib import Path
from typing import Any

REQUIRED_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md")
TerraformTree = Any  # the fixture type lives in conftest.py, which is not importable


def test_every_module_named_in_the_issue_exists(tree: TerraformTree) -> None:
    present = sorted(p.name for p in (tree.root / "modules").iterdir() if p.is_dir())
    assert present == sorted(tree.module_names)


def test_module_has_the_standard_files(tree: TerraformTree, module: str) -> None:
    directory = tree.module_dir(module)
    missing = [name for name in REQUIRED_FILES if not (directory / name).is_file()]
    assert not missing, f"{directory} lacks {missing}"


def test_every_variable_is_typed_and_described(tree: TerraformTree, module: str) -> None:
    variables = tree.blocks(tree.module_dir(module), "variable")
    assert variables, f"{module} declares no variables"
    untyped = [name for name, body in variables.items() if not body.get("type")]
    undescribed = [
        name for name, body in variables.items() if len(str(body.get("description", ""))) < 10
    ]
    assert not untyped, f"{module}: variables without a type: {untyped}"
    assert not undescribed, f"{module}: variables without a real description: {undescribed}"


def test_every_output_is_described(tree: TerraformTree, module: str) -> None:
    outputs = tree.blocks(tree.module_dir(module), "output")
    assert outputs, f"{module} declares no outputs"
    undescribed = [
        name for name, body in outputs.items() if len(str(body.get("description", ""))) < 10
    ]
    assert not undescribed, f"{module}: outputs without a real description: {undescribed}"


def test_interface_blocks_live_in_their_own_files(tree: TerraformTree, module: str) -> None:
    directory = tree.module_dir(module)
    misplaced = []
    for path in sorted(directory.glob("*.tf")):
        parsed = tree.parse_file(path)
        if "variable" in parsed and path.name != "variables.tf":
            misplaced.append(f"variable in {path.name}")
        if "output" in parsed and path.name != "outputs.tf":
            misplaced.append(f"output in {path.name}")
    assert not misplaced, f"{module}: {misplaced}"


def test_required_scalar_inputs_are_validated(tree: TerraformTree) -> None:
    """Validation where it matters: every string or number input without a default is checked."""
    unchecked = []
    for directory in tree.module_dirs:
        for name, body in tree.blocks(directory, "variable").items():
            scalar = str(body.get("type")) in ("string", "number")
            if scalar and "default" not in body and not body.get("validation"):
                unchecked.append(f"{directory.name}.{name}")
    assert not unchecked, f"required string/number inputs without validation: {unchecked}"


def test_readme_has_each_terraform_docs_marker_once(tree: TerraformTree, module: str) -> None:
    text = (tree.module_dir(module) / "README.md").read_text(encoding="utf-8")
    begin, end = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"
    assert text.count(begin) == 1
    assert text.count(end) == 1
    assert text.index(begin) < text.index(end)


def test_region_defaults_to_sydney(tree: TerraformTree) -> None:
    region = tree.blocks(tree.root, "variable")["region"]
    assert region["default"] == "ap-southeast-2"


def test_backend_is_partial_s3(tree: TerraformTree) -> None:
    terraform_blocks = tree.parse_file(Path(tree.root / "versions.tf"))["terraform"]
    backends = [block["backend"] for block in terraform_blocks if "backend" in block]
    assert len(backends) == 1
    (backend,) = backends[0]
    assert list(backend) == ["s3"]
    # Partial configuration: nothing account-specific is written in the code.
    assert not {k: v for k, v in backend["s3"].items() if not k.startswith("__")}
