"""Restore points live in AWS (tags on each service) and in an append-only journal."""

from __future__ import annotations

import json
from pathlib import Path

from shipyard.tools.deploy import deploy
from shipyard.tools.deploy.journal import Journal
from shipyard.tools.deploy.markers import IN_FLIGHT, RESTORE_TASK_DEFINITION, RUN_ID, RUN_IMAGE

from .conftest import RigFactory

SERVICES = ("tiles", "timeseries")


def test_restore_points_are_tagged_before_the_first_change_and_the_marker_cleared_at_the_end(
    make_rig: RigFactory, tmp_path: Path
) -> None:
    rig = make_rig()
    before = {s: rig.service(s)["taskDefinition"] for s in SERVICES}
    tags_when_registering: dict[str, dict[str, str]] = {}

    def log(line: str) -> None:
        rig.log(line)
        if line == f"tiles: registered {line.rsplit(' ', 1)[-1]}":
            tags_when_registering.update({s: rig.tags(s) for s in SERVICES})

    report = deploy(rig.config(), log=log, journal=Journal(tmp_path, "deploy"))

    assert report.verdict == "succeeded", report.reason
    for service in SERVICES:
        marked = tags_when_registering[service]
        assert marked[RESTORE_TASK_DEFINITION] == before[service]
        assert marked[RUN_ID] == report.run_id
        assert marked[IN_FLIGHT] == report.run_id
        assert marked[RUN_IMAGE] == rig.new_image
        after = rig.tags(service)
        assert IN_FLIGHT not in after, "a run that ends with a verdict clears its marker"
        assert after[RESTORE_TASK_DEFINITION] == before[service]
    entries = [
        json.loads(line) for line in (tmp_path / "deploy-journal.jsonl").read_text().splitlines()
    ]
    events = [(e["event"], e.get("service")) for e in entries]
    first_change = events.index(("registered", "tiles"))
    assert events[:first_change] == [
        ("run_started", None),
        ("restore_point", "tiles"),
        ("restore_point", "timeseries"),
        ("marked", "tiles"),
        ("marked", "timeseries"),
    ]
    assert events[-3:] == [
        ("marker_cleared", "tiles"),
        ("marker_cleared", "timeseries"),
        ("run_ended", None),
    ]
    assert entries[0]["run_id"] == report.run_id
    assert json.loads((tmp_path / "deploy-report.json").read_text())["verdict"] == "succeeded"
    assert "test-secret-key" not in (tmp_path / "deploy-journal.jsonl").read_text()


def test_the_journal_is_appended_to_never_rewritten(make_rig: RigFactory, tmp_path: Path) -> None:
    rig = make_rig(services=("tiles",))

    first = deploy(rig.config(services=("tiles",)), log=rig.log, journal=Journal(tmp_path))
    second = deploy(rig.config(services=("tiles",)), log=rig.log, journal=Journal(tmp_path))

    runs = [
        json.loads(line).get("run_id")
        for line in (tmp_path / "deploy-journal.jsonl").read_text().splitlines()
        if '"run_started"' in line
    ]
    assert runs == [first.run_id, second.run_id]
    assert first.run_id != second.run_id
