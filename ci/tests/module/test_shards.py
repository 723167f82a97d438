import json
from pathlib import Path
from typing import cast

import anyio
import dagger
import pytest
from shipyard.decide.pipeline_flow import summarize_test_run
from shipyard.decide.shards import (
    DURATIONS_FILE,
    Shard,
    ShardError,
    ShardRun,
    default_shards,
    file_durations,
    merge_runs,
    parse_durations,
    plan_shards,
    render_durations,
)
from shipyard.module.test_shards import ShardedRun

REPO = Path(__file__).resolve().parents[3]


def test_files_are_dealt_longest_first_onto_the_lightest_shard() -> None:
    durations = {"a.py": 10.0, "b.py": 7.0, "c.py": 5.0, "d.py": 4.0, "e.py": 2.0}
    plan = plan_shards(durations, durations, 2)
    assert [shard.files for shard in plan] == [("a.py", "d.py"), ("b.py", "c.py", "e.py")]
    assert [shard.expected_seconds for shard in plan] == [14.0, 14.0]
    assert [shard.label for shard in plan] == ["shard 1 of 2", "shard 2 of 2"]


def test_the_plan_does_not_depend_on_the_order_files_are_listed_in() -> None:
    durations = {"x.py": 3.0, "y.py": 3.0, "z.py": 3.0, "w.py": 1.0}
    first = plan_shards(["x.py", "y.py", "z.py", "w.py"], durations, 3)
    again = plan_shards(["w.py", "z.py", "x.py", "y.py", "x.py"], durations, 3)
    assert first == again
    # Equal weights go to the lower-numbered shard first, by name.
    assert [shard.files for shard in first] == [("w.py", "x.py"), ("y.py",), ("z.py",)]


def test_a_file_without_a_recorded_time_weighs_the_median_of_the_known_ones() -> None:
    durations = {"slow.py": 9.0, "mid.py": 4.0, "fast.py": 1.0}
    plan = plan_shards([*durations, "new.py"], durations, 2)
    assert [shard.files for shard in plan] == [("slow.py",), ("fast.py", "mid.py", "new.py")]
    assert plan[1].expected_seconds == 9.0


def test_with_no_durations_at_all_every_file_weighs_the_same() -> None:
    plan = plan_shards(["c.py", "a.py", "b.py"], {}, 2)
    assert [shard.files for shard in plan] == [("a.py", "c.py"), ("b.py",)]


@pytest.mark.parametrize(("cores", "shards"), [(0, 1), (1, 1), (2, 2), (3, 3), (16, 16)])
def test_the_default_is_one_shard_per_engine_core_and_never_none(cores: int, shards: int) -> None:
    assert default_shards(cores) == shards


def test_no_more_shards_than_files_and_a_bad_count_is_refused() -> None:
    assert len(plan_shards(["only.py"], {}, 4)) == 1
    assert plan_shards(["only.py"], {}, 4)[0].label == "shard 1 of 1"
    with pytest.raises(ShardError, match="shards must be 1 or more, not 0"):
        plan_shards(["a.py"], {}, 0)
    with pytest.raises(ShardError, match="no test files"):
        plan_shards([], {}, 2)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{", "is not JSON"),
        ("[1, 2]", "must map each test file"),
        ('{"a.py": "slow"}', "must map each test file"),
        ('{"a.py": -1}', "must map each test file"),
        ('{"a.py": true}', "must map each test file"),
    ],
)
def test_a_broken_durations_file_is_named_with_how_to_regenerate_it(
    text: str, problem: str
) -> None:
    with pytest.raises(ShardError, match=problem) as caught:
        parse_durations(text)
    assert DURATIONS_FILE in str(caught.value)
    assert "test-durations" in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1


def test_the_committed_durations_file_covers_every_test_file() -> None:
    durations = parse_durations((REPO / DURATIONS_FILE).read_text(encoding="utf-8"))
    files = {str(path.relative_to(REPO)) for path in (REPO / "app/tests").glob("**/test_*.py")}
    assert set(durations) == files


def _shard(number: int, count: int = 2) -> Shard:
    return Shard(number, count, (f"app/tests/test_{number}.py",), 1.0)


