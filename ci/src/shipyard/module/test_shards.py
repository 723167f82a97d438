"""The test stage as shards: one built test environment, one container per shard started from it
side by side, and a last step that combines the shards' coverage into the one report.

The plan (which files each shard runs) and the merged verdict come from
:mod:`shipyard.decide.shards`; everything here is deterministic in the sources, so a re-run with
no change is all cache hits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import anyio
import dagger
from dagger import dag

from shipyard.decide import pipeline_flow
from shipyard.decide import shards as plans
from shipyard.decide.images import ImageCatalog
from shipyard.module import steps, toolchains

COVERAGE_DIR: Final = "/coverage"
COVERAGE_XML: Final = "/src/coverage.xml"
DATASET_DIR: Final = "/dataset"
# coverage run leaves its data file here; the shards' pytest-cov leave theirs in their folders.
DATASET_COVERAGE: Final = f"{COVERAGE_DIR}/dataset"
GENERATE_DATASET: Final = ("coverage", "run", "-m", "gridserve.data", "generate", "--out")
# All the generator reads: the dataset is generated anew only when one of these changes.
DATASET_INPUTS: Final = (
    "pyproject.toml",
    toolchains.DEV_LOCK,
    "app/src/gridserve/__init__.py",
    "app/src/gridserve/data.py",
)
TEST_FILES: Final = ("app/tests/**/test_*.py", "app/tests/**/*_test.py")
# Every phase of every test in the report (--durations-min=0), for the durations file.
PYTEST: Final = (
    "pytest",
    "-m",
    "not engine",
    "-p",
    "no:cacheprovider",
    "-q",
    "--durations=0",
    "--durations-min=0",
)
COMBINE: Final = (
    "coverage combine --quiet {files} && coverage xml --quiet -o {xml} && "
    "coverage report --skip-covered"
)


@dataclass(frozen=True)
class ShardedRun:
    """Each shard's finished container, and the step that combined their coverage."""

    shards: tuple[tuple[plans.Shard, dagger.Container], ...]
    combined: dagger.Container

    async def run_side_by_side(self) -> None:
        """Start every shard at once and wait for all of them. Left to the combined step, the
        engine resolves its inputs one after another, so the shards would run in turn. A shard
        the engine could not run raises its own error, as it did from the combined step, not
        the task group's wrapper (the stages report a dagger error in its own words)."""
        try:
            async with anyio.create_task_group() as group:
                for _, container in self.shards:
                    group.start_soon(container.sync)
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from failed

    async def verdicts(self) -> plans.MergedRun:
        """Each shard's verdict, after the combined step; a failed test comes back named with
        its shard."""
        await self.combined.exit_code()
        runs = [
            plans.ShardRun(shard, await container.exit_code(), await container.stdout())
            for shard, container in self.shards
        ]
        return plans.merge_runs(runs)

    async def coverage_report(self) -> str:
        """coverage's report over all shards; its TOTAL line is the run's coverage."""
        await stop_unless_passed(self.combined, "coverage combine could not run")
        return await self.combined.stdout()

    async def outputs(self) -> list[str]:
        return [await container.stdout() for _, container in self.shards]


async def stop_unless_passed(step: dagger.Container, what: str) -> None:
    """Stop the stage, saying `what` with the exit code and the last of the output, when the
    step's command did not pass."""
    exit_code = await step.exit_code()
    if exit_code != steps.PASSED:
        output = await step.stderr() or await step.stdout()
        raise steps.StageFailed(f"{what} (exit {exit_code}): {steps.tail(output, 5)}")


def coverage_folder(shard: plans.Shard) -> str:
    """Where a shard's pytest-cov leaves its coverage data."""
    return f"{COVERAGE_DIR}/shard-{shard.number}"


async def engine_cores(images: ImageCatalog) -> int:
    """How many CPUs the engine's containers get: what the default shard count is made of."""
    probe = dag.container().from_(images.reference("PYTHON")).with_exec(["nproc"])
    return max(1, int((await probe.stdout()).strip()))


