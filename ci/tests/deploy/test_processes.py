"""The rehearse wiring without Dagger: moto, the front and the deploy CLI as three processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
from shipyard.tools.rehearsal.local import front_process


def test_deploy_cli_against_the_front_process_fails_rolls_back_and_reports(
    moto_url: str, tmp_path: Path
) -> None:
    arguments = ["--fault", "timeseries=crash", "--time-scale", "80"]
    with front_process(moto_url, *arguments, "--seed", "e2e", "--push", "v2") as front:
        assert front.seeded is not None
        # Seeded like terraform: each service's container is named after the service.
        assert front.seeded["containers"] == {"tiles": "tiles", "timeseries": "timeseries"}
        containers = [
            arg
            for service, container in front.seeded["containers"].items()
            for arg in ("--container", f"{service}={container}")
        ]
        finished = subprocess.run(
            [
                sys.executable,
                "-m",
                "shipyard.tools.deploy",
                "deploy",
                "--cluster",
                "e2e",
                "--image",
                front.pushed["v2"],
                "--endpoint-url",
                front.url,
                "--poll-interval",
                "0.0625",
                "--timeout",
                "60",
                "--report-dir",
                str(tmp_path),
                *containers,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env={
                **os.environ,
                "AWS_ACCESS_KEY_ID": "AKIAE2ETESTE2ETEST00",
                "AWS_SECRET_ACCESS_KEY": "e2e-secret",
            },
        )

    assert finished.returncode == 1, finished.stderr
    assert f"report: {tmp_path / 'deploy-report.json'}" in finished.stdout
    assert "timeseries: event: (service timeseries) has started 2 tasks" in finished.stdout
    report = json.loads((tmp_path / "deploy-report.json").read_text())
    services = {s["service"]: s for s in report["services"]}
    assert report["verdict"] == "failed"
    assert services["tiles"]["verdict"] == "succeeded"
    assert services["tiles"]["rollback"]["verdict"] == "succeeded"
    timeseries = services["timeseries"]
    assert timeseries["verdict"] == "failed"
    exits = {
        c["exit_code"] for t in timeseries["dossier"]["stopped_tasks"] for c in t["containers"]
    }
    assert exits == {1}
    assert "e2e-secret" not in finished.stdout + finished.stderr


def test_twenty_throttled_updates_from_the_front_process_still_end_succeeded(
    moto_url: str, tmp_path: Path
) -> None:
    with front_process(
        moto_url,
        *("--throttle", "UpdateService=20", "--time-scale", "80"),
        *("--seed", "e2e-throttle", "--push", "v2"),
    ) as front:
        assert front.seeded is not None
        finished = subprocess.run(
            [
                sys.executable,
                "-m",
                "shipyard.tools.deploy",
                "deploy",
                "--cluster",
                "e2e-throttle",
                "--service",
                "tiles",
                "--container",
                "tiles=tiles",
                "--image",
                front.pushed["v2"],
                "--endpoint-url",
                front.url,
                "--poll-interval",
                "0.0625",
                "--max-attempts",
                "2",
                "--report-dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env={
                **os.environ,
                "AWS_ACCESS_KEY_ID": "AKIATHROTTLE00000000",
                "AWS_SECRET_ACCESS_KEY": "throttle-secret",
            },
        )
        calls = httpx.get(front.url + "/_rehearsal/calls").json()

    assert finished.returncode == 0, finished.stdout + finished.stderr
    report = json.loads((tmp_path / "deploy-report.json").read_text())
    assert report["verdict"] == "succeeded"
    assert report["services"][0]["rollback"] is None
    assert calls["throttled:UpdateService"] == 20
    assert "tiles: AWS is throttling or failing transiently; trying again" in finished.stdout
