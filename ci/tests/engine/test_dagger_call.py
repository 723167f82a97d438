"""The README's `dagger call` lines, run verbatim through the real `dagger` CLI on the kit.

`dagger call` loads the module with the engine's Python SDK runtime (on the kit, the one
kit/provision packs into the engine image). The kit's image overrides reach the module's
constructor through dagger's user defaults: the repository's `.env` maps
SHIPYARD_KIT_IMAGE_OVERRIDES (exported by `kit/provision --print-env`, or set here from
SHIPYARD_IMAGES) onto `--image-overrides`, so no line is edited.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parents[3]
README = REPO / "README.md"
WORKFLOW = REPO / ".github" / "workflows" / "pipeline.yml"
# A cold engine installs the module's runtime and pulls every image of a stage once.
CALL_TIMEOUT_SECONDS = 1800
ANSI = re.compile(r"\x1b\[[0-9;]*m")
README_CALLS = (
    "dagger call docs-check",
    "dagger call lint",
    "dagger call scan",
    "dagger call build",
    "dagger call test",
)


def run_dagger(
    arguments: Sequence[str], env: Mapping[str, str], cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    """The kit's `dagger` CLI with these arguments, in `cwd` (the repository's root)."""
    return subprocess.run(
        [env["_EXPERIMENTAL_DAGGER_CLI_BIN"], *arguments],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=CALL_TIMEOUT_SECONDS,
        check=False,
    )


def run_line(line: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """One README line, as a person types it, in the repository's root."""
    words = line.split()
    assert words[0] == "dagger", line
    return run_dagger(words[1:], env)


def listed_functions(table: str) -> set[str]:
    """Function names from `dagger functions`' table (the first column after its header)."""
    lines = [ANSI.sub("", line).strip() for line in table.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["Name", "Description"])
    return {line.split()[0] for line in lines[start + 1 :] if line}


def called_function(words: list[str]) -> str:
    """The function `dagger call WORDS` calls: the first word after the CLI's own switches
    (`-i`, `--progress=plain`) and the module's own `--flag value` pairs (the credentials)."""
    at = 0
    while at < len(words) and words[at].startswith("-"):
        switch = not words[at].startswith("--") or "=" in words[at]
        at += 1 if switch else 2
    return words[at] if at < len(words) else ""


def named_functions(readme: str, workflow: str) -> set[str]:
    """Every function the README calls (`dagger call … NAME`) and the workflow's steps call."""
    calls = re.findall(r"dagger call ([^`\n]*)", readme.replace("\\\n", " "))
    for job in yaml.safe_load(workflow)["jobs"].values():
        for step in job.get("steps", []):
            calls.append((step.get("with") or {}).get("call") or "")
    names = {called_function(call.split()) for call in calls}
    return {name for name in names if re.fullmatch(r"[a-z][a-z0-9-]*", name)}


