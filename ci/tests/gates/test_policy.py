"""Policy files: the repository's own and malformed ones (errors name the file and the fix)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from shipyard.tools.gates import GateError, Severity
from shipyard.tools.gates.policy import load_policy, parse_custom_policy, parse_waivers

HERE = Path(__file__).resolve().parent
POLICIES = HERE.parents[1] / "policies"


def test_repository_policy_loads_with_the_platform_rules() -> None:
    policy = load_policy(POLICIES)
    for check_id in ("CKV2_SHIPYARD_1", "CKV2_SHIPYARD_2", "CKV2_SHIPYARD_3"):
        entry = policy.severity_of(check_id)
        assert entry is not None
        assert entry.severity is Severity.CRITICAL
        assert entry.fix
    for waiver in policy.waivers:
        assert waiver.reason


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("checks: {CKV_AWS_1: {severity: SEVERE, reason: x}}", "'SEVERE' is not one of"),
        ("checks: {CKV_AWS_1: {severity: HIGH}}", "`CKV_AWS_1`: a non-empty one-line text"),
        ("checks: [CKV_AWS_1]", "`checks`: expected a mapping"),
        ("checks: {CKV_AWS_1: HIGH}", 'write `{severity: HIGH, reason: "..."}`'),
        ("checks: {a: [}", "is not valid YAML"),
    ],
)
def test_bad_severity_file_names_file_and_fix(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "severity.yml").write_text(text)
    with pytest.raises(GateError, match=r"severity\.yml") as raised:
        load_policy(tmp_path)
    assert message in str(raised.value)


TODAY = dt.date(2026, 6, 1)


def test_waiver_fields_are_validated() -> None:
    def first_of(*items: dict[str, object]) -> object:
        return parse_waivers({"waivers": list(items)}, "w.yml", TODAY)[0]

    ok = {"check": "X", "resource": "aws_s3_bucket.b", "reason": "r", "expires": "2026-07-01"}
    with pytest.raises(GateError, match="waiver #1: expires 'soon' is not a date; write"):
        first_of(ok | {"expires": "soon"})
    with pytest.raises(GateError, match="waiver #1: `check`"):
        first_of({"reason": "r"})
    with pytest.raises(GateError, match="waiver #2 reason: a non-empty one-line text"):
        first_of(ok, {"check": "Y", "resource": "aws_s3_bucket.b", "expires": "2026-07-01"})
    [waiver] = parse_waivers(
        {"waivers": [ok | {"expires": dt.date(2026, 1, 2)}]}, "w.yml", dt.date(2026, 1, 1)
    )
    assert waiver.expired(dt.date(2026, 1, 3))
    assert not waiver.expired(dt.date(2026, 1, 2))


def test_custom_policy_needs_a_severity() -> None:
    document = {
        "metadata": {"id": "CKV2_X_1", "name": "n", "category": "GENERAL_SECURITY"},
        "definition": {},
    }
    with pytest.raises(GateError, match=r"CKV2_X_1` metadata\.severity: severity None"):
        parse_custom_policy(document, "custom/x.yaml")


def test_check_in_both_custom_and_severity_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "severity.yml").write_text("checks: {CKV2_SHIPYARD_1: {severity: LOW, reason: r}}")
    custom = tmp_path / "custom"
    custom.mkdir()
    (custom / "cb.yaml").write_text((POLICIES / "custom" / "ecs_circuit_breaker.yaml").read_text())
    with pytest.raises(GateError, match=r"CKV2_SHIPYARD_1 is defined both in .*cb\.yaml"):
        load_policy(tmp_path)
