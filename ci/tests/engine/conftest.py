"""A live Dagger session for the engine suite, on the engine that kit/provision brought up.

Run `source <(kit/provision --print-env)` first (./dev test does). An unreachable engine FAILS
the suite with the reason: these tests never skip.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest

# gql prefers httpx2 over httpx when both are installed (rio-tiler, a test dependency of the app,
# brings httpx2 into the development environment), but the Dagger SDK hands it httpx objects and
# every connection then fails. Hide httpx2 before gql's transport is first imported.
if "gql.transport.httpx" not in sys.modules:
    sys.modules["httpx2"] = None  # type: ignore[assignment]

import dagger
from gql.transport import httpx as gql_httpx
from shipyard.decide.images import ImageCatalog

KIT_ENVIRONMENT = ("_EXPERIMENTAL_DAGGER_RUNNER_HOST", "_EXPERIMENTAL_DAGGER_CLI_BIN")
REPO = Path(__file__).resolve().parents[3]
# A cold engine pulls every image once; later calls are cache hits.
CONNECT_TIMEOUT_SECONDS = 120
ENGINE_PROBE_SECONDS = 60


def missing_kit_environment(environ: Mapping[str, str]) -> list[str]:
    """The kit's client settings that are absent from `environ`."""
    return [name for name in KIT_ENVIRONMENT if not environ.get(name)]


def engine_unreachable_reason(cli: Path) -> str | None:
    """Why `dagger core version` cannot reach the engine, or None when it can.

    The SDK waits without limit for a CLI that cannot reach its runner; this probe bounds it.
    """
    runner = os.environ["_EXPERIMENTAL_DAGGER_RUNNER_HOST"]
    try:
        probe = subprocess.run(
            [str(cli), "core", "version"],
            capture_output=True,
            text=True,
            timeout=ENGINE_PROBE_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return (
            f"no answer from the engine at {runner} within {ENGINE_PROBE_SECONDS}s; "
            "check `kit/provision --status` or run kit/provision"
        )
    if probe.returncode != 0:
        detail = probe.stderr.strip().splitlines()[-1:] or ["(no output)"]
        return (
            f"`dagger core version` via {runner} failed ({probe.returncode}): {detail[0]}; "
            "check `kit/provision --status` or run kit/provision"
        )
    return None


@pytest.fixture(scope="session")
def dagger_cli_env() -> dict[str, str]:
    """The environment a person's shell has after `source <(kit/provision --print-env)`: the
    kit's `dagger` on PATH and its image overrides as the text `.env` hands to `dagger call`."""
    env = dict(os.environ)
    if not env.get("SHIPYARD_KIT_IMAGE_OVERRIDES") and env.get("SHIPYARD_IMAGES"):
        env["SHIPYARD_KIT_IMAGE_OVERRIDES"] = Path(env["SHIPYARD_IMAGES"]).read_text()
    missing = [
        name
        for name in ("_EXPERIMENTAL_DAGGER_CLI_BIN", "SHIPYARD_KIT_IMAGE_OVERRIDES")
        if not env.get(name)
    ]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not set; run `source <(kit/provision --print-env)` first",
            pytrace=False,
        )
    cli_dir = str(Path(env["_EXPERIMENTAL_DAGGER_CLI_BIN"]).parent)
    env["PATH"] = os.pathsep.join([cli_dir, env.get("PATH", "")])
    return env


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def images() -> ImageCatalog:
    """The pipeline's image references with the kit's overrides (SHIPYARD_IMAGES) applied."""
    return ImageCatalog.from_settings()


@pytest.fixture(scope="session")
async def dagger_client() -> AsyncIterator[dagger.Client]:
    """A client connected to the kit's engine for the whole session."""
    if vars(gql_httpx)["httpx"].__name__ != "httpx":
        pytest.fail(
            "engine suite: gql was imported with httpx2 before this conftest could hide it, so "
            "every Dagger connection would fail; run `pytest -m engine ci/tests/engine`",
            pytrace=False,
        )
    missing = missing_kit_environment(os.environ)
    if missing:
        pytest.fail(
            f"engine suite: {', '.join(missing)} not set; run "
            "`source <(kit/provision --print-env)` (or ./dev test) before `pytest -m engine`",
            pytrace=False,
        )
    cli = Path(os.environ["_EXPERIMENTAL_DAGGER_CLI_BIN"])
    if not cli.is_file():
        pytest.fail(
            f"engine suite: _EXPERIMENTAL_DAGGER_CLI_BIN={cli} does not exist; "
            "run kit/provision to build it",
            pytrace=False,
        )
    unreachable = engine_unreachable_reason(cli)
    if unreachable:
        pytest.fail(f"engine suite: {unreachable}", pytrace=False)
    config = dagger.Config(
        log_output=sys.stderr,
        timeout=dagger.Timeout(None, connect=CONNECT_TIMEOUT_SECONDS),
        workdir=str(REPO),
    )
    async with contextlib.AsyncExitStack() as stack:
        try:
            await stack.enter_async_context(dagger.connection(config))
        except Exception as error:  # any failure to connect ends the suite with its reason
            pytest.fail(
                f"engine suite: cannot open a Dagger session via "
                f"{os.environ['_EXPERIMENTAL_DAGGER_RUNNER_HOST']}: {error}; "
                "check `kit/provision --status`",
                pytrace=False,
            )
        yield dagger.dag
