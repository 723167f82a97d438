"""The rehearsed push pipeline on the real engine: wall time per stage, warm and after a change.

    source <(kit/provision --print-env)
    .venv/bin/python bench/rehearsal.py [--runs N]

Figures, all from this one invocation, on the same engine:

1. warm, no change: the whole rehearsal (staging, then production) right after a first run;
2. after a one-line change to app/: a comment appended to the service's main module, so the
   test stage, the image build and the push run again while the toolchains stay cached.

For each run it prints every stage's time (the stages run in the release's order, the checks in
parallel), the run's wall time, and where that time went: waiting on the emulated platform
(seeding, the simulated rollouts, smoke probes, rollbacks: the stages that talk to the emulator)
vs on the engine (checks, build and push, docs, promotion, notify). The named alternative is
the same run's stages awaited one after another (the sum of stage times): what a CI job of one
step per stage pays.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from typing import Any

sys.modules.setdefault("httpx2", None)  # type: ignore[arg-type]  # see shipyard.module.cli

import anyio  # noqa: E402
import dagger  # noqa: E402
from shipyard.module.cli import repository_sources  # noqa: E402
from shipyard.module.main import Shipyard  # noqa: E402

EMULATOR_STAGES = ("seed", "deploy", "smoke", "rollback")


def emulator_bound(stage: str) -> bool:
    return stage.rpartition("/")[2] in EMULATOR_STAGES


async def rehearse(change: str | None) -> tuple[float, dict[str, Any]]:
    sources = repository_sources("rehearse")
    if change:
        edited = f"{await sources['app'].file('src/gridserve/main.py').contents()}\n# {change}\n"
        sources["app"] = sources["app"].with_new_file("src/gridserve/main.py", edited)
        sources["app_project"] = sources["app_project"].with_new_file(
            "app/src/gridserve/main.py", edited
        )
    started = time.monotonic()
    directory = await Shipyard().rehearse(**sources)
    report = json.loads(await directory.file("report.json").contents())
    return time.monotonic() - started, report


def show(label: str, wall: float, report: dict[str, Any]) -> None:
    ran = [s for s in report["stages"] if s["verdict"] != "skipped"]
    emulator = sum(s["seconds"] for s in ran if emulator_bound(s["stage"]))
    total = sum(s["seconds"] for s in ran)
    print(f"\n{label}: wall {wall:.1f} s, verdict {report['verdict']}")
    for stage in ran:
        where = "emulator" if emulator_bound(stage["stage"]) else "engine"
        print(f"  {stage['stage']:<24} {stage['seconds']:7.1f} s  {where}")
    print(
        f"  one after another (sum of stages): {total:.1f} s; as run: {wall:.1f} s "
        f"({wall / total:.2f}x)"
    )
    print(f"  waiting on the emulator: {emulator:.1f} s ({emulator / total:.0%} of stage time)")


async def main(runs: int) -> None:
    async with dagger.connection(dagger.Config(log_output=None)):
        await rehearse(None)  # fill the cache: the figures below are warm
        for number in range(1, runs + 1):
            show(f"warm, no change (run {number})", *await rehearse(None))
            show(f"one-line change to app/ (run {number})", *await rehearse(uuid.uuid4().hex))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    anyio.run(main, parser.parse_args().runs)
