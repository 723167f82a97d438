"""Shared fixtures: the real pinned tools from .tools/bin (installed by ./dev setup)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from shipyard.tools.gates.checkov import parse_checkov_log, run_checkov

REPO = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TOOLS = REPO / ".tools" / "bin"
POLICIES = REPO / "ci" / "policies"


def tool(name: str) -> str:
    path = TOOLS / name
    assert path.exists(), f"{path} missing: run ./dev setup (scripts/setup.d installs it)"
    return str(path)


@pytest.fixture(scope="session")
def checkov_bin() -> str:
    return tool("checkov")


@pytest.fixture(scope="session")
def terraform_docs_bin() -> str:
    return tool("terraform-docs")


@pytest.fixture(scope="session")
def scan_stdout(checkov_bin: str) -> str:
    """One real checkov run on fixtures/scan with the platform's custom policies."""
    run = run_checkov(FIXTURES / "scan", POLICIES / "custom", checkov=checkov_bin)
    assert parse_checkov_log(run.stderr) == (), run.stderr
    return run.stdout


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """A writable copy of the test severity policy plus the real custom policies."""
    target = tmp_path / "policies"
    target.mkdir()
    shutil.copy(FIXTURES / "policy" / "severity.yml", target / "severity.yml")
    shutil.copytree(POLICIES / "custom", target / "custom")
    return target
