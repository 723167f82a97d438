"""Docs drift gate with the real pinned terraform-docs on fixture modules (copied per test)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from shipyard.tools.gates import GateError, check_docs, generate_docs
from shipyard.tools.gates.__main__ import main as gates_cli
from shipyard.tools.gates.docs import BEGIN_MARKER, END_MARKER, marker_problem

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
REPO = HERE.parents[2]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """fixtures/docs plus the repository's real terraform-docs config."""
    target = tmp_path / "terraform"
    shutil.copytree(FIXTURES / "docs", target)
    shutil.copy(REPO / "terraform" / ".terraform-docs.yml", target / ".terraform-docs.yml")
    return target


def snapshot(tree: Path) -> dict[str, str]:
    return {str(p.relative_to(tree)): p.read_text() for p in sorted(tree.rglob("README.md"))}


def test_committed_fixture_readmes_are_in_sync(tree: Path, terraform_docs_bin: str) -> None:
    report = check_docs(tree, terraform_docs_bin)
    assert report.in_sync
    assert len(report.readmes) == 3
    assert "in sync" in report.to_markdown()


def test_drift_lists_every_drifted_readme_and_writes_nothing(
    tree: Path, terraform_docs_bin: str
) -> None:
    with (tree / "main.tf").open("a") as handle:
        handle.write('\nvariable "region" {\n  type = string\n}\n')
    with (tree / "modules" / "beta" / "main.tf").open("a") as handle:
        handle.write('\noutput "twice" {\n  value = var.size * 2\n}\n')
    before = snapshot(tree)
    report = check_docs(tree, terraform_docs_bin)
    assert report.drifted == (
        str(tree / "README.md"),
        str(tree / "modules" / "beta" / "README.md"),
    )
    assert snapshot(tree) == before
    document = json.loads(report.to_json())
    assert (document["schema_version"], document["verdict"]) == (1, "drifted")

    regenerated = generate_docs(tree, terraform_docs_bin)
    assert regenerated.updated == report.drifted
    assert "region" in (tree / "README.md").read_text()
    assert check_docs(tree, terraform_docs_bin).in_sync
    # Hand-written text outside the markers survives regeneration.
    assert "Hand-written text below." in (tree / "modules" / "beta" / "README.md").read_text()


@pytest.mark.parametrize(
    ("readme_text", "problem"),
    [
        ("# alpha\n\nno markers here\n", "has neither marker"),
        (f"# alpha\n{BEGIN_MARKER}\n", "has 1 BEGIN and 0 END marker(s)"),
        (f"# alpha\n{END_MARKER}\n", "has 0 BEGIN and 1 END marker(s)"),
    ],
)
@pytest.mark.parametrize("command", ["check", "generate"])
def test_missing_markers_are_an_error_naming_the_file_before_anything_runs(
    tree: Path, terraform_docs_bin: str, readme_text: str, problem: str, command: str
) -> None:
    readme = tree / "modules" / "alpha" / "README.md"
    readme.write_text(readme_text)
    before = snapshot(tree)
    action = check_docs if command == "check" else generate_docs
    with pytest.raises(GateError, match=re.escape(f"{readme}: {problem}")):
        action(tree, terraform_docs_bin)
    assert snapshot(tree) == before  # never the silent append


def test_missing_readme_is_an_error(tree: Path, terraform_docs_bin: str) -> None:
    (tree / "modules" / "beta" / "README.md").unlink()
    with pytest.raises(GateError, match=r"beta/README.md: missing \(create it with both markers"):
        check_docs(tree, terraform_docs_bin)


def test_marker_order_is_checked() -> None:
    assert marker_problem("R", f"{END_MARKER}\n{BEGIN_MARKER}\n") == (
        "R: END_TF_DOCS comes before BEGIN_TF_DOCS (swap them)"
    )
    assert marker_problem("R", f"x\n{BEGIN_MARKER}\n{END_MARKER}\n") is None


def test_terraform_docs_absent_is_an_error(tree: Path) -> None:
    with pytest.raises(GateError, match=r"terraform-docs not found .* run \./dev setup"):
        check_docs(tree, "no-such-terraform-docs")


def test_config_is_required(tree: Path, terraform_docs_bin: str) -> None:
    (tree / ".terraform-docs.yml").unlink()
    with pytest.raises(GateError, match=r"\.terraform-docs\.yml: missing"):
        check_docs(tree, terraform_docs_bin)


def test_cli_docs_check_exit_codes(
    tree: Path, terraform_docs_bin: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [str(tree), "--terraform-docs", terraform_docs_bin]
    assert gates_cli(["docs-check", *args]) == 0
    (tree / "modules" / "alpha" / "main.tf").write_text('variable "other" {}\n')
    assert gates_cli(["docs-check", *args]) == 1
    assert "alpha/README.md" in capsys.readouterr().out
    assert gates_cli(["docs", *args]) == 0
    assert gates_cli(["docs-check", *args]) == 0
