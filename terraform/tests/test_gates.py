"""The project's own gates over terraform/: the checkov security gate (real checkov, the repo's
severity policy and custom platform rules) and the terraform-docs drift check."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from shipyard.gates.docs import check_docs
from shipyard.gates.policy import Severity
from shipyard.gates.scan import run_scan
from shipyard.gates.verdict import ScanReport, Tier

TerraformTree = Any  # the fixture type lives in conftest.py, which is not importable

# Findings the design accepts, each explained in terraform/README.md ("Accepted findings").
ACCEPTED_FINDINGS = {
    ("CKV_AWS_260", 'module.alb.aws_vpc_security_group_ingress_rule.http_redirect["0.0.0.0/0"]'),
    ("CKV_AWS_378", "module.alb.aws_lb_target_group.this"),
    ("CKV_AWS_18", "module.alb.aws_s3_bucket.access_logs"),
    ("CKV_AWS_145", "module.alb.aws_s3_bucket.access_logs"),
    ("CKV_AWS_144", "module.alb.aws_s3_bucket.access_logs"),
    ("CKV_AWS_144", "module.data.aws_s3_bucket.this"),
    ("CKV_AWS_51", "module.ecr.aws_ecr_repository.this"),
}


@pytest.fixture(scope="module")
def scan(checkov_bin: str) -> ScanReport:
    terraform_dir = Path(__file__).resolve().parents[1]
    policy_dir = terraform_dir.parent / "ci" / "policies"
    return run_scan(terraform_dir, policy_dir, Severity.CRITICAL, checkov=checkov_bin)


def test_security_gate_does_not_block(scan: ScanReport) -> None:
    assert not scan.blocked, scan.summary_table()
    assert scan.resource_count > 50, "checkov must have scanned the whole tree"


def test_security_gate_has_no_unmapped_finding(scan: ScanReport) -> None:
    unmapped = [c.finding.check_id for c in scan.findings if c.severity is None]
    assert not unmapped, scan.summary_table()


def test_every_remaining_finding_is_a_documented_trade_off(scan: ScanReport) -> None:
    """Every finding that does not block is an accepted trade-off listed in terraform/README.md
    and waived in ci/policies/waivers.yml; anything new, or a stale waiver, fails here."""
    remaining = {
        (c.finding.check_id, c.finding.resource)
        for c in scan.findings
        if c.tier in (Tier.WARN, Tier.LIST, Tier.WAIVED)
    }
    assert remaining == ACCEPTED_FINDINGS, scan.summary_table()


def test_accepted_trade_offs_are_documented() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for check_id, resource in ACCEPTED_FINDINGS:
        assert f"`{check_id}` `{resource}`" in readme, f"{check_id} on {resource} undocumented"


def test_platform_rules_pass_for_both_services(scan: ScanReport) -> None:
    failed_platform_rules = [
        c.finding.check_id for c in scan.findings if c.finding.check_id.startswith("CKV2_SHIPYARD")
    ]
    assert not failed_platform_rules, scan.summary_table()


def test_module_readmes_match_terraform_docs(terraform_docs_bin: str) -> None:
    terraform_dir = Path(__file__).resolve().parents[1]
    report = check_docs(terraform_dir, terraform_docs_bin)
    assert report.in_sync, report.to_markdown()
    assert len(report.readmes) == 8, "the root README and one per module"


def test_docs_check_catches_a_stale_readme(terraform_docs_bin: str, tmp_path: Path) -> None:
    """The drift check above can fail: a README left behind after a new output is flagged."""
    terraform_dir = Path(__file__).resolve().parents[1]
    copy = tmp_path / "terraform"
    shutil.copytree(terraform_dir, copy, ignore=shutil.ignore_patterns("tests", ".terraform"))
    outputs = copy / "modules" / "ecr" / "outputs.tf"
    outputs.write_text(
        outputs.read_text(encoding="utf-8")
        + '\noutput "extra" {\n  description = "Not in the README yet."\n  value       = 1\n}\n',
        encoding="utf-8",
    )
    report = check_docs(copy, terraform_docs_bin)
    assert not report.in_sync
    assert any("ecr" in readme for readme in report.drifted)
