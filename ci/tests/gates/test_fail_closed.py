"""The gate says no to what it cannot judge: real checkov on hostile trees and policies."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import yaml
from shipyard.tools.gates import GateError, Severity, Tier, run_scan, verdict_from_output
from shipyard.tools.gates.__main__ import main as gates_cli
from shipyard.tools.gates.checkov import CheckovRun, parse_checkov_log, run_checkov
from shipyard.tools.gates.policy import load_policy

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
POLICIES = HERE.parents[1] / "policies"
TODAY = dt.date(2026, 6, 1)


@pytest.fixture(scope="module")
def tfjson_run(checkov_bin: str) -> CheckovRun:
    """One real checkov run on fixtures/tfjson (terraform as JSON, one check crashes on it)."""
    return run_checkov(FIXTURES / "tfjson", POLICIES / "custom", checkov=checkov_bin)


def decide(run: CheckovRun, policy_dir: Path) -> list[tuple[str, Tier, tuple[str, ...], str]]:
    report = verdict_from_output(
        run.stdout, load_policy(policy_dir, TODAY), Severity.CRITICAL, "tf", TODAY, run.stderr
    )
    return [(c.finding.check_id, c.tier, c.resources, c.why) for c in report.findings]


def test_public_bucket_written_as_tf_json_blocks(tfjson_run: CheckovRun, policy_dir: Path) -> None:
    rows = decide(tfjson_run, policy_dir)
    [public] = [row for row in rows if row[0] == "CKV_AWS_20"]
    assert public[1:3] == (Tier.BLOCK, ("aws_s3_bucket.public",))


def test_check_that_raised_inside_checkov_blocks_naming_the_check(
    tfjson_run: CheckovRun, policy_dir: Path
) -> None:
    assert "[ERROR]  Failed to run check CKV_AWS_379" in tfjson_run.stderr
    # checkov's JSON has no trace of the check on that resource: only its log tells.
    json_ids = {
        (entry["check_id"], entry["resource"])
        for framework in [json.loads(tfjson_run.stdout)]
        for key in ("passed_checks", "failed_checks")
        for entry in framework["results"][key]
    }
    assert ("CKV_AWS_379", "aws_s3_bucket_acl.public") not in json_ids
    rows = decide(tfjson_run, policy_dir)
    [errored] = [row for row in rows if row[0] == "CKV_AWS_379"]
    assert errored[1:3] == (Tier.BLOCK, ("aws_s3_bucket_acl.public",))  # LOW in this policy
    assert "raised inside checkov" in errored[3]
    assert "AttributeError" in errored[3]


def test_errored_check_can_be_waived_for_its_resource_only(
    tfjson_run: CheckovRun, policy_dir: Path
) -> None:
    waiver = {
        "check": "CKV_AWS_379",
        "resource": "aws_s3_bucket_acl.public",
        "reason": "checkov 3.3.30 crashes on bucket ACLs in .tf.json",
        "expires": "2026-09-01",
    }
    (policy_dir / "waivers.yml").write_text(yaml.safe_dump({"waivers": [waiver]}))
    [errored] = [row for row in decide(tfjson_run, policy_dir) if row[0] == "CKV_AWS_379"]
    assert errored[1] is Tier.WAIVED


def test_cli_exits_1_and_reports_the_errored_check(
    tmp_path: Path, policy_dir: Path, checkov_bin: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "scan.json"
    argv = ["scan", str(FIXTURES / "tfjson"), "--policy-dir", str(policy_dir)]
    assert gates_cli([*argv, "--checkov", checkov_bin, "--json-out", str(out)]) == 1
    assert "BLOCK CKV_AWS_379 [ERRORED]" in capsys.readouterr().out
    [row] = [f for f in json.loads(out.read_text())["findings"] if f["check_id"] == "CKV_AWS_379"]
    assert row["tier"] == "block"
    assert row["error"].startswith("AttributeError")


def test_custom_policy_checkov_would_skip_is_refused(
    tmp_path: Path, policy_dir: Path, checkov_bin: str
) -> None:
    # Without metadata.category checkov skips the policy with a warning: the rule never runs.
    nested = policy_dir / "custom" / "team"
    nested.mkdir()
    policy = yaml.safe_load((POLICIES / "custom" / "ecs_circuit_breaker.yaml").read_text())
    del policy["metadata"]["category"]
    policy["metadata"]["id"] = "CKV2_SHIPYARD_91"
    (nested / "breaker.yaml").write_text(yaml.safe_dump(policy))
    with pytest.raises(
        GateError, match=r"team/breaker\.yaml `CKV2_SHIPYARD_91` metadata\.category"
    ):
        run_scan(FIXTURES / "scan", policy_dir, checkov=checkov_bin, today=TODAY)
    # The same policy handed to checkov directly: its log says so, and the gate reads that too.
    run = run_checkov(FIXTURES / "scan", policy_dir / "custom", checkov=checkov_bin)
    with pytest.raises(GateError, match=r"checkov logged WARNI: Custom policy .*breaker\.yaml"):
        parse_checkov_log(run.stderr)


def test_registry_module_checkov_cannot_read_offline_is_refused(
    tmp_path: Path, policy_dir: Path, checkov_bin: str
) -> None:
    # Offline checkov does not download it and says so only at WARNING: its resources (here a
    # public-read bucket) would silently be missing from the report.
    tree = tmp_path / "tf"
    shutil.copytree(FIXTURES / "scan", tree)
    (tree / "bucket.tf").write_text(
        'module "bucket" {\n  source  = "terraform-aws-modules/s3-bucket/aws"\n'
        '  version = "4.1.0"\n  acl     = "public-read"\n}\n'
    )
    with pytest.raises(GateError, match="Failed to download module terraform-aws-modules/s3-b"):
        run_scan(tree, policy_dir, checkov=checkov_bin, today=TODAY)


def test_tf_json_checkov_cannot_parse_stops_the_gate(
    tmp_path: Path, policy_dir: Path, checkov_bin: str
) -> None:
    tree = tmp_path / "tf"
    shutil.copytree(FIXTURES / "scan", tree)
    (tree / "broken.tf.json").write_text('{"resource": {"aws_s3_bucket": {"b": {"acl": ')
    with pytest.raises(GateError, match=r"could not parse 1 file\(s\): .*broken\.tf\.json"):
        run_scan(tree, policy_dir, checkov=checkov_bin, today=TODAY)


BROKEN_REGEX_POLICY = """\
metadata: {id: CKV2_SHIPYARD_90, name: names match, category: GENERAL_SECURITY, severity: HIGH}
definition:
  cond_type: attribute
  resource_types: [aws_ecs_service]
  attribute: name
  operator: not_regex_match
  value: "[unclosed"
