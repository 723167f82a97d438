"""The toolchain containers load their installed libraries from byte code: every exec in them
(each deploy, smoke, promote, notify, test run) would otherwise compile them anew, since the
containers set PYTHONDONTWRITEBYTECODE."""

from __future__ import annotations

import re

import dagger
import pytest
from shipyard.decide.images import ImageCatalog
from shipyard.module import toolchains
from shipyard.module.cli import repository_sources

pytestmark = [pytest.mark.engine, pytest.mark.anyio]

# `python -v` prints "code object from '<x>.pyc'" (quoted) for byte code, and the bare source
# path when it compiles a module.
LOADED = re.compile(r"^# code object from '?(?P<path>[^']+)'?$", re.MULTILINE)


def loaded_from(verbose_stderr: str, folder: str) -> tuple[list[str], list[str]]:
    """The modules under `folder` loaded from byte code, and those compiled from source."""
    paths = [m["path"] for m in LOADED.finditer(verbose_stderr) if m["path"].startswith(folder)]
    return [p for p in paths if p.endswith(".pyc")], [p for p in paths if p.endswith(".py")]


async def test_the_pipeline_core_imports_boto3_and_httpx_from_byte_code(
    dagger_client: dagger.Client, images: ImageCatalog
) -> None:
    runner = toolchains.ci_runner(images, repository_sources("smoke")["ci"])
    verbose = await runner.with_exec(["python3", "-v", "-c", "import boto3, httpx"]).stderr()
    from_byte_code, compiled = loaded_from(verbose, f"{toolchains.VENV}/lib/")
    assert compiled[:5] == [], f"{len(compiled)} modules compiled from source"
    assert len(from_byte_code) > 50, verbose[-2000:]
