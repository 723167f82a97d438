"""Security gate on real checkov output for fixtures/scan (one run per session)."""

from __future__ import annotations

import datetime as dt
import json
import stat
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml
from shipyard.tools.gates import GateError, Severity, Tier, run_scan, verdict_from_output
from shipyard.tools.gates.__main__ import main as gates_cli
from shipyard.tools.gates.checkov import CheckovResults, Finding, parse_checkov_output, run_checkov
from shipyard.tools.gates.policy import load_policy
from shipyard.tools.gates.verdict import ScanReport
from shipyard.tools.gates.verdict import decide as verdict_decide

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
POLICIES = HERE.parents[1] / "policies"


TODAY = dt.date(2026, 6, 1)


def decide(stdout: str, policy_dir: Path, threshold: Severity = Severity.CRITICAL) -> ScanReport:
    return verdict_from_output(stdout, load_policy(policy_dir), threshold, "terraform", TODAY)


def by_check(report: ScanReport, check_id: str) -> list[tuple[Tier, str]]:
    return [(c.tier, c.finding.resource) for c in report.findings if c.finding.check_id == check_id]


def waiver(
    check: str, resource: str, reason: str = "test", expires: str = "2026-11-01"
) -> dict[str, str]:
    return {"check": check, "resource": resource, "reason": reason, "expires": expires}


def write_waivers(policy_dir: Path, *waivers: Mapping[str, object]) -> None:
    text = yaml.safe_dump({"schema_version": 1, "waivers": list(waivers)})
    (policy_dir / "waivers.yml").write_text(text)


def test_critical_blocks_with_location_and_fix(scan_stdout: str, policy_dir: Path) -> None:
    report = decide(scan_stdout, policy_dir)
    assert report.blocked
    [ssh] = [c for c in report.findings if c.finding.check_id == "CKV_AWS_24"]
    assert ssh.tier is Tier.BLOCK
    assert ssh.severity is Severity.CRITICAL
    assert ssh.finding.location == "terraform/main.tf:4"
    assert ssh.fix == "Close port 22"
    table = report.summary_table()
    assert "BLOCK CKV_AWS_24 [CRITICAL] terraform/main.tf:4" in table
    assert "fix: Close port 22" in table


def test_high_warns_below_threshold_and_blocks_at_it(scan_stdout: str, policy_dir: Path) -> None:
    assert by_check(decide(scan_stdout, policy_dir), "CKV_AWS_260") == [
        (Tier.WARN, "aws_security_group.http_open")
    ]
    at_high = decide(scan_stdout, policy_dir, Severity.HIGH)
    assert by_check(at_high, "CKV_AWS_260") == [(Tier.BLOCK, "aws_security_group.http_open")]
    # MEDIUM stays listed at threshold HIGH, blocks at threshold MEDIUM.
    assert by_check(at_high, "CKV_AWS_163")[0][0] is Tier.LIST
    assert by_check(decide(scan_stdout, policy_dir, Severity.MEDIUM), "CKV_AWS_163")[0][0] is (
        Tier.BLOCK
    )


def test_medium_and_low_are_listed(scan_stdout: str, policy_dir: Path) -> None:
    report = decide(scan_stdout, policy_dir)
    listed = {c.finding.check_id for c in report.tier(Tier.LIST)}
    assert {"CKV_AWS_163", "CKV_AWS_338", "CKV2_AWS_5"} <= listed


def test_unmapped_check_fails_closed_naming_file_and_line(
    scan_stdout: str, policy_dir: Path
) -> None:
    report = decide(scan_stdout, policy_dir)
    [unmapped] = [c for c in report.findings if c.severity is None]
    assert unmapped.finding.check_id == "CKV_AWS_136"
    assert unmapped.tier is Tier.BLOCK
    assert str(policy_dir / "severity.yml") in unmapped.why
    yaml_line = unmapped.why.splitlines()[-1]
    assert yaml_line.startswith("  CKV_AWS_136: {severity: HIGH, reason: ")
    # The printed line, pasted as told, makes the check known (then a HIGH: a warning).
    with (policy_dir / "severity.yml").open("a") as handle:
        handle.write(yaml_line + "\n")
    fixed = decide(scan_stdout, policy_dir)
    assert by_check(fixed, "CKV_AWS_136") == [(Tier.WARN, "aws_ecr_repository.mutable")]


