"""The service's test suite split into shards that run side by side, and their verdicts read back
as one run. Free of Dagger: the module lists the test files, runs one container per shard and
hands the outputs here.

A shard is a set of whole test files. Splitting inside a file would start its module-scoped
fixtures (the uvicorn server) once per shard holding part of it, and would need a separate
collection step before any shard could start; whole files need neither.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from shipyard.decide.pipeline_flow import PipelineError

DURATIONS_FILE: Final = "app/tests/durations.json"
RECORD_HINT: Final = (
    f"regenerate it with `python -m shipyard.module.cli test-durations --export {DURATIONS_FILE}`"
)
# A file's weight when no duration is known for it and none for any other file either.
UNKNOWN_SECONDS: Final = 1.0
# pytest's order of outcomes in its totals line, singular as it counts them.
OUTCOMES: Final = ("failed", "passed", "skipped", "deselected", "xfailed", "xpassed", "warning")
OUTCOMES_WITH_ERRORS: Final = (*OUTCOMES, "error")
PLURAL: Final = {"warning": "warnings", "error": "errors"}
# Exit codes: pytest's own, and "no tests collected", which a shard of helper files may see.
TESTS_FAILED: Final = 1
NO_TESTS_COLLECTED: Final = 5

_TOTALS: Final = re.compile(r"^=*\s*((?:\d+ \w+(?:, )?)+) in ([\d.]+)s\b")
_COUNT: Final = re.compile(r"(\d+) (\w+)")
_FAILED_TEST: Final = re.compile(r"^(?:FAILED|ERROR) \S+")
_DURATION: Final = re.compile(r"^([\d.]+)s\s+(?:setup|call|teardown)\s+([^\s:]+)(?:::|\s|$)")


class ShardError(PipelineError):
    """The suite cannot be split as asked (no test files, a bad shard count, a broken file)."""


@dataclass(frozen=True)
class Shard:
    """One part of the suite: its place among the shards, its files and their recorded time."""

    number: int
    count: int
    files: tuple[str, ...]
    expected_seconds: float

    @property
    def label(self) -> str:
        return f"shard {self.number} of {self.count}"


def parse_durations(text: str) -> dict[str, float]:
    """The committed durations file: a JSON object of test file path to seconds."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ShardError(f"{DURATIONS_FILE} is not JSON ({error}); {RECORD_HINT}") from None
    valid = isinstance(document, dict) and all(
        isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds >= 0
        for seconds in document.values()
    )
    if not valid:
        raise ShardError(
            f"{DURATIONS_FILE} must map each test file to its seconds (a number >= 0); "
            f"{RECORD_HINT}"
        )
    return {str(path): float(seconds) for path, seconds in document.items()}


def default_shards(engine_cores: int) -> int:
    """What `--shards 0` means: one shard per core of the engine. On a 2-core engine
    (bench/test_shards.py) two shards took 28.4-29.3 s against one shard's 45.3-45.7 s."""
    return max(1, engine_cores)


def plan_shards(
    test_files: Iterable[str], durations: Mapping[str, float], shards: int
) -> tuple[Shard, ...]:
    """Deal the files into at most `shards` shards of near-equal recorded time, longest file
    first onto the lightest shard (ties: the lower number, then the file name), so the same files
    and durations always give the same plan. A file with no recorded time weighs the median of
    the files that have one: a new file is an average one until its time is recorded."""
    if shards < 1:
        raise ShardError(f"shards must be 1 or more, not {shards}; pass --shards N or 0 for auto")
    files = sorted(set(test_files))
    if not files:
        raise ShardError("no test files (test_*.py) under app/tests; nothing to shard")
    known = [durations[name] for name in files if name in durations]
    fallback = statistics.median(known) if known else UNKNOWN_SECONDS
    weight = {name: durations.get(name, fallback) for name in files}
    count = min(shards, len(files))
    loads = [0.0] * count
    dealt: list[list[str]] = [[] for _ in range(count)]
    for name in sorted(files, key=lambda name: (-weight[name], name)):
        lightest = min(range(count), key=lambda index: (loads[index], index))
        dealt[lightest].append(name)
        loads[lightest] += weight[name]
    return tuple(
        Shard(index + 1, count, tuple(sorted(dealt[index])), round(loads[index], 2))
        for index in range(count)
    )


@dataclass(frozen=True)
class ShardRun:
    """A finished shard: pytest's exit code and output."""

    shard: Shard
    exit_code: int
    output: str


@dataclass(frozen=True)
class MergedRun:
    """The shards' verdicts as one run: pytest's totals line over all of them, and every failed
    test or shard that could not run, each named with its shard."""

    totals: str
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures

    def report(self) -> str:
        return "\n".join([*self.failures, self.totals])


def merge_runs(runs: Sequence[ShardRun]) -> MergedRun:
    """Add the shards' counts; the time is the longest shard's, which is what the run took."""
    counts: dict[str, int] = defaultdict(int)
    longest = 0.0
    failures: list[str] = []
    for run in runs:
        if run.exit_code == NO_TESTS_COLLECTED:
            continue
        totals = _totals(run.output)
        if totals is None or run.exit_code not in (0, TESTS_FAILED):
            failures.append(
                f"{run.shard.label} could not run (exit {run.exit_code}): {_tail(run.output)}"
            )
            continue
        shard_counts, seconds = totals
        for outcome, number in shard_counts.items():
            counts[outcome] += number
        longest = max(longest, seconds)
        failed = [line for line in run.output.splitlines() if _FAILED_TEST.match(line)]
        if run.exit_code == TESTS_FAILED and not failed:
            failed = [f"tests failed: {_tail(run.output)}"]
        failures += [f"{run.shard.label}: {line}" for line in failed]
    if not any(counts.values()) and not failures:
        failures.append("no tests ran in any shard")
    return MergedRun(_totals_line(counts, longest), tuple(failures))


def file_durations(outputs: Iterable[str]) -> dict[str, float]:
    """Each test file's seconds (setup, call and teardown of all its tests) from pytest's
    ``--durations=0 --durations-min=0`` report, in the form the durations file keeps."""
    seconds: dict[str, float] = defaultdict(float)
    for output in outputs:
        for line in output.splitlines():
            if match := _DURATION.match(line.strip()):
                seconds[match.group(2)] += float(match.group(1))
    return {name: round(seconds[name], 2) for name in sorted(seconds)}


def render_durations(durations: Mapping[str, float]) -> str:
    return json.dumps(dict(sorted(durations.items())), indent=2) + "\n"


def _totals(output: str) -> tuple[dict[str, int], float] | None:
    """pytest's last totals line as counts by outcome, and its seconds."""
    found = None
    for line in output.splitlines():
        if match := _TOTALS.match(line.strip()):
            found = match
    if found is None:
        return None
    counts = {_singular(word): int(number) for number, word in _COUNT.findall(found.group(1))}
    return counts, float(found.group(2))


def _singular(word: str) -> str:
    return {plural: singular for singular, plural in PLURAL.items()}.get(word, word)


def _totals_line(counts: Mapping[str, int], seconds: float) -> str:
    parts = [
        f"{counts[outcome]} {PLURAL.get(outcome, outcome) if counts[outcome] != 1 else outcome}"
        for outcome in OUTCOMES_WITH_ERRORS
        if counts.get(outcome)
    ]
    return f"{', '.join(parts) or 'no tests ran'} in {seconds:.2f}s"


def _tail(output: str, lines: int = 5) -> str:
    return " | ".join(output.strip().splitlines()[-lines:]) or "(no output)"