def failure(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n{ANSI.sub('', result.stderr)[-4000:]}"


def test_listed_functions_reads_the_name_column() -> None:
    table = "\x1b[1mName\x1b[0m   \x1b[1mDescription\x1b[0m\nbuild  Build it.\nrun-pipeline  Run.\n"
    assert listed_functions(table) == {"build", "run-pipeline"}


def test_named_functions_come_from_readme_and_workflow() -> None:
    readme = (
        "run `dagger call scan` or `dagger call docs export --path .` or `dagger call -i lint`\n"
        "dagger call --aws-endpoint-url $URL --aws-access-key-id env:K \\\n  plan --cluster c\n"
    )
    workflow = (
        "jobs:\n  j:\n    steps:\n      - with:\n          call: >-\n"
        "            --aws-session-token env:T go --x y\n"
    )
    assert named_functions(readme, workflow) == {"scan", "docs", "lint", "plan", "go"}


def test_dagger_functions_lists_every_function_the_readme_and_workflow_call(
    dagger_cli_env: dict[str, str],
) -> None:
    result = run_line("dagger functions", dagger_cli_env)
    assert result.returncode == 0, failure(result)
    listed = listed_functions(result.stdout)
    named = named_functions(README.read_text(), WORKFLOW.read_text())
    assert named, "no `dagger call NAME` found in README.md and the workflow"
    assert named <= listed, f"called but not listed by `dagger functions`: {named - listed}"


@pytest.mark.parametrize("line", README_CALLS)
def test_readme_line_passes_on_the_kit(line: str, dagger_cli_env: dict[str, str]) -> None:
    assert f"`{line}`" in README.read_text(), f"README.md no longer says `{line}`"
    result = run_line(line, dagger_cli_env)
    assert result.returncode == 0, failure(result)
    assert result.stdout.strip(), f"{line} printed nothing"


def test_a_module_with_dependencies_is_refused_with_the_reason(
    tmp_path: Path, dagger_cli_env: dict[str, str]
) -> None:
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "dagger.json").write_text(
        '{"name": "other", "engineVersion": "v0.21.4", "sdk": {"source": "dang"}}'
    )
    (tmp_path / "other" / "main.dang").write_text(
        'type Other {\n  pub hello: String! { "hi" }\n}\n'
    )
    (tmp_path / "dagger.json").write_text(
        '{"name": "needs-other", "engineVersion": "v0.21.8", "sdk": {"source": "python"},'
        ' "dependencies": [{"name": "other", "source": "other"}]}'
    )
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "needs-other"\nversion = "0.1.0"\ndependencies = ["dagger-io"]\n'
    )
    (tmp_path / "src" / "needs_other").mkdir(parents=True)
    (tmp_path / "src" / "needs_other" / "__init__.py").write_text("")
    result = run_dagger(["functions"], dagger_cli_env, cwd=tmp_path)
    assert result.returncode != 0
    assert "module needs-other depends on other" in ANSI.sub("", result.stderr), failure(result)
    assert "no code generator" in result.stderr


# The probe module notes every start of its runtime in uv's cache volume, the one mount that
# outlives a session; a token per test run keeps each run's module and note its own.
PROBE_MODULE = """\
import sys
from pathlib import Path

from dagger import function, object_type

NOTE = Path("/root/.cache/uv/shipyard-probe-{token}.log")
with NOTE.open("a") as note:
    note.write("register\\n" if "--register" in sys.argv else "serve\\n")


@object_type
class Probe:
    greeting: str = "default"

    @function
    def starts(self) -> str:
        return self.greeting + "\\n" + NOTE.read_text()
"""


def test_a_new_session_reuses_the_modules_type_definitions(
    tmp_path: Path, dagger_cli_env: dict[str, str]
) -> None:
    """The kit's runtime registers a module through `moduleTypes`, an exec the engine caches:
    a session with the same source and user defaults (`.env`) loads the type definitions
    without starting the runtime; a new value of a user default registers anew and reaches
    the module."""
    (tmp_path / "dagger.json").write_text(
        '{"name": "probe", "engineVersion": "v0.21.8", "sdk": {"source": "python"}}'
    )
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "probe"\nversion = "0.1.0"\ndependencies = ["dagger-io"]\n'
        '[build-system]\nrequires = ["hatchling>=1.25"]\nbuild-backend = "hatchling.build"\n'
    )
    (tmp_path / ".env").write_text('PROBE_GREETING="${SHIPYARD_PROBE_GREETING:-none}"\n')
    (tmp_path / "src" / "probe").mkdir(parents=True)
    (tmp_path / "src" / "probe" / "__init__.py").write_text(
        PROBE_MODULE.format(token=uuid.uuid4().hex)
    )
    sessions = [("functions",), ("functions",), ("call", "starts"), ("call", "starts")]
    greetings = ["alpha", "alpha", "alpha", "beta"]
    results = [
        run_dagger(words, {**dagger_cli_env, "SHIPYARD_PROBE_GREETING": greeting}, cwd=tmp_path)
        for words, greeting in zip(sessions, greetings, strict=True)
    ]
    for result in results:
        assert result.returncode == 0, failure(result)
    assert "starts" in ANSI.sub("", results[0].stdout)
    # Each call's runtime serves the main object's constructor, then `starts`. Registering in
    # every session, as a function call, noted eight `serve` lines and no `register`.
    assert results[2].stdout.split() == ["alpha", "register", "serve", "serve"]
    assert results[3].stdout.split() == [
        *("beta", "register", "serve", "serve"),
        *("register", "serve", "serve"),
    ]


