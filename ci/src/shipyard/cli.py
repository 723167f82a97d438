"""Call the module's functions from a plain client session: ``python -m shipyard.cli <function>``.

`dagger call` needs the Python module runtime, which cannot be built without internet. This
runner opens ``dagger.connection()`` (the engine from ``_EXPERIMENTAL_DAGGER_RUNNER_HOST`` or the
CLI) and calls the same function with explicit arguments: directories and files default to the
repository paths the module declares (``DefaultPath``, filtered by its ``Ignore``), secrets are
given as ``env:NAME`` or ``file:PATH`` exactly as with `dagger call`.

    python -m shipyard.cli test
    python -m shipyard.cli rehearse --fault tiles=crash
    python -m shipyard.cli run-pipeline --event pull_request --ref refs/pull/1/merge --git-sha $SHA
    python -m shipyard.cli docs --export .
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import tempfile
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio

# gql prefers httpx2 over httpx when both are installed (rio-tiler, a test dependency of the app,
# brings httpx2 into the development environment), but the Dagger SDK hands it httpx objects and
# every connection then fails. Hide httpx2 from this process before the SDK is imported.
sys.modules.setdefault("httpx2", None)  # type: ignore[arg-type]

import dagger  # noqa: E402
from dagger import dag  # noqa: E402

from shipyard.main import Shipyard  # noqa: E402
from shipyard.pipeline_flow import PipelineError  # noqa: E402

REPO = Path(__file__).resolve().parents[3]


class CliError(Exception):
    """A command-line argument cannot be used; the message names it and the fix."""


def _functions() -> dict[str, Any]:
    object_type = Shipyard.__dagger_object_type__  # type: ignore[attr-defined]
    return {name.replace("_", "-"): fn for name, fn in object_type.functions.items() if name}


def _base_type(annotation: Any) -> Any:
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return annotation
    members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    return members[0] if len(members) == 1 else annotation


def _parser(functions: dict[str, Any]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m shipyard.cli", description="Call a shipyard function on the engine."
    )
    commands = parser.add_subparsers(dest="function", required=True)
    for name, fn in sorted(functions.items()):
        sub = commands.add_parser(name, help=fn.doc, description=fn.doc)
        sub.add_argument("--export", type=Path, help="where to write a returned file/directory")
        for parameter in fn.parameters.values():
            flag = "--" + parameter.signature.name.replace("_", "-")
            kind = _base_type(parameter.resolved_type)
            required = (
                not parameter.is_nullable
                and parameter.default_value is None
                and not (parameter.default_path)
            )
            if kind is bool:
                sub.add_argument(
                    flag, dest=parameter.signature.name, action="store_true", help=parameter.doc
                )
            elif typing.get_origin(kind) is list:
                sub.add_argument(
                    flag, dest=parameter.signature.name, action="append", help=parameter.doc
                )
            else:
                sub.add_argument(
                    flag, dest=parameter.signature.name, required=required, help=parameter.doc
                )
    return parser


def _secret(name: str, spec: str) -> dagger.Secret:
    source, _, where = spec.partition(":")
    if source == "env" and where in os.environ:
        return dag.set_secret(name, os.environ[where])
    if source == "file" and Path(where).is_file():
        return dag.set_secret(name, Path(where).read_text(encoding="utf-8").strip())
    raise CliError(
        f"--{name.replace('_', '-')}: give env:VARIABLE (set) or file:PATH (existing); got a "
        f"{source or 'bare'} value"
    )


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
    if kind is float:
        return float(given)
    if kind is int:
        return int(given)
    return given


def repository_sources(function: str) -> dict[str, Any]:
    """The directories and files a function reads from the repository when called bare: its
    DefaultPath arguments, narrowed by their Ignore patterns. Needs an open session."""
    fn = _functions()[function]
    return {p.signature.name: _argument(p, None) for p in fn.parameters.values() if p.default_path}


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
            print((target / "summary.md").read_text(encoding="utf-8"))
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


async def call(function: str, arguments: dict[str, Any], export: Path | None) -> int:
    fn = _functions()[function]
    async with dagger.connection(dagger.Config(log_output=sys.stderr)):
        kwargs = {
            p.signature.name: _argument(p, arguments.get(p.signature.name))
            for p in fn.parameters.values()
        }
        given = {name: value for name, value in kwargs.items() if value is not None}
        result = getattr(Shipyard(), fn.original_name)(**given)
        if inspect.isawaitable(result):
            result = await result
        return await _deliver(result, export, function)


def main(argv: Sequence[str] | None = None) -> int:
    functions = _functions()
    args = vars(_parser(functions).parse_args(argv))
    function, export = args.pop("function"), args.pop("export")
    try:
        return anyio.run(call, function, args, export)
    except (CliError, PipelineError, dagger.QueryError) as error:
        print(f"{function}: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        print(f"{function} failed: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
