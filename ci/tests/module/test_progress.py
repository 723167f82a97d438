"""The lines a person watching a run sees, from the stage announcements the compositions make."""

from __future__ import annotations

import io
from pathlib import Path

import anyio
import pytest
from shipyard.decide import pipeline_flow, progress
from shipyard.decide.pipeline_flow import Ledger, StageResult, Verdict
from shipyard.decide.progress import ProgressView, StageEvent
from shipyard.module.cli import EngineLog, StageLines, output_folder


def test_each_stage_starts_and_ends_once_with_its_verdict_and_seconds() -> None:
    view = ProgressView()
    assert view.lines(StageEvent("staging/deploy"), now=10.0) == ["▶ staging/deploy"]
    assert view.lines(StageEvent("staging/deploy"), now=11.0) == []
    ended = StageEvent("staging/deploy", "failed", 41.25, "tiles: rolled back\nsecond line")
    assert view.lines(ended, now=51.0) == ["✖ staging/deploy failed in 41.2 s: tiles: rolled back"]
    # The ledger records what the step already announced: no second line.
    assert view.lines(ended, now=52.0) == []


def test_a_skipped_stage_has_no_seconds_and_a_long_summary_is_cut_at_a_word() -> None:
    line = progress.ended_line(StageEvent("smoke", "skipped", 0.0, "not smoked: deploy failed"))
    assert line == "· smoke skipped: not smoked: deploy failed"
    long = progress.ended_line(StageEvent("scan", "passed", 3.0, "word " * 40), width=20)
    assert long == "✔ scan passed in 3.0 s: word word word …"
    address = "promoted registry/app@sha256:" + "0" * 64
    promoted = progress.ended_line(StageEvent("publish", "passed", 5.0, address), width=40)
    assert promoted == "✔ publish passed in 5.0 s: promoted registry/app@sha256:000000000 …"


def test_a_summary_that_repeats_its_verdict_says_it_once() -> None:
    line = progress.ended_line(StageEvent("cost", "skipped", 0.0, "skipped: no INFRACOST_API_KEY"))
    assert line == "· cost skipped: no INFRACOST_API_KEY"


def test_the_live_line_shows_only_stages_that_wait_and_are_still_open() -> None:
    view = ProgressView()
    view.lines(StageEvent("test"), now=0.0)
    assert view.waiting(now=5.0) == ""
    view.lines(StageEvent("production/smoke"), now=2.0)
    assert view.waiting(now=14.4) == "  … production/smoke waiting 12 s"
    view.lines(StageEvent("production/smoke", "passed", 12.0), now=14.5)
    assert view.waiting(now=20.0) == ""


def test_stages_run_by_the_composition_are_announced_under_their_environment() -> None:
    events: list[StageEvent] = []

    async def passing() -> pipeline_flow.StageOutcome:
        return "fine", {}

    async def compose() -> None:
        with progress.scope("staging"):
            result = await pipeline_flow.run_stage("lint", passing, str)
            Ledger().add(result, StageResult("smoke", Verdict.SKIPPED, "not smoked"))

    with progress.watching(events.append):
        anyio.run(compose)
    assert [(e.stage, e.verdict) for e in events] == [
        ("staging/lint", ""),
        ("staging/lint", "passed"),
        ("staging/lint", "passed"),
        ("staging/smoke", "skipped"),
    ]


def test_nobody_watching_announces_nothing() -> None:
    progress.announce("lint")  # no observer: must not fail, nothing to see


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("live", [False, True])
def test_stage_lines_draw_a_live_line_only_on_a_terminal(live: bool) -> None:
    stream = FakeTty() if live else io.StringIO()
    lines = StageLines(stream, live=live)
    lines(StageEvent("staging/deploy"))
    lines(StageEvent("staging/deploy", "passed", 1.0, "rolled out"))
    lines.close()
    text = stream.getvalue()
    assert "▶ staging/deploy\n" in text
    assert "✔ staging/deploy passed in 1.0 s: rolled out\n" in text
    assert ("waiting" in text) is live
    assert ("\x1b[" in text) is live


@pytest.mark.parametrize("verbose", [False, True])
def test_the_engine_log_goes_to_its_file_without_colour_and_streams_only_when_verbose(
    tmp_path: Path, verbose: bool
) -> None:
    echo = io.StringIO()
    raw = ["\x1b[95m5   : \x1b[0mwithExec \x1b[1mpytest\x1b[0m\n", "done\n"]
    log = EngineLog(tmp_path / "out" / "engine.log", echo if verbose else None)
    log.writelines(raw)
    log.close()
    assert (tmp_path / "out" / "engine.log").read_text() == "5   : withExec pytest\ndone\n"
    assert echo.getvalue() == ("".join(raw) if verbose else "")


def test_a_call_writes_its_log_in_the_folder_it_exports_to(tmp_path: Path) -> None:
    assert output_folder("rehearse", tmp_path, returns_directory=True) == tmp_path
    assert output_folder("coverage", tmp_path / "c.xml", returns_directory=False).name == (
        "shipyard-coverage"
    )