def test_custom_platform_policies_carry_their_severity_offline(
    scan_stdout: str, policy_dir: Path
) -> None:
    report = decide(scan_stdout, policy_dir)
    assert sorted(by_check(report, "CKV2_SHIPYARD_1")) == [
        (Tier.BLOCK, "aws_ecs_service.no_rollback"),
        (Tier.BLOCK, "aws_ecs_service.unguarded"),
    ]
    assert by_check(report, "CKV2_SHIPYARD_2") == [(Tier.BLOCK, "aws_ecr_repository.mutable")]
    assert by_check(report, "CKV2_SHIPYARD_3") == [(Tier.BLOCK, "aws_ecs_service.unguarded")]
    guarded = [c for c in report.findings if c.finding.resource == "aws_ecs_service.guarded"]
    assert guarded == []
    # checkov itself reported the severity (metadata.severity), not our severity.yml.
    results = parse_checkov_output(scan_stdout)
    severities = {f.check_id: f.checkov_severity for f in results.failed}
    assert severities["CKV2_SHIPYARD_1"] == "CRITICAL"
    assert severities["CKV_AWS_24"] is None


def test_waiver_is_honoured_and_listed(scan_stdout: str, policy_dir: Path) -> None:
    write_waivers(
        policy_dir,
        waiver(
            "CKV_AWS_24", "aws_security_group.ssh_open", "bastion, closed next sprint", "2026-11-27"
        ),
    )
    report = decide(scan_stdout, policy_dir)
    assert by_check(report, "CKV_AWS_24") == [(Tier.WAIVED, "aws_security_group.ssh_open")]
    markdown = report.to_markdown()
    assert "#### Waived" in markdown
    assert "bastion, closed next sprint" in markdown
    assert "until 2026-11-27" in markdown


def test_expired_waiver_blocks(scan_stdout: str, policy_dir: Path) -> None:
    write_waivers(
        policy_dir, waiver("CKV_AWS_260", "aws_security_group.http_open", "temporary", "2026-05-31")
    )
    report = decide(scan_stdout, policy_dir)
    [item] = [c for c in report.findings if c.finding.check_id == "CKV_AWS_260"]
    assert item.tier is Tier.BLOCK
    assert "waiver expired on 2026-05-31" in item.why
    # The expiry day itself is still covered.
    on_expiry = verdict_from_output(
        scan_stdout, load_policy(policy_dir), Severity.CRITICAL, "terraform", dt.date(2026, 5, 31)
    )
    assert by_check(on_expiry, "CKV_AWS_260")[0][0] is Tier.WAIVED


def test_resource_waiver_covers_only_its_resource_and_unused_are_listed(
    scan_stdout: str, policy_dir: Path
) -> None:
    write_waivers(
        policy_dir,
        waiver("CKV2_SHIPYARD_1", "aws_ecs_service.unguarded", "demo"),
        waiver("CKV_AWS_999", "aws_ecs_service.unguarded", "nothing fails this"),
    )
    report = decide(scan_stdout, policy_dir)
    assert sorted(by_check(report, "CKV2_SHIPYARD_1")) == [
        (Tier.BLOCK, "aws_ecs_service.no_rollback"),
        (Tier.WAIVED, "aws_ecs_service.unguarded"),
    ]
    assert [w.check_id for w in report.unused_waivers] == ["CKV_AWS_999"]


def test_inline_skip_without_waiver_counts_as_failure(scan_stdout: str, policy_dir: Path) -> None:
    report = decide(scan_stdout, policy_dir, Severity.MEDIUM)
    [item] = [c for c in report.findings if c.finding.check_id == "CKV_AWS_158"]
    assert item.tier is Tier.BLOCK
    assert "inline checkov:skip (fixture inline skip) is not a waiver" in item.why
    write_waivers(
        policy_dir,
        waiver("CKV_AWS_158", "aws_cloudwatch_log_group.inline_skipped", "logs hold no data"),
    )
    waived = decide(scan_stdout, policy_dir, Severity.MEDIUM)
    assert by_check(waived, "CKV_AWS_158")[0][0] is Tier.WAIVED