"""


def test_custom_policy_whose_regex_checkov_cannot_run_is_refused(
    tmp_path: Path, policy_dir: Path, checkov_bin: str
) -> None:
    # checkov logs a warning per resource and passes every one of them under not_regex_match.
    (policy_dir / "custom" / "names.yaml").write_text(BROKEN_REGEX_POLICY)
    with pytest.raises(GateError, match=r"not_regex_match value '\[unclosed' is not a valid re"):
        load_policy(policy_dir, TODAY)
    run = run_checkov(FIXTURES / "scan", policy_dir / "custom", checkov=checkov_bin)
    with pytest.raises(GateError, match="checkov logged WARNI: failed to run regex"):
        parse_checkov_log(run.stderr)


def test_terraform_files_checkov_does_not_read_are_refused(
    tmp_path: Path, checkov_bin: str
) -> None:
    tree = tmp_path / "tf"
    shutil.copytree(FIXTURES / "scan", tree)
    (tree / "extra.tofu").write_text('resource "aws_s3_bucket" "b" { acl = "public-read" }\n')
    with pytest.raises(GateError, match=r"extra\.tofu: checkov does not read \.tofu"):
        run_checkov(tree, None, checkov=checkov_bin)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "severity.yml",
            "checks:\n  CKV_AWS_24: {severity: CRITICAL, reason: r}\n"
            "  CKV_AWS_24: {severity: LOW, reason: r}\n",
            r"key 'CKV_AWS_24' appears twice in one mapping \(lines 2 and 3\)",
        ),
        (
            "severity.yml",
            "checks:\n  CKV_AWS_24: {severity: CRITICAL, reason: r, severity: LOW}\n",
            "key 'severity' appears twice",
        ),
        (
            "severity.yml",
            "checks:\n  CKV_AWS_24: {severty: CRITICAL, reason: r}\n",
            "`CKV_AWS_24`: unknown field `severty`",
        ),
        ("severity.yml", "check: {}\n", "unknown field `check`"),
        ("severity.yml", "schema_version: 2\nchecks: {}\n", "`schema_version`: 2 is not supp"),
        (
            "waivers.yml",
            "waivers:\n- {check: CKV_AWS_24, resource: aws_x.y, reason: r, expire: 2026-07-01}\n",
            "waiver #1: unknown field `expire`",
        ),
        (
            "waivers.yml",
            "waivers:\n- {check: CKV_AWS_24, resource: aws_x.y, reason: r}\n",
            "waiver #1: `expires` is required",
        ),
        (
            "waivers.yml",
            "waivers:\n- {check: CKV_AWS_24, reason: r, expires: 2026-07-01}\n",
            "waiver #1: `resource` is required",
        ),
        (
            "waivers.yml",
            "waivers:\n- {check: CKV_AWS_24, resource: aws_x.y, expires: 2026-07-01}\n",
            "waiver #1 reason: a non-empty one-line text is required",
        ),
        (
            "waivers.yml",
            "waivers:\n- {check: CKV_AWS_24, resource: aws_x.y, reason: r, expires: 2026-11-29}\n",
            "expires 2026-11-29 is more than 180 days ahead; write 2026-11-28 or earlier",
        ),
        (
            "waivers.yml",
            "waivers:\n- {check: CKV_AWS_24, resource: '*', reason: r, expires: 2026-07-01}\n",
            r"`resource` '\*' would match every resource",
        ),
        (
            "waivers.yml",
            "waivers:\n- {check: CKV_AWS_24, resource: module.*, reason: r, expires: 2026-07-01}\n",
            "would match every resource",
        ),
        (
            "waivers.yml",
            "waivers:\n- {check: CKV_AWS_24, resource: everything, reason: r, "
            "expires: 2026-07-01}\n",
            "`resource` 'everything' is not a resource address",
        ),
        (
            "waivers.yml",
            "waivers:\n- {check: CKV_AWS_24, resource: aws_x.y, reason: r, expires: 2026-07-01}\n"
            "- {check: CKV_AWS_24, resource: aws_x.y, reason: s, expires: 2026-07-01}\n",
            "waiver #2: repeats waiver #1",
        ),
        (
            "waivers.yml",
            "waivers:\n- {check: CKV_AWS_24, resource: aws_x.y, reason: r, expires: 2026-07-01, "
            "expires: 2026-08-01}\n",
            "key 'expires' appears twice",
        ),
    ],
)
def test_policy_file_mistakes_are_refused_naming_the_field(
    policy_dir: Path, name: str, text: str, message: str
) -> None:
    (policy_dir / name).write_text(text)
    with pytest.raises(GateError, match=message) as raised:
        load_policy(policy_dir, TODAY)
    assert name in str(raised.value)


@pytest.mark.parametrize(
    ("relative", "text", "message"),
    [
        ("nested/deeper/x.yaml", "metadata: {id: CKV2_X_1, name: n, category: C, severity: "
         "SEVERE}\ndefinition: {}\n", "'SEVERE' is not one of"),
        ("x.json", '{"metadata": {"id": "CKV2_X_1", "name": "n", "category": "C"}, '
         '"definition": {}}', r"x\.json `CKV2_X_1` metadata\.severity"),
        ("x.json", '{"metadata": {}, "metadata": {}}', "key 'metadata' appears twice"),
        ("x.yml", "metadata: {id: CKV2_X_1, name: n, category: C, severity: LOW, sevrity: HIGH}"
         "\ndefinition: {}\n", "`metadata`: unknown field `sevrity`"),
        ("x.yaml", "metadata: {id: CKV2_X_1, name: n, category: C, severity: LOW, frameworks: "
         "[kubernetes]}\ndefinition: {}\n", "leaves out terraform"),
        ("x.yaml", (POLICIES / "custom" / "ecs_circuit_breaker.yaml").read_text(),
         "CKV2_SHIPYARD_1 is defined both in .*ecs_circuit_breaker.yaml and in .*x.yaml"),
        ("checks/__init__.py", "", r"__init__\.py: Python checks are not allowed"),
        ("checks/open.py", "print('I run inside checkov')\n", r"open\.py: Python checks"),
    ],
)  # fmt: skip
def test_custom_policy_anywhere_checkov_loads_it_is_checked(
    policy_dir: Path, relative: str, text: str, message: str
) -> None:
    path = policy_dir / "custom" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    with pytest.raises(GateError, match=message):
        load_policy(policy_dir, TODAY)


def test_module_waiver_covers_the_module_and_nothing_else(policy_dir: Path) -> None:
    text = (
        "waivers:\n"
        "- {check: CKV_AWS_24, resource: module.bastion, reason: r, expires: 2026-07-01}\n"
    )
    (policy_dir / "waivers.yml").write_text(text)
    policy = load_policy(policy_dir, TODAY)
    assert policy.waiver_for("CKV_AWS_24", "module.bastion.aws_security_group.this")
    assert policy.waiver_for("CKV_AWS_24", 'module.bastion["a"].module.x.aws_sg.y')
    assert policy.waiver_for("CKV_AWS_24", "module.bastion2.aws_security_group.this") is None
    assert policy.waiver_for("CKV_AWS_24", "aws_security_group.bastion") is None
    assert policy.waiver_for("CKV_AWS_260", "module.bastion.aws_security_group.this") is None


def test_the_repository_waivers_carry_every_field() -> None:
    policy = load_policy(POLICIES, dt.date(2026, 12, 4))
    assert policy.waivers
    for waiver in policy.waivers:
        assert waiver.reason
        assert waiver.resource
        assert waiver.expires
