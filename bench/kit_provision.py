"""Cold vs warm provisioning time of the offline engine kit (kit/provision), in one run.

Cold: an empty kit state directory (no dagger binaries, no Debian root filesystems, no .deb
cache, no stamps) and an empty Go build cache, so every binary is compiled, every root
filesystem debootstrapped and every image built and pushed again. Kept, because they are the
machine rather than the kit: Debian's host packages (docker.io, debootstrap, docker-registry),
the running dockerd and registry, the Go module cache (downloaded sources) and the engine's
cache volume. Warm: the same command again right after, with everything in place.

Targets (issue 3): cold < 30 min, warm < 1 min on the 2-core machine.

    sudo python3 bench/kit_provision.py           # cold then warm, in a scratch state dir
    sudo python3 bench/kit_provision.py --warm    # warm only, on the machine's real state
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROVISION = REPO / "kit" / "provision"
COLD_TARGET_SECONDS = 30 * 60
WARM_TARGET_SECONDS = 60


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


def verdict(seconds: float, target: float) -> str:
    return "meets" if seconds < target else "MISSES"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warm", action="store_true", help="only time a warm run")
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="kit-bench-logs-"))
    if args.warm:
        warm = timed_provision({}, logs / "warm.log")
        print(
            f"warm provision (machine state): {warm:7.1f} s  "
            f"{verdict(warm, WARM_TARGET_SECONDS)} the < {WARM_TARGET_SECONDS} s target"
        )
        return 0
    scratch = Path(tempfile.mkdtemp(prefix="kit-bench-state-", dir="/var/lib"))
    env = {"SHIPYARD_KIT_STATE": str(scratch / "state"), "GOCACHE": str(scratch / "gocache")}
    try:
        cold = timed_provision(env, logs / "cold.log")
        warm = timed_provision(env, logs / "warm.log")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"cold provision: {cold:7.1f} s  "
        f"{verdict(cold, COLD_TARGET_SECONDS)} the < {COLD_TARGET_SECONDS // 60} min target"
    )
    print(
        f"warm provision: {warm:7.1f} s  "
        f"{verdict(warm, WARM_TARGET_SECONDS)} the < {WARM_TARGET_SECONDS} s target"
    )
    print(f"warm / cold:    {warm / cold:7.3f}  (cold is {cold / warm:.0f}x the warm run)")
    print(f"logs: {logs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
