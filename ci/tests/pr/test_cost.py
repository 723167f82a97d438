"""The cost section from Infracost's JSON output format, and the tool that runs Infracost.

The documents in fixtures/infracost follow Infracost's documented JSON output format (0.2): a
base breakdown and a head diff of the same terraform with a changed, an added and a removed
resource, a usage-based resource with no monthly cost, and a project Infracost could not
evaluate. The stand-in `infracost` there replays them (the real CLI needs the internet).
"""

from __future__ import annotations

import copy
import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from shipyard.tools.cost import (
    Change,
    InfracostFormatError,
    cost_diff,
    headline,
    main,
    money,
    render_section,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "infracost"
STAND_IN = FIXTURES / "infracost"
KEY = "ico-s3cretK3yValue"


def document(name: str) -> dict[str, Any]:
    loaded = json.loads((FIXTURES / name).read_text())
    assert isinstance(loaded, dict)
    return loaded


BASE = document("breakdown-base.json")
HEAD = document("diff-head.json")


def test_totals_change_and_percent_come_from_base_breakdown_and_head_diff() -> None:
    diff = cost_diff(BASE, HEAD)
    assert (diff.before, diff.after, diff.delta) == (
        Decimal("132.18"),
        Decimal("148.08"),
        Decimal("15.90"),
    )
    assert headline(diff) == (
        "monthly cost will increase by $15.90 (+12.0 %): $132.18 → $148.08; "
        "not estimated: production"
    )


def test_each_changed_resource_has_before_after_and_kind_largest_first() -> None:
    rows = [(r.change, r.name, r.before, r.after) for r in cost_diff(BASE, HEAD).resources]
    assert rows == [
        (Change.CHANGED, "aws_ecs_service.tiles", Decimal("41.45"), Decimal("82.90")),
        (Change.REMOVED, "aws_nat_gateway.main", Decimal("32.85"), None),
        (Change.ADDED, 'aws_vpc_endpoint.ecr_api["a"]', None, Decimal("7.30")),
    ]


def test_the_section_shows_the_table_and_the_project_that_failed() -> None:
    section = render_section(cost_diff(BASE, HEAD))
    lines = section.splitlines()
    assert lines[0] == (
        "**Monthly cost will increase by $15.90 (+12.0 %): $132.18 → $148.08; "
        "not estimated: production**"
    )
    assert "| ~ | `aws_ecs_service.tiles` | $41.45 | $82.90 | +$41.45 (+100.0 %) |" in lines
    assert "| - | `aws_nat_gateway.main` | $32.85 | — | -$32.85 (-100.0 %) |" in lines
    assert '| + | `aws_vpc_endpoint.ecr_api["a"]` | — | $7.30 | +$7.30 |' in lines
    [warning] = [line for line in lines if line.startswith("⚠️")]
    assert warning.startswith("⚠️ **production** was not estimated: Error loading Terraform")
    assert "aws_lb.front" not in section  # unchanged resources stay out of the comment


def test_a_decrease_and_no_change_read_as_such() -> None:
    cheaper = copy.deepcopy(HEAD)
    cheaper["totalMonthlyCost"] = "99.00"
    assert headline(cost_diff(BASE, cheaper)).startswith(
        "monthly cost will decrease by $33.18 (-25.1 %): $132.18 → $99.00"
    )
    same = copy.deepcopy(BASE)
    same["projects"] = same["projects"][:1]
    assert headline(cost_diff(same, same)) == "monthly cost unchanged: $132.18"


def test_new_infrastructure_has_no_percentage_and_other_currencies_their_symbol() -> None:
    empty = {"version": "0.2", "currency": "EUR", "projects": [], "totalMonthlyCost": "0"}
    head = dict(copy.deepcopy(HEAD), currency="EUR", projects=HEAD["projects"][:1])
    assert (
        headline(cost_diff(empty, head)) == "monthly cost will increase by €148.08: €0.00 → €148.08"
    )
    assert money(Decimal("1303.284"), "JPY") == "JPY 1,303.28"
    assert money(Decimal("-5"), "USD", signed=True) == "-$5.00"


def test_documents_in_another_format_are_refused_with_the_fix() -> None:
    with pytest.raises(InfracostFormatError, match="run infracost with --format json"):
        cost_diff({"projects": "table output"}, HEAD)
    broken = copy.deepcopy(HEAD)
    broken["projects"][0]["diff"]["resources"][0]["name"] = "aws_instance.ghost"
    with pytest.raises(InfracostFormatError, match=r"aws_instance\.ghost"):
        cost_diff(BASE, broken)


def run_tool(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, **settings: str
) -> tuple[str, list[dict[str, Any]]]:
    base, head = tmp_path / "base" / "terraform", tmp_path / "head" / "terraform"
    base.mkdir(parents=True)
    head.mkdir(parents=True)
    log = tmp_path / "calls.jsonl"
    environ = {"PATH": "/usr/bin:/bin", "INFRACOST_STANDIN_LOG": str(log), **settings}
    if key:
        environ["INFRACOST_API_KEY"] = key
    argv = ["--base", str(base), "--head", str(head), "--out-dir", str(tmp_path / "out")]
    argv += ["--infracost", str(STAND_IN), "--timeout", "3"]
    assert main(argv, environ) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert KEY not in out
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return out.strip(), calls


def test_the_tool_runs_breakdown_on_base_then_diff_against_it_on_head(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line, calls = run_tool(tmp_path, capsys, KEY)
    assert line == headline(cost_diff(BASE, HEAD))
    assert (tmp_path / "out" / "cost.md").read_text() == render_section(cost_diff(BASE, HEAD))
    base_json = str(tmp_path / "out" / "infracost-base.json")
    assert calls[0]["argv"][:3] == ["breakdown", "--path", str(tmp_path / "base" / "terraform")]
    assert calls[0]["argv"][-2:] == ["--out-file", base_json]
    assert calls[1]["argv"][:5] == [
        "diff", "--path", str(tmp_path / "head" / "terraform"), "--compare-to", base_json,
    ]  # fmt: skip
    assert all(call["key_in_env"] and KEY not in call["argv"] for call in calls)


def test_without_a_key_the_tool_says_skipped_and_runs_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line, calls = run_tool(tmp_path, capsys, "")
    assert line == "skipped: no INFRACOST_API_KEY"
    assert calls == []


def test_a_refused_key_is_one_warning_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line, calls = run_tool(tmp_path, capsys, "ico-invalid")
    assert line == (
        "warning: infracost breakdown (base) failed (exit 1: Error: Invalid API key, please run "
        "infracost auth login); informational, the checks' verdict is unchanged"
    )
    assert len(calls) == 1
    assert not (tmp_path / "out" / "cost.md").exists()


def test_a_hanging_infracost_is_stopped_at_the_timeout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    line, _ = run_tool(tmp_path, capsys, KEY, INFRACOST_STANDIN_HANG="1")
    assert line == (
        "warning: infracost breakdown (base) gave up after 3 s; "
        "informational, the checks' verdict is unchanged"
    )
    assert time.monotonic() - started < 8


def test_output_infracost_cannot_have_written_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "table.txt").write_text("not json")
    line, _ = run_tool(tmp_path, capsys, KEY, INFRACOST_STANDIN_DIFF=str(tmp_path / "table.txt"))
    assert line.startswith("warning: cannot read Infracost's output (")