def test_json_report_has_schema_version_and_every_finding(
    scan_stdout: str, policy_dir: Path
) -> None:
    document = json.loads(decide(scan_stdout, policy_dir).to_json())
    assert document["schema_version"] == 1
    assert document["verdict"] == "blocked"
    assert document["report_shape"] == "dict"
    assert document["checkov_version"] == "3.3.30"
    assert sum(document["counts"].values()) == len(document["findings"])
    ssh = next(f for f in document["findings"] if f["check_id"] == "CKV_AWS_24")
    assert (ssh["file"], ssh["line"], ssh["tier"]) == ("terraform/main.tf", 4, "block")


def test_clean_tree_passes(scan_stdout: str, policy_dir: Path) -> None:
    # Waive everything that failed: nothing left to block, the verdict is a pass.
    results = parse_checkov_output(scan_stdout)
    pairs = sorted({(f.check_id, f.resource) for f in (*results.failed, *results.inline_skipped)})
    write_waivers(policy_dir, *[waiver(check, resource) for check, resource in pairs])
    report = decide(scan_stdout, policy_dir)
    assert not report.blocked
    assert report.to_dict()["verdict"] == "passed"


def test_list_shape_is_merged() -> None:
    text = (FIXTURES / "recorded" / "list-terraform-and-secrets.json").read_text()
    results = parse_checkov_output(text)
    assert results.shape == "list"
    ids = {f.check_id for f in results.failed}
    assert "CKV_AWS_24" in ids  # from the terraform entry
    assert any(i.startswith("CKV_SECRET") for i in ids)  # from the secrets entry
    assert results.checkov_version == "3.3.30"


def test_summary_only_shape_is_an_empty_scan_and_an_error(policy_dir: Path) -> None:
    text = (FIXTURES / "recorded" / "summary-only.json").read_text()
    results = parse_checkov_output(text)
    assert (results.shape, results.failed, results.resource_count) == ("summary-only", (), 0)
    with pytest.raises(GateError, match="scanned 0 resources in terraform"):
        decide(text, policy_dir)


@pytest.mark.parametrize(
    ("stdout", "message"),
    [
        ("", "printed nothing"),
        ("Traceback (most recent call last):\n  boom", "not JSON"),
        ('{"check_type": "terraform", "results": {"failed_checks": [', "not JSON"),
        ("[]", "not one of checkov's JSON shapes"),
        ('{"hello": 1}', "not one of checkov's JSON shapes"),
        ('{"results": {"failed_checks": [{"no": "id"}]}}', "has no check_id"),
    ],
)
def test_garbage_is_an_error_never_a_pass(stdout: str, message: str, policy_dir: Path) -> None:
    with pytest.raises(GateError, match=message):
        decide(stdout, policy_dir)


def test_parsing_errors_block(scan_stdout: str, policy_dir: Path) -> None:
    document = json.loads(scan_stdout)
    document["results"]["parsing_errors"] = ["/broken.tf"]
    with pytest.raises(GateError, match=r"could not parse 1 file\(s\): /broken.tf"):
        decide(json.dumps(document), policy_dir)


def test_checkov_absent_is_an_error(policy_dir: Path) -> None:
    with pytest.raises(GateError, match=r"checkov not found .* run \./dev setup"):
        run_scan(FIXTURES / "scan", policy_dir, checkov="no-such-checkov-binary")


def _fake_checkov(tmp_path: Path, body: str) -> str:
    # A stand-in checkov: the only way to make the real one crash on demand, or to see the
    # environment the gate starts it with.
    script = tmp_path / "checkov"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_checkov_crash_is_an_error(tmp_path: Path, policy_dir: Path) -> None:
    broken = _fake_checkov(tmp_path, 'echo "Traceback: KeyError" >&2; exit 2')
    with pytest.raises(GateError, match=r"checkov crashed \(exit 2\).*Traceback: KeyError"):
        run_scan(FIXTURES / "scan", policy_dir, checkov=broken)


