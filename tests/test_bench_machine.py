"""The benches' CPU floor reads /proc/stat's busy fields, not its idle ones."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"
spec = importlib.util.spec_from_file_location("machine", BENCH / "machine.py")
assert spec is not None
assert spec.loader is not None
machine = importlib.util.module_from_spec(spec)
spec.loader.exec_module(machine)


def test_busy_time_sums_user_nice_system_irq_softirq_and_steal_only() -> None:
    #           user nice system idle    iowait irq softirq steal guest guest_nice
    stat = "cpu  1000 200  300    900000  7000   40  50      60    500   5\ncpu0 1 2 3 4\n"
    expected = (1000 + 200 + 300 + 40 + 50 + 60) / os.sysconf("SC_CLK_TCK")
    assert machine.busy_cpu_seconds(stat) == expected


def test_the_machines_busy_time_grows_with_work() -> None:
    before = machine.busy_cpu_seconds()
    deadline = os.times().elapsed + 0.3
    while os.times().elapsed < deadline:
        pass
    assert machine.busy_cpu_seconds() > before
    assert machine.cores() >= 1


def test_a_ratio_below_the_cpu_floor_asks_for_more_cores() -> None:
    # 51 CPU-s in 45 s one after another: half of 45 s holds 45 CPU-s on 2 cores, not 51.
    assert machine.cores_for_ratio(51.0, 45.0, 0.5) == 3
    assert machine.cores_for_ratio(44.0, 45.0, 0.5) == 2
    assert machine.cores_for_ratio(45.0, 45.0, 0.5) == 2
    assert machine.cores_for_ratio(0.0, 45.0, 0.5) == 1
