"""Call the module's functions from a client session: ``python -m shipyard.module.cli <function>``.

`dagger call` needs the Python module runtime, which cannot be built without internet. This
runner opens ``dagger.connection()`` (the engine from ``_EXPERIMENTAL_DAGGER_RUNNER_HOST`` or the
CLI) and calls the same function with explicit arguments: directories and files default to the
repository paths the module declares (``DefaultPath``, filtered by its ``Ignore``), secrets are
given as ``env:NAME`` or ``file:PATH`` exactly as with `dagger call`.

    python -m shipyard.module.cli test
    python -m shipyard.module.cli rehearse --fault tiles=crash
    python -m shipyard.module.cli run-pipeline --event pull_request \\
        --ref refs/pull/1/merge --git-sha $SHA
    python -m shipyard.module.cli docs --export .
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, NoReturn
from urllib.parse import urlparse

import anyio

# gql prefers httpx2 over httpx when both are installed (rio-tiler, a test dependency of the app,
# brings httpx2 into the development environment), but the Dagger SDK hands it httpx objects and
# every connection then fails. Hide httpx2 from this process before the SDK is imported.
sys.modules.setdefault("httpx2", None)  # type: ignore[arg-type]

import dagger  # noqa: E402
from dagger import dag  # noqa: E402
from dagger.mod import default_module  # noqa: E402

from shipyard.decide import pipeline_flow, progress, topology  # noqa: E402
from shipyard.decide.pipeline_flow import PipelineError  # noqa: E402
from shipyard.decide.summary import render_terminal  # noqa: E402
from shipyard.module.main import Shipyard  # noqa: E402
from shipyard.module.steps import StageFailed  # noqa: E402
from shipyard.tools import registry  # noqa: E402
from shipyard.tools.deploy.config import parse_container_assignments  # noqa: E402
from shipyard.tools.deploy.errors import DeployError  # noqa: E402

REPO = Path(__file__).resolve().parents[4]


class CliError(Exception):
    """A command-line argument cannot be used; the message names it and the fix."""


PROG = "python -m shipyard.module.cli"
ENGINE_PROBE_SECONDS = 5.0
# Functions that announce their own stages; every other function is one stage.
COMPOSED: Final = frozenset({"rehearse", "run-pipeline"})
ENGINE_LOG = "engine.log"
LIVE_SECONDS = 1.0


def _functions() -> dict[str, Any]:
    object_type = default_module().get_object(Shipyard.__name__)
    return {name.replace("_", "-"): fn for name, fn in object_type.functions.items() if name}


def _constructor() -> Any:
    """Shipyard's own arguments (image overrides, AWS credentials and endpoint): given before
    the function, as `dagger call` takes them."""
    return default_module().get_object(Shipyard.__name__).get_constructor()


def _parameters(function: str) -> list[Any]:
    return [*_constructor().parameters.values(), *_functions()[function].parameters.values()]


def function_parameters(function: str) -> dict[str, str]:
    """A function's command-line flags (without --) and what each takes: "bool" (a switch),
    "secret" (env:NAME or file:PATH) or "value"."""
    return _flag_kinds(_functions()[function].parameters.values())


def constructor_parameters() -> dict[str, str]:
    """The flags given before the function (`dagger call --aws-access-key-id env:… deploy`)."""
    return _flag_kinds(_constructor().parameters.values())


def _flag_kinds(parameters: Iterable[Any]) -> dict[str, str]:
    kinds = {}
    for parameter in parameters:
        kind = _base_type(parameter.resolved_type)
        flag = parameter.signature.name.replace("_", "-")
        kinds[flag] = "bool" if kind is bool else "secret" if kind is dagger.Secret else "value"
    return kinds


def _base_type(annotation: Any) -> Any:
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return annotation
    members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    return members[0] if len(members) == 1 else annotation


class _Parser(argparse.ArgumentParser):
    """argparse that ends a mistake in one line naming the fix, not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}; see `{self.prog} --help`\n")