PASSING = "....\n---- coverage ----\nTOTAL  10  1  90%\n40 passed, 1 warning in 12.50s\n"
FAILING = (
    "..F.\n=========== short test summary info ============\n"
    "FAILED app/tests/test_2.py::test_answer - AssertionError: 41 != 42\n"
    "========== 1 failed, 3 passed, 2 warnings in 20.25s ==========\n"
)


def test_passing_shards_merge_into_one_totals_line_with_the_longest_time() -> None:
    merged = merge_runs(
        [ShardRun(_shard(1), 0, PASSING), ShardRun(_shard(2), 0, PASSING.replace("12.50", "9.1"))]
    )
    assert merged.passed
    assert merged.totals == "80 passed, 2 warnings in 12.50s"
    # The test function's summary reads the merged line as it read pytest's own.
    assert summarize_test_run(merged.totals + "\nTOTAL 20 2 90%") == (
        "80 passed, 2 warnings in 12.50s; coverage 90%"
    )


def test_a_failed_test_is_named_with_its_shard() -> None:
    merged = merge_runs([ShardRun(_shard(1), 0, PASSING), ShardRun(_shard(2), 1, FAILING)])
    assert not merged.passed
    assert merged.failures == (
        "shard 2 of 2: FAILED app/tests/test_2.py::test_answer - AssertionError: 41 != 42",
    )
    assert merged.totals == "1 failed, 43 passed, 3 warnings in 20.25s"
    assert merged.report().splitlines()[-1] == merged.totals


def test_a_shard_that_could_not_run_is_named_with_its_exit_code() -> None:
    crashed = ShardRun(_shard(2), 4, "ERROR: file or directory not found: app/tests/gone.py\n")
    merged = merge_runs([ShardRun(_shard(1), 0, PASSING), crashed])
    assert merged.failures == (
        "shard 2 of 2 could not run (exit 4): ERROR: file or directory not found: "
        "app/tests/gone.py",
    )
    assert merged.totals == "40 passed, 1 warning in 12.50s"


def test_errors_count_as_failures_and_a_shard_without_tests_is_not_one() -> None:
    erred = (
        "ERROR app/tests/test_1.py::test_x - RuntimeError: port taken\n1 passed, 1 error in 3.00s\n"
    )
    empty = ShardRun(_shard(2), 5, "no tests ran in 0.40s\n")
    merged = merge_runs([ShardRun(_shard(1), 1, erred), empty])
    assert merged.failures == (
        "shard 1 of 2: ERROR app/tests/test_1.py::test_x - RuntimeError: port taken",
    )
    assert merged.totals == "1 passed, 1 error in 3.00s"
    nothing = merge_runs([ShardRun(_shard(1, 1), 5, "no tests ran in 0.40s\n")])
    assert nothing.failures == ("no tests ran in any shard",)


def test_durations_add_up_every_phase_per_file_across_shards() -> None:
    first = (
        "1.50s call     app/tests/test_a.py::test_one[x-1]\n"
        "0.25s setup    app/tests/test_a.py::test_one[x-1]\n"
        "0.00s teardown app/tests/test_b.py::test_two\n"
    )
    second = "2.00s call     app/tests/test_c.py::test_three\nTOTAL 1 2 3%\n"
    durations = file_durations([first, second])
    assert durations == {
        "app/tests/test_a.py": 1.75,
        "app/tests/test_b.py": 0.0,
        "app/tests/test_c.py": 2.0,
    }
    assert parse_durations(render_durations(durations)) == durations
    assert list(json.loads(render_durations(durations))) == sorted(durations)


class _FinishedShard:
    async def sync(self) -> "_FinishedShard":
        return self


class _LostShard:
    """A shard the engine could not run to its end (its connection lost, say)."""

    async def sync(self) -> "_LostShard":
        raise dagger.DaggerError("engine connection lost")


def test_a_shard_the_engine_could_not_run_raises_its_own_error_not_a_group() -> None:
    first, second = plan_shards(["a.py", "b.py"], {}, 2)
    run = ShardedRun(
        (
            (first, cast(dagger.Container, _FinishedShard())),
            (second, cast(dagger.Container, _LostShard())),
        ),
        combined=cast(dagger.Container, None),
    )
    with pytest.raises(dagger.DaggerError, match=r"^engine connection lost$"):
        anyio.run(run.run_side_by_side)
