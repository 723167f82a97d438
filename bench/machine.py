"""The machine's busy CPU time, which sets the floor of any layout on its cores, and what one
child process costs."""

from __future__ import annotations

import math
import os
import resource
import subprocess
import time
from pathlib import Path

# /proc/stat's first line: user nice system idle iowait irq softirq steal, in clock ticks.
BUSY_FIELDS = (0, 1, 2, 5, 6, 7)


def busy_cpu_seconds(stat: str | None = None) -> float:
    """CPU seconds every core of the machine has spent busy since boot."""
    first = (stat if stat is not None else Path("/proc/stat").read_text()).splitlines()[0]
    ticks = [int(value) for value in first.split()[1:]]
    return sum(ticks[i] for i in BUSY_FIELDS) / os.sysconf("SC_CLK_TCK")


def cores() -> int:
    return len(os.sched_getaffinity(0))


def cores_for_ratio(busy: float, seconds: float, ratio: float) -> int:
    """The fewest cores on which `busy` CPU seconds of work could fit in `ratio` of `seconds`:
    what a target ratio against a run of `seconds` asks of the machine, for the same work."""
    return max(1, math.ceil(busy / (ratio * seconds) - 1e-9))


def python_byte_code(environ: dict[str, str], cache: Path | None) -> dict[str, str]:
    """`environ` for Python processes that keep their byte code in `cache` (as ./dev's do), or,
    with None, that compile every module anew (PYTHONDONTWRITEBYTECODE, no cache)."""
    kept = {k: v for k, v in environ.items() if k != "PYTHONPYCACHEPREFIX"}
    if cache is None:
        return {**kept, "PYTHONDONTWRITEBYTECODE": "1"}
    return {**kept, "PYTHONPYCACHEPREFIX": str(cache), "PYTHONDONTWRITEBYTECODE": ""}


def timed_child(
    command: list[str], cwd: Path, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Wall seconds and CPU seconds of one child process, run to its end (it must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    subprocess.run(command, cwd=cwd, env=env, capture_output=True, check=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