def test_checkov_printing_garbage_with_exit_0_is_an_error(tmp_path: Path, policy_dir: Path) -> None:
    broken = _fake_checkov(tmp_path, "echo 'all good!'; exit 0")
    with pytest.raises(GateError, match="not JSON"):
        run_scan(FIXTURES / "scan", policy_dir, checkov=broken)


def test_checkov_never_asks_pypi_for_a_newer_release(tmp_path: Path) -> None:
    # checkov 3.3.30 reads this variable in checkov.common.util.env_vars_config.
    reporter = _fake_checkov(tmp_path, 'echo "{\\"skip\\": \\"$CKV_SKIP_PACKAGE_UPDATE_CHECK\\"}"')
    run = run_checkov(FIXTURES / "scan", None, checkov=reporter)
    assert json.loads(run.stdout) == {"skip": "true"}


def test_checkov_config_file_in_tree_is_refused(tmp_path: Path, checkov_bin: str) -> None:
    tree = tmp_path / "tf"
    tree.mkdir()
    (tree / "main.tf").write_text('resource "aws_sqs_queue" "q" {}\n')
    (tree / ".checkov.yaml").write_text("skip-check: [CKV_AWS_27]\n")
    with pytest.raises(GateError, match=r"\.checkov\.yaml: checkov config files are not allowed"):
        run_checkov(tree, None, checkov=checkov_bin)


def test_environment_cannot_skip_checks(
    monkeypatch: pytest.MonkeyPatch, checkov_bin: str, scan_stdout: str
) -> None:
    monkeypatch.setenv("CKV_SKIP_CHECK", "CKV_AWS_24")
    monkeypatch.setenv("CKV_CHECK", "CKV_AWS_260")
    rerun = run_checkov(FIXTURES / "scan", POLICIES / "custom", checkov=checkov_bin)
    ids = {f.check_id for f in parse_checkov_output(rerun.stdout).failed}
    assert ids == {f.check_id for f in parse_checkov_output(scan_stdout).failed}


def test_cli_scan_writes_reports_and_exits_1_when_blocked(
    tmp_path: Path, policy_dir: Path, checkov_bin: str, capsys: pytest.CaptureFixture[str]
) -> None:
    json_out, md_out = tmp_path / "scan.json", tmp_path / "scan.md"
    code = gates_cli(
        [
            "scan",
            str(FIXTURES / "scan"),
            "--policy-dir",
            str(policy_dir),
            "--checkov",
            checkov_bin,
            "--json-out",
            str(json_out),
            "--markdown-out",
            str(md_out),
        ]
    )
    assert code == 1
    assert "checkov gate: BLOCKED" in capsys.readouterr().out
    assert json.loads(json_out.read_text())["schema_version"] == 1
    assert md_out.read_text().startswith("### Security gate (checkov 3.3.30)")


def test_cli_gate_error_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = gates_cli(["scan", str(FIXTURES / "scan"), "--policy-dir", str(tmp_path)])
    assert code == 2
    assert "severity.yml: the severity policy is missing" in capsys.readouterr().err


def test_waiver_for_one_module_call_does_not_waive_another(policy_dir: Path) -> None:
    def finding(resource: str) -> Finding:
        return Finding(
            "CKV_AWS_24",
            "Ensure no security groups allow ingress from 0.0.0.0:0 to port 22",
            resource,
            "/modules/sg/main.tf",
            3,
            12,
            None,
            None,
        )

    write_waivers(
        policy_dir,
        waiver("CKV_AWS_24", "module.bastion.aws_security_group.this", "bastion, next sprint"),
    )
    results = CheckovResults(
        failed=(
            finding("module.bastion.aws_security_group.this"),
            finding("module.web.aws_security_group.this"),
            finding("module.api.aws_security_group.this"),
        ),
        inline_skipped=(),
        passed_count=0,
        resource_count=3,
        parsing_errors=(),
        checkov_version="3.3.30",
        shape="list",
    )

    report = verdict_decide(results, load_policy(policy_dir), Severity.CRITICAL, TODAY, "terraform")

    rows = sorted((c.tier, c.resources) for c in report.findings)
    assert rows == [
        (Tier.BLOCK, ("module.web.aws_security_group.this", "module.api.aws_security_group.this")),
        (Tier.WAIVED, ("module.bastion.aws_security_group.this",)),
    ]
