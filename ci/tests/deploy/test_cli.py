"""`python -m shipyard.tools.deploy`: the operations from a shell, credentials from the chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shipyard.tools.deploy.__main__ import main

from .conftest import POLL_SECONDS, Rig, RigFactory


@pytest.fixture
def rig(make_rig: RigFactory, monkeypatch: pytest.MonkeyPatch) -> Rig:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIACLITESTCLITEST00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "cli-test-secret")
    return make_rig(services=("tiles",))


def common(rig: Rig, report_dir: Path) -> list[str]:
    return [
        "--cluster",
        rig.account.cluster,
        "--service",
        "tiles",
        "--endpoint-url",
        rig.url,
        "--poll-interval",
        str(POLL_SECONDS),
        "--timeout",
        "30",
        "--report-dir",
        str(report_dir),
    ]


def test_cli_plan_verify_deploy_rollback(
    rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = rig.service("tiles")["taskDefinition"]
    args = common(rig, tmp_path)
    release = ["--image", rig.new_image, "--container", "tiles=tiles"]

    assert main(["plan", *args, *release]) == 0
    planned = capsys.readouterr().out
    assert f'+      "image": "{rig.new_image}",' in planned
    assert "(container tiles)" in planned
    assert main(["verify", *args, *release]) == 0
    assert "every check passed" in capsys.readouterr().out

    assert main(["deploy", *args, *release]) == 0
    out = capsys.readouterr().out
    assert f"report: {tmp_path / 'deploy-report.json'}" in out
    assert f"summary: {tmp_path / 'deploy-report.md'}" in out
    report = json.loads((tmp_path / "deploy-report.json").read_text())
    assert report["verdict"] == "succeeded"

    # Without --service, a rollback from a report covers the services the report lists.
    unscoped = [a for a in args if a not in ("--service", "tiles")]
    assert main(["rollback", *unscoped, "--from-report", str(tmp_path / "deploy-report.json")]) == 0
    assert "report: " in capsys.readouterr().out
    assert rig.service("tiles")["taskDefinition"] == before
    assert "cli-test-secret" not in (tmp_path / "rollback-report.json").read_text()


def test_cli_errors_exit_2_with_the_fix(
    rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = common(rig, tmp_path)
    assert main(["deploy", *args, "--image", rig.new_image, "--container", "app"]) == 2
    assert "--container 'app' is not SERVICE=CONTAINER" in capsys.readouterr().err
    assert main(["deploy", *args, "--image", rig.new_image, "--container", "tiles=app"]) == 2
    error = capsys.readouterr().err
    assert "service tiles: task definition" in error
    assert "has no container named 'app' (it has ['tiles'])" in error
    assert main(["verify", *args, "--image", rig.new_image, "--container", "tiles=app"]) == 1
    assert "has no container named 'app'" in capsys.readouterr().out
    assert rig.mutating_calls() == 0
    # A rollback returns to recorded task definitions: it takes no container names.
    with pytest.raises(SystemExit) as refused:
        main(["rollback", *args, "--container", "tiles=tiles"])
    assert refused.value.code == 2
    assert "unrecognized arguments: --container" in capsys.readouterr().err
    absent = rig.account.repository_uri + ":nope"
    assert main(["verify", *args, "--image", absent]) == 1
    assert "not found in ECR repository" in capsys.readouterr().out


def test_a_failed_deploy_exits_1_with_the_dossier_on_stderr(
    make_rig: RigFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whoever sees only the failed process (a failed exec in the engine) reads the dossier."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIACLITESTCLITEST00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "cli-test-secret")
    rig = make_rig(faults=("tiles=crash",), services=("tiles",))
    release = ["--image", rig.new_image, "--container", "tiles=tiles"]
    assert main(["deploy", *common(rig, tmp_path), *release]) == 1
    out, err = capsys.readouterr()
    assert "report: " in out
    assert err == (tmp_path / "deploy-report.md").read_text()
    assert "rolled back" in err
    assert "cli-test-secret" not in out + err