async def plan(
    images: ImageCatalog, source: dagger.Directory, shards: int
) -> tuple[plans.Shard, ...]:
    """The shards for this source: its test files dealt by the committed durations."""
    files = [path for pattern in TEST_FILES for path in await source.glob(pattern)]
    durations = {}
    if await source.exists(plans.DURATIONS_FILE):
        durations = plans.parse_durations(await source.file(plans.DURATIONS_FILE).contents())
    count = shards or plans.default_shards(await engine_cores(images))
    return plans.plan_shards(files, durations, count)


async def environment_with_dataset(
    images: ImageCatalog, source: dagger.Directory
) -> dagger.Container:
    """The test environment with the service's embedded dataset, generated once for every shard
    to read (by each shard, it cost every one of them 4.5 CPU-s), under coverage, from the
    generator's own files only, so that a change elsewhere reuses it. A generator that fails
    stops the stage before any shard starts."""
    # File by file: the engine reuses a step whose files have the same contents, but not one
    # given a directory narrowed from changed sources.
    inputs = dag.directory()
    for path in DATASET_INPUTS:
        inputs = inputs.with_file(path, source.file(path))
    generator = (
        toolchains.testing_environment(images, inputs)
        .with_env_variable("COVERAGE_FILE", f"{DATASET_COVERAGE}/.coverage")
        .with_exec([*GENERATE_DATASET, DATASET_DIR], expect=dagger.ReturnType.ANY)
    )
    await stop_unless_passed(generator, "test: the dataset could not be generated")
    return (
        toolchains.testing_environment(images, source)
        .with_mounted_directory(DATASET_DIR, generator.directory(DATASET_DIR))
        .with_directory(DATASET_COVERAGE, generator.directory(DATASET_COVERAGE))
        .with_env_variable("GRIDSERVE_TEST_DATASET", DATASET_DIR)
    )


def sharded_run(environment: dagger.Container, shards: Sequence[plans.Shard]) -> ShardedRun:
    """One container per shard from the same environment, each keeping its coverage data in its
    own folder, and a step from that environment that combines them into the one report."""
    started = []
    combining = environment
    for shard in shards:
        data = coverage_folder(shard)
        container = (
            environment.with_directory(data, dag.directory())
            .with_env_variable("COVERAGE_FILE", f"{data}/.coverage")
            .with_exec([*PYTEST, *shard.files], expect=dagger.ReturnType.ANY)
        )
        started.append((shard, container))
        combining = combining.with_directory(data, container.directory(data))
    # pytest-cov leaves one combined data file per shard, named as COVERAGE_FILE says.
    shard_files = [f"{coverage_folder(shard)}/.coverage" for shard in shards]
    files = " ".join([DATASET_COVERAGE, *shard_files])
    combined = combining.with_exec(
        ["sh", "-c", COMBINE.format(files=files, xml=COVERAGE_XML)], expect=dagger.ReturnType.ANY
    )
    return ShardedRun(tuple(started), combined)


async def tested(images: ImageCatalog, source: dagger.Directory, shards: int) -> ShardedRun:
    """The shards run, side by side; their combined step is left for the caller to evaluate."""
    environment = await environment_with_dataset(images, source)
    run = sharded_run(environment, await plan(images, source, shards))
    await run.run_side_by_side()
    return run


async def summary(images: ImageCatalog, source: dagger.Directory, shards: int) -> str:
    """pytest's totals over all shards and the combined coverage, as one run would print them;
    a failure names each failed test with its shard."""
    run = await tested(images, source, shards)
    merged = await run.verdicts()
    if not merged.passed:
        raise steps.StageFailed(f"test: {merged.report()}")
    return pipeline_flow.summarize_test_run(f"{merged.totals}\n{await run.coverage_report()}")


async def coverage_xml(images: ImageCatalog, source: dagger.Directory, shards: int) -> dagger.File:
    return (await tested(images, source, shards)).combined.file(COVERAGE_XML)


async def durations(images: ImageCatalog, source: dagger.Directory, shards: int) -> dagger.File:
    """The durations file as this run measured it, to commit in place of the old one."""
    run = await tested(images, source, shards)
    await run.combined.exit_code()
    measured = plans.file_durations(await run.outputs())
    name = plans.DURATIONS_FILE.rsplit("/", 1)[-1]
    return dag.directory().with_new_file(name, plans.render_durations(measured)).file(name)