REHEARSE_LINE = "dagger call rehearse --registry-service tcp://localhost:5000 export --path out"


def test_the_readme_rehearsal_runs_through_dagger_call(dagger_cli_env: dict[str, str]) -> None:
    """The README's `dagger call rehearse` line: the same release as `./dev run`, staging then
    production with the digest staging tested."""
    assert f"`{REHEARSE_LINE}`" in README.read_text(), f"README.md no longer says {REHEARSE_LINE}"
    out = REPO / "out"
    try:
        result = run_line(REHEARSE_LINE, dagger_cli_env)
        assert result.returncode == 0, failure(result)
        report = json.loads((out / "report.json").read_text())
    finally:
        shutil.rmtree(out, ignore_errors=True)
    verdicts = {stage["stage"]: stage["verdict"] for stage in report["stages"]}
    failed = {s["stage"]: s["summary"] for s in report["stages"] if s["verdict"] == "failed"}
    assert report["verdict"] == "passed", failed or verdicts
    assert verdicts["production/deploy"] == "passed"
    staging, production = report["notes"]["staging image"], report["notes"]["production image"]
    assert staging.rpartition("@")[2] == production.rpartition("@")[2]


INTERACTIVE_SCAN = "dagger call -i --progress=plain scan --source ci/tests/gates/fixtures/scan"


def test_interactive_scan_opens_a_shell_at_its_failed_verdict(
    dagger_cli_env: dict[str, str],
) -> None:
    """A blocked scan is a failed exec, so `dagger call -i` asks the engine for a shell in that
    container. Plain progress has no terminal to show it in, and the CLI says so: the request
    itself is what a verdict judged after the exec never made."""
    result = run_line(INTERACTIVE_SCAN, dagger_cli_env)
    stderr = ANSI.sub("", result.stderr)
    assert result.returncode != 0, stderr[-2000:]
    assert "failed to open terminal" in stderr, failure(result)
    assert "running shell without the TUI is not supported" in stderr


def listed_by(verb: str, table: str) -> set[str]:
    """Names `dagger check|generate|up -l` lists for this module (`dagger check -l` goes on to
    list the generators under a heading of their own)."""
    names: set[str] = set()
    for line in (ANSI.sub("", line).strip() for line in table.splitlines()):
        if verb == "check" and line == "Generators":
            break
        if line.startswith("shipyard:"):
            names.add(line.split()[0].removeprefix("shipyard:"))
    return names


def test_listed_by_stops_the_checks_at_the_generators() -> None:
    table = "Name  Description\nshipyard:lint  Lint.\n\nGenerators\nshipyard:docs  Docs.\n"
    assert listed_by("check", table) == {"lint"}
    assert listed_by("generate", table) == {"lint", "docs"}


@pytest.mark.parametrize(
    ("verb", "names"),
    [
        ("check", {"test", "lint", "scan", "docs-check"}),
        ("generate", {"docs"}),
        ("up", {"serve"}),
    ],
)
def test_dagger_check_generate_and_up_list_the_marked_functions(
    verb: str, names: set[str], dagger_cli_env: dict[str, str]
) -> None:
    result = run_line(f"dagger {verb} -l", dagger_cli_env)
    assert result.returncode == 0, failure(result)
    assert listed_by(verb, result.stdout) == names, result.stdout
