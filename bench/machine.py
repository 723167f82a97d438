"""The machine's busy CPU time, which sets the floor of any layout on its cores."""

from __future__ import annotations

import os
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


def python_byte_code(environ: dict[str, str], cache: Path | None) -> dict[str, str]:
    """`environ` for Python processes that keep their byte code in `cache` (as ./dev's do), or,
    with None, that compile every module anew (PYTHONDONTWRITEBYTECODE, no cache)."""
    kept = {k: v for k, v in environ.items() if k != "PYTHONPYCACHEPREFIX"}
    if cache is None:
        return {**kept, "PYTHONDONTWRITEBYTECODE": "1"}
    return {**kept, "PYTHONPYCACHEPREFIX": str(cache), "PYTHONDONTWRITEBYTECODE": ""}
