"""The project's own gates over terraform/: the checkov security gate (real checkov, the repo's
severity policy and custom platform rules) and the terraform-docs drift check."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from shipyard.tools.gates.checkov import CheckovRun, run_checkov
from shipyard.tools.gates.docs import check_docs
from shipyard.tools.gates.policy import Severity, load_policy
from shipyard.tools.gates.scan import verdict_from_output
from shipyard.tools.gates.verdict import ScanReport, Tier

TerraformTree = Any  # the fixture type lives in conftest.py, which is not importable

# Findings the design accepts, each explained in terraform/README.md ("Accepted findings").
ACCEPTED_FINDINGS = {
    ("CKV_AWS_260", 'module.alb.aws_vpc_security_group_ingress_rule.http_redirect["0.0.0.0/0"]'),
    ("CKV_AWS_378", "module.alb.aws_lb_target_group.this"),
    ("CKV_AWS_18", "module.alb.module.access_log_bucket.aws_s3_bucket.this"),
    ("CKV_AWS_145", "module.alb.module.access_log_bucket.aws_s3_bucket.this"),
    ("CKV_AWS_144", "module.alb.module.access_log_bucket.aws_s3_bucket.this"),
    ("CKV_AWS_144", "module.data.module.bucket.aws_s3_bucket.this"),
    ("CKV_AWS_51", "module.ecr.aws_ecr_repository.this"),
}


# The hardening of a bucket and the checkov check of each part.
BUCKET_CHECKS = {
    "CKV_AWS_19": "encryption at rest",
    "CKV_AWS_145": "encryption with KMS",
    "CKV_AWS_18": "server access logging",
    "CKV_AWS_21": "versioning",
    "CKV2_AWS_6": "public access block",
    "CKV2_AWS_61": "lifecycle configuration",
    "CKV2_AWS_62": "event notifications",
}
BUCKETS = (
    "module.alb.module.access_log_bucket.aws_s3_bucket.this",
    "module.data.module.bucket.aws_s3_bucket.this",
)
TERRAFORM_DIR = Path(__file__).resolve().parents[1]
POLICY_DIR = TERRAFORM_DIR.parent / "ci" / "policies"


@pytest.fixture(scope="module")
def checkov_output(checkov_bin: str) -> CheckovRun:
    """checkov's JSON report and log over terraform/, run once, as the gate (run_scan) runs it."""
    return run_checkov(TERRAFORM_DIR, load_policy(POLICY_DIR).custom_dir, checkov=checkov_bin)


@pytest.fixture(scope="module")
def scan(checkov_output: CheckovRun) -> ScanReport:
    policy = load_policy(POLICY_DIR)
    return verdict_from_output(
        checkov_output.stdout,
        policy,
        Severity.CRITICAL,
        str(TERRAFORM_DIR),
        dt.date.today(),
        checkov_output.stderr,
    )


def test_security_gate_does_not_block(scan: ScanReport) -> None:
    assert not scan.blocked, scan.summary_table()
    assert scan.resource_count > 50, "checkov must have scanned the whole tree"


def test_security_gate_has_no_unmapped_finding(scan: ScanReport) -> None:
    unmapped = [c.finding.check_id for c in scan.findings if c.severity is None]
    assert not unmapped, scan.summary_table()


def test_every_remaining_finding_is_a_documented_trade_off(scan: ScanReport) -> None:
    """Every finding that does not block is an accepted trade-off listed in terraform/README.md
    and waived in ci/policies/waivers.yml; anything new, or a stale waiver, fails here. The gate
    reports a finding of a shared module (s3-bucket) once for all the instances it failed on:
    each instance counts on its own."""
    remaining = {
        (c.finding.check_id, resource)
        for c in scan.findings
        if c.tier in (Tier.WARN, Tier.LIST, Tier.WAIVED)
        for resource in c.resources
    }
    assert remaining == ACCEPTED_FINDINGS, scan.summary_table()


def test_every_accepted_finding_has_a_waiver_of_its_own() -> None:
    """The gate waives a shared module's finding when any one instance has a waiver, so a
    waiver of the log bucket must not be what covers the data bucket."""
    policy = load_policy(POLICY_DIR)
    unwaived = [
        (check_id, resource)
        for check_id, resource in ACCEPTED_FINDINGS
        if policy.waiver_for(check_id, resource) is None
    ]
    assert not unwaived, unwaived


def test_accepted_trade_offs_are_documented() -> None:
    readme = (TERRAFORM_DIR / "README.md").read_text(encoding="utf-8")
    for check_id, resource in ACCEPTED_FINDINGS:
        assert f"`{check_id}` `{resource}`" in readme, f"{check_id} on {resource} undocumented"


def test_checkov_decides_every_bucket_check_on_both_buckets(checkov_output: CheckovRun) -> None:
    """A check checkov cannot resolve (a value from another module's nested module) is dropped
    from its report, neither passed nor failed; the findings above would not notice that."""
    document = json.loads(checkov_output.stdout)
    reports = document if isinstance(document, list) else [document]
    decided = {
        (check["check_id"], check["resource"])
        for report in reports
        for outcome in ("passed_checks", "failed_checks")
        for check in report["results"][outcome]
    }
    undecided = [
        f"{check_id} ({part}) on {bucket}"
        for check_id, part in BUCKET_CHECKS.items()
        for bucket in BUCKETS
        if (check_id, bucket) not in decided
    ]
    assert not undecided, undecided


def test_platform_rules_pass_for_both_services(scan: ScanReport) -> None:
    failed_platform_rules = [
        c.finding.check_id for c in scan.findings if c.finding.check_id.startswith("CKV2_SHIPYARD")
    ]
    assert not failed_platform_rules, scan.summary_table()


def test_module_readmes_match_terraform_docs(terraform_docs_bin: str) -> None:
    report = check_docs(TERRAFORM_DIR, terraform_docs_bin)
    assert report.in_sync, report.to_markdown()
    assert len(report.readmes) == 10, "the root README and one per module"


def test_docs_check_catches_a_stale_readme(terraform_docs_bin: str, tmp_path: Path) -> None:
    """The drift check above can fail: a README left behind after a new output is flagged."""
    copy = tmp_path / "terraform"
    shutil.copytree(TERRAFORM_DIR, copy, ignore=shutil.ignore_patterns("tests", ".terraform"))
    outputs = copy / "modules" / "ecr" / "outputs.tf"
    outputs.write_text(
        outputs.read_text(encoding="utf-8")
        + '\noutput "extra" {\n  description = "Not in the README yet."\n  value       = 1\n}\n',
        encoding="utf-8",
    )
    report = check_docs(copy, terraform_docs_bin)
    assert not report.in_sync
    assert any("ecr" in readme for readme in report.drifted)
