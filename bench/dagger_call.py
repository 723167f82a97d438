"""`dagger call` (the engine's Python SDK runtime) against the client session, on the kit.

    eval "$(kit/provision --print-env)"
    .venv/bin/python bench/dagger_call.py [--rounds N]

Times, each in a fresh process as a person runs it, from the repository's root:

- `dagger functions` against `python -m shipyard.module.cli --help` (the client session's list of
  functions, which needs no engine);
- `dagger call scan` against `python -m shipyard.module.cli scan`.

"first" is the first call after the module's source changed: before it the bench writes a new
marker file into ci/src/shipyard/ (removed at the end), which changes the module's source, so
`dagger call` rebuilds its runtime container (uv compile, install, check) and both routes run the
scan stage again. "warm" is the same command repeated at once. Image overrides: the client
session reads SHIPYARD_IMAGES, `dagger call` gets them from the repository's `.env`
(SHIPYARD_KIT_IMAGE_OVERRIDES); both come from `kit/provision --print-env`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = ROOT / "ci" / "src" / "shipyard" / "_bench_marker.py"
TIMEOUT_SECONDS = 1800


def commands(cli: str) -> dict[str, list[str]]:
    python = [sys.executable, "-m", "shipyard.module.cli"]
    return {
        "dagger functions": [cli, "functions"],
        "client --help": [*python, "--help"],
        "dagger call scan": [cli, "call", "scan"],
        "client scan": [*python, "scan"],
    }


def timed(command: Sequence[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        list(command), cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=TIMEOUT_SECONDS, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-3000:]}"
        )
    return elapsed


@contextmanager
def source_marker() -> Iterator[None]:
    try:
        yield
    finally:
        MARKER.unlink(missing_ok=True)


def change_source() -> None:
    MARKER.write_text(
        f'"""Written by bench/dagger_call.py to change the module source."""\n# {uuid.uuid4()}\n'
    )


def environment() -> dict[str, str]:
    env = dict(os.environ)
    missing = [
        n
        for n in ("_EXPERIMENTAL_DAGGER_CLI_BIN", "SHIPYARD_KIT_IMAGE_OVERRIDES")
        if not env.get(n)
    ]
    if missing:
        raise SystemExit(
            f'{", ".join(missing)} not set: run `eval "$(kit/provision --print-env)"` first'
        )
    return env


def run_round(cmds: dict[str, list[str]], env: dict[str, str]) -> dict[str, float]:
    """First and warm time of each command, the source changed before each first call."""
    times: dict[str, float] = {}
    for name, command in cmds.items():
        change_source()
        times[f"{name} first"] = timed(command, env)
        times[f"{name} warm"] = timed(command, env)
        print(
            f"  {name}: first {times[f'{name} first']:.1f} s, warm {times[f'{name} warm']:.1f} s",
            flush=True,
        )
    return times


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="repeat everything N times")
    args = parser.parse_args(argv)
    env = environment()
    cmds = commands(env["_EXPERIMENTAL_DAGGER_CLI_BIN"])
    rounds: list[dict[str, float]] = []
    with source_marker():
        for number in range(1, args.rounds + 1):
            print(f"round {number}/{args.rounds}", flush=True)
            rounds.append(run_round(cmds, env))
    print("\nmedian seconds over", args.rounds, "round(s)")
    for key in rounds[0]:
        print(f"  {key:<26} {statistics.median(r[key] for r in rounds):7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
