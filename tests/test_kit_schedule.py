"""The kit's step graph: dependencies first, independent steps together, failures stop it."""

from __future__ import annotations

import threading
import time

import pytest
from shipyard_kit.images import image_recipes
from shipyard_kit.pins import image_tags, uv_version
from shipyard_kit.schedule import Step, check_graph, ready, run_steps
from shipyard_kit.settings import KitError, step_workers
from shipyard_kit.steps import Provisioner


def quietly(name: str, seconds: float) -> None:
    del name, seconds


def test_a_step_starts_only_after_what_it_waits_for() -> None:
    order: list[str] = []
    steps = [
        Step("image", lambda: order.append("image"), ("rootfs", "daemon")),
        Step("rootfs", lambda: order.append("rootfs")),
        Step("daemon", lambda: order.append("daemon"), ("rootfs",)),
    ]
    run_steps(steps, workers=3, report=quietly)
    assert order == ["rootfs", "daemon", "image"]


def test_independent_steps_run_at_the_same_time() -> None:
    # Each step waits for the other at a barrier: one after another, the barrier times out.
    both = threading.Barrier(2, timeout=5)
    steps = [Step("go", both.wait), Step("debootstrap", both.wait)]
    run_steps(steps, workers=2, report=quietly)


def test_no_more_steps_run_at_once_than_workers() -> None:
    running: list[int] = [0, 0]  # now, most
    guard = threading.Lock()

    def occupy() -> None:
        with guard:
            running[0] += 1
            running[1] = max(running)
        time.sleep(0.05)
        with guard:
            running[0] -= 1

    run_steps([Step(f"s{n}", occupy) for n in range(6)], workers=2, report=quietly)
    assert running[1] == 2


def test_a_failure_stops_its_dependents_lets_running_steps_finish_and_is_raised() -> None:
    finished: list[str] = []
    slow_started = threading.Event()

    def fail() -> None:
        slow_started.wait(5)
        raise KitError("debootstrap failed")

    def slow() -> None:
        slow_started.set()
        time.sleep(0.1)
        finished.append("slow")

    steps = [
        Step("rootfs", fail),
        Step("go", slow),
        Step("image", lambda: finished.append("image"), ("rootfs",)),
        Step("later", lambda: finished.append("later"), ("go",)),
    ]
    with pytest.raises(KitError, match="debootstrap failed"):
        run_steps(steps, workers=2, report=quietly)
    assert finished == ["slow"]


def test_each_finished_step_is_reported_with_its_seconds() -> None:
    reported: dict[str, float] = {}
    seconds = run_steps(
        [Step("nap", lambda: time.sleep(0.05)), Step("after", lambda: None, ("nap",))],
        workers=2,
        report=reported.__setitem__,
    )
    assert reported == seconds
    assert seconds["nap"] >= 0.05


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([Step("a", print), Step("a", print)], "named twice: a"),
        ([Step("a", print, ("b",))], "unknown steps: b"),
        ([Step("a", print, ("b",)), Step("b", print, ("a",))], "wait on each other: a, b"),
    ],
)
def test_a_broken_graph_is_refused_before_anything_runs(steps: list[Step], message: str) -> None:
    with pytest.raises(KitError, match=message):
        check_graph(steps)


def test_ready_keeps_the_declared_order() -> None:
    steps = [Step("c", print), Step("a", print, ("c",)), Step("b", print)]
    assert [s.name for s in ready(steps, done=set(), started=set())] == ["c", "b"]
    assert [s.name for s in ready(steps, done={"c"}, started={"c", "b"})] == ["a"]


def test_the_kits_graph_overlaps_go_with_the_root_filesystems_and_images() -> None:
    kit = Provisioner()
    steps = {s.name: s for s in kit.steps(image_recipes(image_tags(), uv_version()))}
    check_graph(list(steps.values()))
    go_free = [n for n, s in steps.items() if not depends_on(steps, n, "dagger binaries")]
    assert "engine root filesystem" in go_free
    assert sum(n.startswith("image ") for n in go_free) == 5  # all but terraform-docs's
    assert depends_on(steps, "engine container", "dagger binaries")


def depends_on(steps: dict[str, Step], name: str, other: str) -> bool:
    return any(d == other or depends_on(steps, d, other) for d in steps[name].after)


@pytest.mark.parametrize("value", ["0", "two", "-1", ""])
def test_a_bad_worker_count_is_refused_with_the_fix(value: str) -> None:
    with pytest.raises(KitError, match=r"SHIPYARD_KIT_WORKERS=.*unset it"):
        step_workers({"SHIPYARD_KIT_WORKERS": value})


def test_workers_default_to_four_and_one_means_one_after_another() -> None:
    assert step_workers({}) == 4
    assert step_workers({"SHIPYARD_KIT_WORKERS": "1"}) == 1


def test_the_engines_path_goes_first_then_the_pip_images() -> None:
    steps = Provisioner().steps(image_recipes(image_tags(), uv_version()))
    first = [s.name for s in ready(steps, done={"host"}, started={"host"})]
    assert first[:5] == [
        "dagger binaries",
        "engine root filesystem",
        "image localhost:5000/shipyard/python:3.11-bookworm",
        "image localhost:5000/shipyard/checkov:3.3.30",
        "image localhost:5000/shipyard/moto:5.2.2",
    ]
    # Once Go is done, a free worker takes the engine image before any image still waiting.
    go_done = {"host", "dagger binaries", "engine root filesystem"}
    after_go = [s.name for s in ready(steps, done=go_done, started=go_done)]
    assert after_go[:2] == ["engine image", "terraform-docs"]