_CONVERTERS: Final[Mapping[Any, Callable[[str], Any]]] = {float: float, int: int}


def _parser(functions: dict[str, Any]) -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Call a shipyard function on the engine.")
    for parameter in _constructor().parameters.values():
        _add_parameter(parser, parameter)
    commands = parser.add_subparsers(dest="function", required=True, metavar="FUNCTION")
    for name, fn in sorted(functions.items()):
        sub = commands.add_parser(name, help=fn.doc, description=fn.doc)
        sub.add_argument("--export", type=Path, help="where to write a returned file/directory")
        sub.add_argument(
            "--verbose", action="store_true", help="stream the engine's log, not only to its file"
        )
        for parameter in fn.parameters.values():
            _add_parameter(sub, parameter)
    return parser


def _add_parameter(sub: argparse.ArgumentParser, parameter: Any) -> None:
    flag = "--" + parameter.signature.name.replace("_", "-")
    kind = _base_type(parameter.resolved_type)
    options: dict[str, Any] = {"dest": parameter.signature.name, "help": parameter.doc}
    if kind is bool:
        sub.add_argument(flag, action="store_true", **options)
    elif typing.get_origin(kind) is list:
        sub.add_argument(flag, action="append", **options)
    else:
        default = parameter.signature.default
        required = default is inspect.Parameter.empty and not parameter.default_path
        sub.add_argument(
            flag,
            required=required,
            type=_CONVERTERS.get(kind, str),
            default=None if default is inspect.Parameter.empty else default,
            **options,
        )


def check_secret(flag: str, spec: str, environ: Mapping[str, str]) -> None:
    """A secret is named (env:NAME, file:PATH), never typed, and must be there; the message never
    shows a value that could be the secret itself."""
    source, _, where = spec.partition(":")
    if source == "env" and where:
        if where not in environ:
            raise CliError(
                f"{flag} env:{where}: environment variable {where} is not set; export it or "
                f"pass {flag} file:PATH"
            )
    elif source == "file" and where:
        if not Path(where).is_file():
            raise CliError(f"{flag} file:{where}: no such file; give an existing file or env:NAME")
    else:
        raise CliError(
            f"{flag}: give env:NAME (an environment variable) or file:PATH, not the secret itself"
        )


def check_arguments(function: str, values: Mapping[str, Any], environ: Mapping[str, str]) -> None:
    """Every mistake that can be seen before the engine is asked: secrets that are not there,
    missing files, and the values the function's own first step would reject."""
    for parameter in _parameters(function):
        name, given = parameter.signature.name, values.get(parameter.signature.name)
        flag, kind = "--" + name.replace("_", "-"), _base_type(parameter.resolved_type)
        if given is None:
            continue
        if kind is dagger.Secret:
            check_secret(flag, given, environ)
        elif kind is dagger.File and not Path(given).is_file():
            raise CliError(f"{flag} {given}: no such file; give the path of an existing file")
        elif kind is dagger.Directory and not Path(given).is_dir():
            raise CliError(f"{flag} {given}: no such directory; give an existing directory")
    try:
        parse_container_assignments(values.get("container") or [])
        if function == "run-pipeline":
            _check_pipeline_arguments(values)
        if function == "rehearse":
            topology.parse_faults(values.get("fault") or [])
    except (DeployError, PipelineError, registry.RegistryError, topology.TopologyError) as error:
        raise CliError(str(error)) from None


def _check_pipeline_arguments(values: Mapping[str, Any]) -> None:
    """What run_pipeline checks first, checked before a session: the event, the SHA and, for a
    release, the environment's pipeline configuration."""
    flow = pipeline_flow.flow_for_event(values["event"], values["ref"])
    registry.checked_git_sha(values["git_sha"])
    if flow is pipeline_flow.Flow.RELEASE:
        pipeline_flow.parse_pipeline_outputs(values["pipeline_config"], values["environment"])


