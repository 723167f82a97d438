"""Cold and warm provisioning time of the offline engine kit (kit/provision), in one run.

Cold: an empty kit state directory (no dagger binaries, no Debian root filesystems, no .deb
cache, no stamps), an empty Go build cache and no engine container, so every binary is
compiled, every root filesystem built, every image built and pushed, and the engine started
again. Kept, because they are the machine rather than the kit: Debian's host packages
(docker.io, debootstrap, docker-registry), the running dockerd and registry, the Go module
cache (downloaded sources) and the engine's cache volume. Warm: the same command right after.

The named alternative, in the same run: the same steps one after another (one worker), as
kit/provision ran them before its steps overlapped.

Targets (issue 17): cold <= 6 min on 2 cores, warm <= 5 s.

It replaces the machine's engine container and re-pushes the kit's images under the same
tags: run it while nothing uses the kit.

    sudo python3 bench/kit_provision.py                  # cold overlapped, cold sequential, warm
    sudo python3 bench/kit_provision.py --no-sequential  # without the one-after-another run
    sudo python3 bench/kit_provision.py --warm           # warm only, on the machine's real state
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROVISION = REPO / "kit" / "provision"
# The kit's own names, loaded as kit/provision loads its package (no virtualenv needed).
sys.path.insert(0, str(PROVISION.parent))
from shipyard_kit.settings import TIMINGS_FILE  # noqa: E402
from shipyard_kit.steps import remove_engine_container  # noqa: E402

COLD_TARGET_SECONDS = 6 * 60
WARM_TARGET_SECONDS = 5


def timed_provision(extra_env: dict[str, str], log: Path) -> float:
    started = time.monotonic()
    with log.open("wb") as sink:
        result = subprocess.run(
            [sys.executable, str(PROVISION)],
            env={**os.environ, **extra_env},
            stdout=sink,
            stderr=subprocess.STDOUT,
            check=False,
        )
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise SystemExit(f"kit/provision failed ({result.returncode}); log {log}:\n{tail}")
    return elapsed


def cold_provision(workers: int | None, logs: Path) -> tuple[float, dict[str, float], float]:
    """A cold run in a scratch state dir: total seconds, each step's, then the warm rerun's.

    `workers` None: as many steps at once as the kit's default."""
    scratch = Path(tempfile.mkdtemp(prefix="kit-bench-state-", dir="/var/lib"))
    state = scratch / "state"
    env = {"SHIPYARD_KIT_STATE": str(state), "GOCACHE": str(scratch / "gocache")}
    if workers is not None:
        env["SHIPYARD_KIT_WORKERS"] = str(workers)
    remove_engine_container(check=False)
    try:
        cold = timed_provision(env, logs / f"cold-{workers or 'default'}.log")
        steps = json.loads((state / TIMINGS_FILE).read_text())["steps"]
        warm = timed_provision(env, logs / f"warm-{workers or 'default'}.log")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return cold, steps, warm


def verdict(seconds: float, target: float) -> str:
    return "meets" if seconds <= target else "MISSES"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warm", action="store_true", help="only time a warm run")
    parser.add_argument(
        "--no-sequential", action="store_true", help="skip the one-after-another cold run"
    )
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="kit-bench-logs-"))
    if args.warm:
        warm = timed_provision({}, logs / "warm.log")
        print(f"warm provision (machine state): {warm:6.1f} s  {target_line(warm, warm=True)}")
        return 0
    cold, steps, warm = cold_provision(workers=None, logs=logs)
    print(f"cold provision, steps overlapped: {cold:6.1f} s  {target_line(cold, warm=False)}")
    for name, seconds in sorted(steps.items(), key=lambda item: -item[1]):
        print(f"    {name:<58} {seconds:6.1f} s")
    print(f"warm provision:                   {warm:6.1f} s  {target_line(warm, warm=True)}")
    if not args.no_sequential:
        sequential, _, _ = cold_provision(workers=1, logs=logs)
        print(f"cold provision, one after another: {sequential:6.1f} s")
        print(f"overlapped / one after another:    {cold / sequential:6.2f}x")
    print(f"logs: {logs}")
    return 0


def target_line(seconds: float, *, warm: bool) -> str:
    target = WARM_TARGET_SECONDS if warm else COLD_TARGET_SECONDS
    return f"{verdict(seconds, target)} the <= {target} s target"


if __name__ == "__main__":
    sys.exit(main())
