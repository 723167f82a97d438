"""Every command-line mistake ends in one line naming what is wrong and what to do, before any
engine work: `python -m shipyard.module.cli` runs as a user runs it, with a Dagger CLI that would
leave a mark if a session were ever started."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

PROG = "python -m shipyard.module.cli"
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def dagger_cli(tmp_path: Path) -> Path:
    """A stand-in Dagger CLI: any start of an engine session runs it and leaves a mark."""
    cli = tmp_path / "dagger"
    cli.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "session-started"}\nexit 1\n')
    cli.chmod(0o755)
    return cli


def shipyard_cli(
    *args: str, cli: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("_EXPERIMENTAL_DAGGER")}
    environ |= {"_EXPERIMENTAL_DAGGER_CLI_BIN": str(cli), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "shipyard.module.cli", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
        check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[str], cli: Path) -> str:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert not (cli.parent / "session-started").exists(), "an engine session was started"
    return lines[0]


def test_a_bad_container_value_names_the_form(dagger_cli: Path) -> None:
    result = shipyard_cli(
        "deploy", "--cluster", "c", "--image", "r@sha256:1", "--container", "tiles",
        cli=dagger_cli,
    )  # fmt: skip
    assert one_line_error(result, dagger_cli) == (
        f"{PROG} deploy: --container 'tiles' is not SERVICE=CONTAINER; name the service and its "
        "container, e.g. --container tiles=tiles (terraform output container_names)"
    )


def test_an_unknown_argument_is_named_without_its_value(dagger_cli: Path) -> None:
    result = shipyard_cli(
        "notify", "--webhook", "env:PATH", "--stage", "deploy", "--verdict", "failed",
        "--git-sha", SHA, "--webhok", "https://hooks.example.org/T0/SECRET", cli=dagger_cli,
    )  # fmt: skip
    line = one_line_error(result, dagger_cli)
    assert line == f"{PROG} notify: unknown argument --webhok; see `{PROG} notify --help`"
    assert "SECRET" not in line


def test_an_unknown_function_lists_the_functions(dagger_cli: Path) -> None:
    line = one_line_error(shipyard_cli("deplo", cli=dagger_cli), dagger_cli)
    assert line.startswith(f"{PROG}: argument FUNCTION: invalid choice: 'deplo' (choose from ")
    assert "'deploy'" in line
    assert line.endswith(f"see `{PROG} --help`")


def test_a_value_of_the_wrong_type_is_named(dagger_cli: Path) -> None:
    result = shipyard_cli(
        "deploy", "--cluster", "c", "--image", "r@sha256:1", "--timeout", "soon", cli=dagger_cli
    )
    assert one_line_error(result, dagger_cli) == (
        f"{PROG} deploy: argument --timeout: invalid float value: 'soon'; "
        f"see `{PROG} deploy --help`"
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "env:SHIPYARD_UNSET_WEBHOOK",
            "--webhook env:SHIPYARD_UNSET_WEBHOOK: environment variable SHIPYARD_UNSET_WEBHOOK "
            "is not set; export it or pass --webhook file:PATH",
        ),
        (
            "file:/nonexistent/webhook-url",
            "--webhook file:/nonexistent/webhook-url: no such file; give an existing file or "
            "env:NAME",
        ),
        (
            "https://hooks.example.org/T0/SECRET",
            "--webhook: give env:NAME (an environment variable) or file:PATH, not the secret "
            "itself",
        ),
    ],
)
def test_a_secret_that_is_not_there_says_how_to_give_it(
    dagger_cli: Path, spec: str, message: str
) -> None:
    result = shipyard_cli(
        "notify", "--webhook", spec, "--stage", "deploy", "--verdict", "failed",
        "--git-sha", SHA, cli=dagger_cli,
    )  # fmt: skip
    assert one_line_error(result, dagger_cli) == f"{PROG} notify: {message}"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("{not json", "--pipeline-config is not JSON (Expecting property name enclosed in double"),
        ("[]", "--pipeline-config must be a JSON object"),
        ('{"environment": "staging"}', "--pipeline-config lacks region, alb_url"),
    ],
)
def test_a_malformed_pipeline_config_is_caught_before_the_release(
    dagger_cli: Path, config: str, message: str
) -> None:
    result = shipyard_cli(
        "run-pipeline", "--event", "push", "--ref", "refs/heads/main", "--git-sha", SHA,
        "--pipeline-config", config, cli=dagger_cli,
    )  # fmt: skip
    line = one_line_error(result, dagger_cli)
    assert line.startswith(f"{PROG} run-pipeline: {message}")
    assert line.endswith("pass `terraform output -json pipeline` of that environment's workspace")


def test_an_unknown_rehearsal_fault_lists_the_faults(dagger_cli: Path) -> None:
    result = shipyard_cli("rehearse", "--fault", "tiles=explode", cli=dagger_cli)
    assert one_line_error(result, dagger_cli) == (
        f"{PROG} rehearse: --fault 'tiles=explode': unknown fault 'explode'; use one of crash, "
        "unhealthy, pull-error, slow-rollout, smoke-failure, check-failure, publish-error, "
        "docs-drift, docs-push-rejected, webhook-down"
    )


def test_a_missing_report_file_is_named(dagger_cli: Path, tmp_path: Path) -> None:
    missing = tmp_path / "deploy-report.json"
    result = shipyard_cli(
        "rollback", "--cluster", "c", "--from-report", str(missing), cli=dagger_cli
    )
    assert one_line_error(result, dagger_cli) == (
        f"{PROG} rollback: --from-report {missing}: no such file; give the path of an existing file"
    )


def test_an_unreachable_engine_is_named_with_how_to_start_it(
    dagger_cli: Path, closed_port: int
) -> None:
    runner = f"tcp://127.0.0.1:{closed_port}"
    result = shipyard_cli(
        "smoke", "--url", "http://127.0.0.1:9", cli=dagger_cli,
        env={"_EXPERIMENTAL_DAGGER_RUNNER_HOST": runner},
    )  # fmt: skip
    assert one_line_error(result, dagger_cli) == (
        f"{PROG} smoke: the Dagger engine at {runner} does not answer (Connection refused); "
        "start it with `kit/provision` (or unset _EXPERIMENTAL_DAGGER_RUNNER_HOST to use the "
        "CLI's own engine)"
    )


def test_an_engine_socket_that_is_not_there_is_named(dagger_cli: Path, tmp_path: Path) -> None:
    runner = f"unix://{tmp_path / 'buildkitd.sock'}"
    result = shipyard_cli(
        "smoke", "--url", "http://127.0.0.1:9", cli=dagger_cli,
        env={"_EXPERIMENTAL_DAGGER_RUNNER_HOST": runner},
    )  # fmt: skip
    assert "does not answer (No such file or directory)" in one_line_error(result, dagger_cli)


def test_an_engine_container_that_is_not_there_is_named(dagger_cli: Path) -> None:
    runner = "docker-container://shipyard-no-such-engine"
    result = shipyard_cli(
        "smoke", "--url", "http://127.0.0.1:9", cli=dagger_cli,
        env={"_EXPERIMENTAL_DAGGER_RUNNER_HOST": runner},
    )  # fmt: skip
    line = one_line_error(result, dagger_cli)
    assert line.startswith(f"{PROG} smoke: the Dagger engine at {runner} does not answer (")
    assert "shipyard-no-such-engine)" in line


def test_no_dagger_cli_at_all_is_named(dagger_cli: Path, tmp_path: Path) -> None:
    result = shipyard_cli(
        "smoke", "--url", "http://127.0.0.1:9", cli=tmp_path / "absent",
        env={"PATH": str(Path(sys.executable).parent)},
    )  # fmt: skip
    assert one_line_error(result, dagger_cli) == (
        f"{PROG} smoke: no Dagger CLI ({tmp_path / 'absent'}); install dagger at the pinned "
        "version or run `source <(kit/provision --print-env)`"
    )