def engine_problem(environ: Mapping[str, str]) -> str | None:
    """Why no engine session can start, or None. The SDK itself would wait without limit for a
    runner that does not answer, or try to download a CLI."""
    cli = environ.get("_EXPERIMENTAL_DAGGER_CLI_BIN") or shutil.which("dagger")
    if not cli or not Path(cli).is_file():
        return (
            f"no Dagger CLI ({cli or 'dagger not on PATH'}); install dagger at the pinned version "
            "or run `source <(kit/provision --print-env)`"
        )
    runner = environ.get("_EXPERIMENTAL_DAGGER_RUNNER_HOST", "")
    reason = _runner_unreachable(runner) if runner else None
    if reason is None:
        return None
    return (
        f"the Dagger engine at {runner} does not answer ({reason}); start it with "
        "`kit/provision` (or unset _EXPERIMENTAL_DAGGER_RUNNER_HOST to use the CLI's own engine)"
    )


def _runner_unreachable(runner: str) -> str | None:
    address = urlparse(runner)
    try:
        if address.scheme == "tcp":
            socket.create_connection(
                (address.hostname, address.port), timeout=ENGINE_PROBE_SECONDS
            ).close()
        elif address.scheme == "unix":
            with socket.socket(socket.AF_UNIX) as unix:
                unix.settimeout(ENGINE_PROBE_SECONDS)
                unix.connect(address.path)
        elif address.scheme == "docker-container":
            return _container_not_running(address.netloc)
    except OSError as error:
        return error.strerror or str(error)
    return None


