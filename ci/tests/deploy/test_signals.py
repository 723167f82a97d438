"""A deploy killed at any point: the CLI as a real process, real signals, moto behind the front."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from shipyard.tools.deploy import rollback, verify
from shipyard.tools.deploy.markers import IN_FLIGHT, RESTORE_TASK_DEFINITION
from shipyard.tools.rehearsal.faults import Fault, FaultKind

from .conftest import POLL_SECONDS, Rig, RigFactory

SERVICES = ("tiles", "timeseries")
ECS = "AmazonEC2ContainerServiceV20141113."


class DeployProcess:
    """`python -m shipyard.tools.deploy ...` with its output read line by line as it comes."""

    def __init__(self, rig: Rig, command: str, report_dir: Path, *extra: str) -> None:
        release = ["--image", rig.new_image] if command == "deploy" else []
        containers = [
            arg
            for service, container in rig.account.containers.items()
            for arg in ("--container", f"{service}={container}")
            if command == "deploy"
        ]
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shipyard.tools.deploy",
                command,
                "--cluster",
                rig.account.cluster,
                *release,
                *containers,
                "--endpoint-url",
                rig.url,
                "--poll-interval",
                str(POLL_SECONDS),
                "--timeout",
                "60",
                "--report-dir",
                str(report_dir),
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={
                **os.environ,
                "AWS_ACCESS_KEY_ID": "AKIASIGNALTESTSIGNAL",
                "AWS_SECRET_ACCESS_KEY": "signal-test-secret",
            },
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, wanted: Callable[[str], bool], timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if wanted(line):
                return line
        self.process.kill()
        raise AssertionError("never printed the line waited for:\n" + "\n".join(self.lines))

    def signal(self, signum: int) -> None:
        os.kill(self.process.pid, signum)

    def finish(self, timeout: float = 60.0) -> int:
        code = self.process.wait(timeout=timeout)
        while (line := self._queue.get(timeout=5)) is not None:
            self.lines.append(line)
        return code


def started(service: str) -> Callable[[str], bool]:
    return lambda line: line.startswith(f"{service}: deployment ") and " started on " in line


def live(rig: Rig) -> dict[str, str]:
    return {s: str(rig.service(s)["taskDefinition"]) for s in SERVICES}


def assert_restore_points_kept(rig: Rig, before: dict[str, str]) -> None:
    ecs = rig.client("ecs")
    assert rig.front.calls[ECS + "DeregisterTaskDefinition"] == 0
    for arn in before.values():
        assert ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["status"] == (
            "ACTIVE"
        )


def report_of(directory: Path, operation: str = "deploy") -> dict[str, Any]:
    return dict(json.loads((directory / f"{operation}-report.json").read_text()))


def by_service(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["service"]: s for s in report["services"]}


def test_sigterm_during_the_first_rollout_rolls_it_back_and_reports_interrupted(
    make_rig: RigFactory, tmp_path: Path
) -> None:
    rig = make_rig(faults=("tiles=slow",))
    before = live(rig)
    run = DeployProcess(rig, "deploy", tmp_path)
    run.wait_for(started("tiles"))

    run.signal(signal.SIGTERM)

    assert run.finish() == 128 + signal.SIGTERM
    report = report_of(tmp_path)
    services = by_service(report)
    assert report["verdict"] == "interrupted"
    assert "SIGTERM received" in report["reason"]
    assert services["tiles"]["verdict"] == "interrupted"
    assert services["tiles"]["rollback"]["verdict"] == "succeeded"
    assert services["timeseries"]["verdict"] == "not_started"
    assert live(rig) == before
    assert_restore_points_kept(rig, before)
    assert all(IN_FLIGHT not in rig.tags(s) for s in SERVICES), "settled: marker cleared"
    assert any(line.startswith("report: ") for line in run.lines)


def test_sigterm_while_the_second_service_rolls_out_returns_both(
    make_rig: RigFactory, tmp_path: Path
) -> None:
    rig = make_rig(faults=("timeseries=slow",))
    before = live(rig)
    run = DeployProcess(rig, "deploy", tmp_path)
    run.wait_for(started("timeseries"))

    run.signal(signal.SIGTERM)

    assert run.finish() == 128 + signal.SIGTERM
    report = report_of(tmp_path)
    services = by_service(report)
    assert report["verdict"] == "interrupted"
    assert services["tiles"]["verdict"] == "succeeded"
    assert services["timeseries"]["verdict"] == "interrupted"
    assert {s: services[s]["rollback"]["verdict"] for s in SERVICES} == {
        "tiles": "succeeded",
        "timeseries": "succeeded",
    }
    assert live(rig) == before
    assert_restore_points_kept(rig, before)
    journal = (tmp_path / "deploy-journal.jsonl").read_text().splitlines()
    events = [json.loads(line)["event"] for line in journal]
    # Every rollback is sent before any is watched.
    assert events.index("rollback_verdict") > max(
        i for i, e in enumerate(events) if e == "rollback_started"
    )


def test_sigint_then_sigterm_cuts_the_grace_and_leaves_the_marker_while_settling(
    make_rig: RigFactory, tmp_path: Path
) -> None:
    # tiles' new release is slow, and so is every deployment from its 2nd update on: the
    # rollback cannot settle within the second of grace a SIGTERM after SIGINT leaves.
    rig = make_rig(faults=("tiles=slow",))
    rig.front.model.faults.append(Fault("tiles", FaultKind.SLOW, from_update=2))
    before = live(rig)
    run = DeployProcess(rig, "deploy", tmp_path, "--grace", "30")
    run.wait_for(started("tiles"))

    run.signal(signal.SIGINT)
    run.wait_for(lambda line: line.startswith("tiles: rolling back from"))
    sigterm_at = time.monotonic()
    run.signal(signal.SIGTERM)

    assert run.finish() == 128 + signal.SIGINT
    assert time.monotonic() - sigterm_at < 2.5, "done before GitHub's SIGKILL"
    report = report_of(tmp_path)
    tiles = by_service(report)["tiles"]
    assert report["verdict"] == "interrupted"
    assert tiles["rollback"]["verdict"] == "in_progress"
    assert "still settling" in tiles["rollback"]["reason"]
    assert "python -m shipyard.tools.deploy rollback --cluster" in report["reason"]
    assert rig.tags("tiles")[IN_FLIGHT] == report["run_id"], "not settled: marker kept"
    assert rig.service("tiles")["taskDefinition"] == before["tiles"], "rollback was sent"
    assert_restore_points_kept(rig, before)


def test_sigkill_mid_deploy_then_rollback_without_a_report_restores_both_from_aws(
    make_rig: RigFactory, tmp_path: Path
) -> None:
    rig = make_rig(faults=("timeseries=slow",))
    before = live(rig)
    run = DeployProcess(rig, "deploy", tmp_path / "killed")
    run.wait_for(started("timeseries"))

    run.signal(signal.SIGKILL)
    assert run.finish() == -signal.SIGKILL
    assert live(rig) != before, "tiles runs the new release, timeseries is rolling out"
    checkpoint = report_of(tmp_path / "killed")
    assert checkpoint["verdict"] == "in_progress"
    blocked = verify(rig.config())
    assert not blocked.ok
    assert f"run {checkpoint['run_id']}" in blocked.render()
    assert "was interrupted" in blocked.render()
    assert "a deployment is already in progress" not in blocked.render(), "the marker says more"
    assert (
        f"`python -m shipyard.tools.deploy rollback --cluster {rig.account.cluster} --region "
        f"ap-southeast-2 --endpoint-url {rig.url}`"
    ) in blocked.render()

    # The dead runner's disk is gone: only AWS knows the restore points.
    restored = rollback(rig.config(), log=rig.log)

    assert restored.verdict == "succeeded", restored.reason
    assert [s.service for s in restored.services] == ["tiles", "timeseries"]
    assert live(rig) == before
    assert_restore_points_kept(rig, before)
    for service in SERVICES:
        assert IN_FLIGHT not in rig.tags(service)
        assert rig.tags(service)[RESTORE_TASK_DEFINITION] == before[service]
    assert verify(rig.config()).ok


def test_sigterm_during_a_rollback_reports_what_is_still_settling(
    make_rig: RigFactory, tmp_path: Path
) -> None:
    rig = make_rig(services=("tiles",))
    deployed = DeployProcess(rig, "deploy", tmp_path, "--service", "tiles")
    assert deployed.finish() == 0
    before = report_of(tmp_path)["restore_points"][0]["task_definition"]
    rig.front.model.faults.append(Fault("tiles", FaultKind.SLOW, from_update=2))
    run = DeployProcess(
        rig, "rollback", tmp_path, "--from-report", str(tmp_path / "deploy-report.json")
    )
    run.wait_for(lambda line: line.startswith("tiles: rolling back from"))

    run.signal(signal.SIGTERM)

    assert run.finish() == 128 + signal.SIGTERM
    report = report_of(tmp_path, "rollback")
    tiles = by_service(report)["tiles"]
    assert report["verdict"] == "interrupted"
    assert tiles["verdict"] == "in_progress"
    assert "still settling" in tiles["reason"]
    assert rig.service("tiles")["taskDefinition"] == before
    assert rig.front.calls[ECS + "DeregisterTaskDefinition"] == 0


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-1"])
def test_a_bad_number_is_a_one_line_error_before_any_change(
    make_rig: RigFactory, tmp_path: Path, value: str
) -> None:
    rig = make_rig(services=("tiles",))
    run = DeployProcess(rig, "rollback", tmp_path, "--poll-interval", value)

    assert run.finish() == 2
    assert run.lines == [
        f"error: poll interval {float(value)} is not a positive finite number of seconds; "
        "pass e.g. 5"
    ]
    assert rig.mutating_calls() == 0


def test_a_throttled_rollback_after_a_signal_is_retried_within_the_grace(
    make_rig: RigFactory, tmp_path: Path
) -> None:
    rig = make_rig(faults=("tiles=slow",), services=("tiles",))
    before = rig.service("tiles")["taskDefinition"]
    run = DeployProcess(rig, "deploy", tmp_path, "--service", "tiles", "--max-attempts", "1")
    run.wait_for(started("tiles"))

    rig.front.throttle.update({"UpdateService": 5})
    run.signal(signal.SIGTERM)

    assert run.finish() == 128 + signal.SIGTERM
    tiles = by_service(report_of(tmp_path))["tiles"]
    assert tiles["rollback"]["verdict"] == "succeeded", tiles["rollback"]["reason"]
    assert rig.front.calls["throttled:UpdateService"] == 5
    assert rig.service("tiles")["taskDefinition"] == before
    assert rig.front.calls[ECS + "DeregisterTaskDefinition"] == 0


def test_under_githubs_cancellation_timing_the_report_is_written_before_sigkill(
    make_rig: RigFactory, tmp_path: Path
) -> None:
    # GitHub cancels with SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s after that. The rollback
    # here cannot settle in that time, so the run must give up watching and report in time.
    rig = make_rig(faults=("tiles=slow",))
    rig.front.model.faults.append(Fault("tiles", FaultKind.SLOW, from_update=2))
    run = DeployProcess(rig, "deploy", tmp_path)
    run.wait_for(started("tiles"))

    cancelled_at = time.monotonic()
    run.signal(signal.SIGINT)
    # GitHub's SIGTERM comes 7.5 s after SIGINT, whatever the run is doing then.
    sigterm = threading.Timer(7.5, run.process.send_signal, (signal.SIGTERM,))
    sigterm.start()
    try:
        run.wait_for(lambda line: line.startswith("journal: "), timeout=10.0)  # before SIGKILL
        run.process.wait(timeout=max(0.0, cancelled_at + 10.0 - time.monotonic()))
    except subprocess.TimeoutExpired:
        run.process.kill()
        pytest.fail("still running when GitHub would have sent SIGKILL")
    finally:
        sigterm.cancel()

    # Gone before SIGKILL: on its own, or (a loaded runner, seen with 8 busy processes on 2
    # cores) ended by the SIGTERM during the interpreter's shutdown, the report already out.
    assert run.finish() in (128 + signal.SIGINT, -signal.SIGTERM)
    report = report_of(tmp_path)
    assert report["verdict"] == "interrupted"
    assert by_service(report)["tiles"]["rollback"]["verdict"] == "in_progress"
    assert rig.tags("tiles")[IN_FLIGHT] == report["run_id"]
