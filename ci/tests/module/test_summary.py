"""The run summary, rendered from the report.json of a real failing rehearsal (`./dev run --fault
tiles=crash` on the kit's engine: the tiles service crash-loops, ECS's circuit breaker and the
deploy engine roll it back): Markdown for GitHub, the same for a terminal."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from shipyard.decide.pipeline_flow import StageResult, Verdict
from shipyard.decide.summary import RunReport, render_markdown, render_terminal

FIXTURE = Path(__file__).parent / "fixtures" / "rehearsal-crash-report.json"


def report_from(document: dict[str, Any]) -> RunReport:
    stages = [
        StageResult(s["stage"], Verdict(s["verdict"]), s["summary"], s["seconds"], s["details"])
        for s in document["stages"]
    ]
    return RunReport(
        document["kind"],
        document["flow"],
        document["environment"],
        document["git_sha"],
        stages,
        document["notes"],
    )


@pytest.fixture
def document() -> dict[str, Any]:
    loaded = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def table_row(markdown: str, stage: str) -> list[str]:
    [row] = [line for line in markdown.splitlines() if line.startswith(f"| {stage} |")]
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]]


def test_a_long_cell_is_cut_between_words(document: dict[str, Any]) -> None:
    deploy = next(s for s in document["stages"] if s["stage"] == "deploy")
    cell = table_row(render_markdown(report_from(document)), "deploy")[3]
    assert cell.endswith(" …")
    kept = cell.removesuffix(" …")
    assert deploy["summary"].startswith(kept)
    assert deploy["summary"][len(kept)] == " ", "cut inside a word"
    assert len(cell) <= 300


def test_the_deploy_engines_rollback_is_not_shown_as_skipped(document: dict[str, Any]) -> None:
    markdown = render_markdown(report_from(document))
    assert table_row(markdown, "rollback")[1:] == [
        "↩️ rolled back by the deploy engine",
        "0.0 s",
        "tiles: succeeded",
    ]


def test_a_rollback_nobody_did_stays_skipped(document: dict[str, Any]) -> None:
    deploy = next(s for s in document["stages"] if s["stage"] == "deploy")
    del deploy["details"]["rollback"]
    row = table_row(render_markdown(report_from(document)), "rollback")
    assert row[1] == "⏭️ skipped"


def test_identical_stopped_tasks_are_shown_once(document: dict[str, Any]) -> None:
    markdown = render_markdown(report_from(document))
    assert markdown.count("Last log lines of `tiles`") == 1
    assert markdown.count("RuntimeError: rehearsal fault 'crash'") == 1
    [stopped] = [line for line in markdown.splitlines() if line.startswith("Stopped task")]
    assert stopped.startswith("Stopped tasks `881ed162")
    assert stopped.count("`") == 6  # all three tasks named


def test_stopped_tasks_that_differ_are_each_shown(document: dict[str, Any]) -> None:
    changed = copy.deepcopy(document)
    deploy = next(s for s in changed["stages"] if s["stage"] == "deploy")
    tasks = deploy["details"]["report"]["services"][0]["dossier"]["stopped_tasks"]
    tasks[1]["log_tail"]["tiles"] = ["ERROR:    MemoryError"]
    markdown = render_markdown(report_from(changed))
    assert markdown.count("Last log lines of `tiles`") == 2
    assert "ERROR:    MemoryError" in markdown


def test_no_heading_stands_over_nothing(document: dict[str, Any]) -> None:
    lines = [line for line in render_markdown(report_from(document)).splitlines() if line]
    for line, following in zip(lines, [*lines[1:], ""], strict=True):
        if line.startswith("#"):
            assert following, f"empty section {line!r}"
            assert not following.startswith("#"), f"empty section {line!r}"


def test_events_say_their_order_and_notes_read_as_text(document: dict[str, Any]) -> None:
    markdown = render_markdown(report_from(document))
    assert "Recent events (newest first):" in markdown
    assert "- **faults**: tiles=crash" in markdown
    assert "{'" not in markdown


def test_the_terminal_gets_plain_aligned_text(document: dict[str, Any]) -> None:
    text = render_terminal(render_markdown(report_from(document)), width=100)
    for raw in ("<details>", "<summary>", "</details>", "```", "|---", "**", "`", "\x1b["):
        assert raw not in text, raw
    lines = text.splitlines()
    assert lines[0] == "❌ shipyard rehearsal: release → rehearsal — failed"
    header = next(line for line in lines if line.startswith("stage "))
    summary_column = header.index("summary")
    starts = {"build": "built the", "deploy": "service tiles", "rollback": "tiles: succeeded"}
    for stage, start in starts.items():
        row = next(line for line in lines if line.startswith(stage + " "))
        # Every row's summary starts under the header's (emoji counted two columns wide).
        assert _columns(row[: row.index(start)]) == summary_column, row
    for line in lines:
        # Only a name that cannot be broken (an image digest) may run past the width.
        assert _columns(line) <= 100 or max(map(len, line.split())) > 60, line
    assert "Failure dossier of ecs-svc/6091390996030824628:" in lines
    assert (
        "    ERROR:    RuntimeError: rehearsal fault 'crash': the service exits at startup" in lines
    )


def test_colour_only_when_asked(document: dict[str, Any]) -> None:
    markdown = render_markdown(report_from(document))
    coloured = render_terminal(markdown, colour=True)
    assert "\x1b[31mfailed\x1b[0m" in coloured
    assert "\x1b[32mpassed\x1b[0m" in coloured
    assert re.sub(r"\x1b\[\d+m", "", coloured).count("failed") == render_terminal(markdown).count(
        "failed"
    )


def _columns(text: str) -> int:
    return len(text) + sum(1 for char in text if char in "✅❌")  # U+FE0F is already one


def test_a_rehearsals_environment_named_rollback_shows_the_engines_rollback(
    document: dict[str, Any],
) -> None:
    """The rehearsal names stages `staging/deploy`; its rollback is not "skipped" either."""
    for stage in document["stages"]:
        stage["stage"] = f"staging/{stage['stage']}"
    markdown = render_markdown(report_from(document))
    assert table_row(markdown, "staging/rollback")[1:] == [
        "↩️ rolled back by the deploy engine",
        "0.0 s",
        "tiles: succeeded",
    ]


def test_a_failed_run_ends_with_the_dossier_and_the_rollback(document: dict[str, Any]) -> None:
    markdown = render_markdown(report_from(document))
    assert markdown.index("### Notes") < markdown.index("Failure dossier of")
    lines = render_terminal(markdown).splitlines()
    last_screen = "\n".join(lines[-50:])
    assert "Failure dossier of" in last_screen
    assert "rollback to scidata-tiles:1: succeeded" in last_screen
    assert lines[-1].startswith("Restore points: tiles → scidata-tiles:1")