def _container_not_running(name: str) -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return f"no docker command to find container {name} with"
    probe = subprocess.run(
        [docker, "inspect", "--format", "{{.State.Running}}", name],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if probe.returncode != 0:
        return f"no container {name}"
    return None if probe.stdout.strip() == "true" else f"container {name} is stopped"


def _secret(name: str, spec: str) -> dagger.Secret:
    """The secret check_secret accepted: an environment variable as it is, a file's first line."""
    source, _, where = spec.partition(":")
    if source == "env":
        return dag.set_secret(name, os.environ[where])
    return dag.set_secret(name, Path(where).read_text(encoding="utf-8").strip())


def _argument(parameter: Any, given: Any) -> Any:
    kind = _base_type(parameter.resolved_type)
    if given is None and parameter.default_path:
        given = str(REPO / parameter.default_path.lstrip("/"))
    if given is None:
        return None
    if kind is dagger.Directory:
        return dag.host().directory(str(given), exclude=list(parameter.ignore or []))
    if kind is dagger.File:
        return dag.host().file(str(given))
    if kind is dagger.Secret:
        return _secret(parameter.signature.name, given)
    return given


def repository_sources(function: str) -> dict[str, Any]:
    """The directories and files a function reads from the repository when called bare: its
    DefaultPath arguments, narrowed by their Ignore patterns. Needs an open session."""
    fn = _functions()[function]
    return {p.signature.name: _argument(p, None) for p in fn.parameters.values() if p.default_path}


def terminal_summary(markdown: str, stream: typing.TextIO) -> str:
    """A run's summary.md as `stream` should show it: colour only on a terminal that wants it
    (NO_COLOR unset), lines as wide as the terminal."""
    colour = stream.isatty() and not os.environ.get("NO_COLOR")
    width = shutil.get_terminal_size((100, 24)).columns
    return render_terminal(markdown, colour=colour, width=width)


async def _deliver(result: Any, export: Path | None, function: str) -> int:
    """Print or export what the function returned; the exit code follows a report's verdict."""
    if isinstance(result, str):
        print(result)
        return 0
    if isinstance(result, dagger.Changeset):
        changed = [*await result.added_paths(), *await result.modified_paths()]
        if export:
            await result.export(str(export))
        print("\n".join(changed) if changed else "no changes")
        return 0
    if isinstance(result, dagger.Directory):
        target = export or Path(tempfile.gettempdir()) / f"shipyard-{function}"
        await result.export(str(target))
        if (target / "summary.md").exists():
            markdown = (target / "summary.md").read_text(encoding="utf-8")
            print(terminal_summary(markdown, sys.stdout), end="")
        print(f"written to {target}/", file=sys.stderr)
        if (target / "report.json").exists():
            verdict = json.loads((target / "report.json").read_text(encoding="utf-8"))["verdict"]
            return 0 if verdict == "passed" else 1
        return 0
    if isinstance(result, dagger.File):
        target = export or Path(tempfile.gettempdir()) / f"shipyard-{function}.out"
        await result.export(str(target))
        print(f"written to {target}", file=sys.stderr)
        return 0
    if isinstance(result, dagger.Service):
        print("serving on http://127.0.0.1:8080 (Ctrl-C stops)", file=sys.stderr)
        await result.up(ports=[dagger.PortForward(frontend=8080, backend=8080)])
        return 0
    if isinstance(result, dagger.Container):
        await result.sync()
        print(f"{function}: built", file=sys.stderr)
        return 0
    raise CliError(f"{function} returned {type(result).__name__}, which this runner cannot show")


_ANSI_CODE: Final = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class EngineLog:
    """Where the engine session's own output goes: a file without colour codes, and with
    --verbose the terminal too. The SDK drains the session's stderr into `write`."""

    def __init__(self, path: Path, echo: typing.TextIO | None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = path.open("w", encoding="utf-8")
        self._echo = echo

    def write(self, text: str) -> int:
        self._file.write(_ANSI_CODE.sub("", text))
        if self._echo is not None:
            self._echo.write(text)
        return len(text)

    def writelines(self, lines: typing.Iterable[str]) -> None:
        for line in lines:  # the SDK forwards the session's stderr line by line, as it comes
            self.write(line)
            self.flush()

    def flush(self) -> None:
        self._file.flush()
        if self._echo is not None:
            self._echo.flush()

    def close(self) -> None:
        self._file.close()


class StageLines:
    """Stage announcements as lines on `stream`; on a terminal also a live line, redrawn every
    second, while a stage waits (a rollout, a smoke run)."""

    def __init__(self, stream: typing.TextIO, live: bool) -> None:
        self.view = progress.ProgressView()
        self.stream = stream
        self._lock = threading.Lock()
        self._shown = ""
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, daemon=True) if live else None
        if self._ticker is not None:
            self._ticker.start()

    def __call__(self, event: progress.StageEvent) -> None:
        with self._lock:
            lines = self.view.lines(event, time.monotonic())
            if lines:
                self._erase()
                self.stream.write("".join(line + "\n" for line in lines))
            self._draw()

    def _tick(self) -> None:
        while not self._stop.wait(LIVE_SECONDS):
            with self._lock:
                self._draw()

    def _draw(self) -> None:
        if self._ticker is None:
            return
        line = self.view.waiting(time.monotonic())
        if line or self._shown:
            self.stream.write("\r\x1b[K" + line)
        self._shown = line
        self.stream.flush()

    def _erase(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self._shown = ""

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            self._erase()
            self.stream.flush()


def output_folder(function: str, export: Path | None, returns_directory: bool) -> Path:
    """Where a call's files go: the exported directory, else one per function in the temp dir."""
    if export is not None and returns_directory:
        return export
    return Path(tempfile.gettempdir()) / f"shipyard-{function}"


class _RaisedInSession(Exception):
    """Carries an exception out of the session unchanged: the SDK turns any ValueError, TypeError
    or OSError raised inside `dagger.connection()` into "Failed to start Dagger engine session",
    and PipelineError and RegistryError are ValueErrors."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


async def call(
    function: str, arguments: dict[str, Any], export: Path | None, verbose: bool = False
) -> int:
    """Run one function in a session: its stages as lines on stderr, the engine's own output in
    a file (streamed too with --verbose), then what it returned."""
    fn = _functions()[function]
    folder = output_folder(function, export, fn.return_type is dagger.Directory)
    log = EngineLog(folder / ENGINE_LOG, sys.stderr if verbose else None)
    print(f"engine log: {log.path}", file=sys.stderr, flush=True)
    live = sys.stdout.isatty() and sys.stderr.isatty()
    lines = StageLines(sys.stderr, live)
    code: int | None = None
    try:
        with progress.watching(lines):
            async with dagger.connection(dagger.Config(log_output=typing.cast(typing.TextIO, log))):
                code = await _run_stage(function, fn, arguments, export)
    except dagger.DaggerError as error:
        if code is None:
            raise
        # The result is delivered; a session that then fails to shut down (a busy engine
        # missing its 10 s shutdown deadline) does not undo it.
        print(
            f"{PROG} {function}: the engine session did not close cleanly "
            f"({_first_line(error)}); the result above stands, details in {log.path}",
            file=sys.stderr,
        )
    finally:
        lines.close()
        log.close()
    return code


def _given(fn: Any, arguments: dict[str, Any]) -> dict[str, Any]:
    """The function's (or constructor's) arguments as the SDK takes them, unset ones left out."""
    kwargs = {
        p.signature.name: _argument(p, arguments.get(p.signature.name))
        for p in fn.parameters.values()
    }
    return {name: value for name, value in kwargs.items() if value is not None}


async def _run_stage(function: str, fn: Any, arguments: dict[str, Any], export: Path | None) -> int:
    """The call as one stage with a start and an end line (a composition announces its own)."""
    own = function not in COMPOSED
    if own:
        progress.announce(function)
    started = time.monotonic()
    try:
        shipyard = Shipyard(**_given(_constructor(), arguments))
        result = getattr(shipyard, fn.original_name)(**_given(fn, arguments))
        if inspect.isawaitable(result):
            result = await result
        code = await _deliver(result, export, function)
    except Exception as error:
        if own:
            progress.announce(function, "failed", time.monotonic() - started, str(error))
        raise _RaisedInSession(error) from error
    if own:
        verdict = "passed" if code == 0 else "failed"
        progress.announce(function, verdict, time.monotonic() - started)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    functions = _functions()
    parsed, unknown = _parser(functions).parse_known_args(argv)
    args = vars(parsed)
    function, export, verbose = args.pop("function"), args.pop("export"), args.pop("verbose")
    where = f"{PROG} {function}"
    if unknown:
        # Name the flags only: a stray value could be a secret typed by mistake.
        flags = " ".join(item for item in unknown if item.startswith("-")) or "a stray value"
        print(f"{where}: unknown argument {flags}; see `{where} --help`", file=sys.stderr)
        return 2
    try:
        check_arguments(function, args, os.environ)
        if problem := engine_problem(os.environ):
            raise CliError(problem)
        return anyio.run(call, function, args, export, verbose)
    except _RaisedInSession as carried:
        return _explain(where, carried.error)
    except Exception as error:
        return _explain(where, error)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _explain(where: str, error: Exception) -> int:
    """One message for a failure, ending in what to do; the exit code: 2 for a mistake in how
    the function was called or no engine, 1 for a run that failed."""
    if isinstance(error, CliError):
        print(f"{where}: {error}", file=sys.stderr)
        return 2
    if isinstance(error, (PipelineError, registry.RegistryError, StageFailed)):
        print(f"{where}: {error}", file=sys.stderr)
        return 1
    if isinstance(error, dagger.QueryError):
        print(f"{where}: the engine reported: {error}", file=sys.stderr)
        return 1
    if isinstance(error, dagger.DaggerError):
        print(
            f"{where}: no engine session ({_first_line(error)}); check the engine with "
            "`kit/provision --status` or `dagger core version`",
            file=sys.stderr,
        )
        return 2
    print(f"{where} failed: {type(error).__name__}: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
