"""Time to verdict: shipyard's deploy watch vs botocore's `services_stable` waiter.

Both watch the SAME simulated rollout at the same time (moto's server behind the rehearsal
front, one rollout per scenario and round). Times are simulated seconds (the front runs at
TIME_SCALE x real time); our engine polls every 5 s, the waiter at its fixed 15 s x 40.

- change: when the decisive state change happened in the simulator (deployment COMPLETED, or
  rolloutState FAILED, or, with the circuit breaker off, the failed-task threshold reached);
- latency: how long after that change each one returned, and what it said.

Run: .venv/bin/python bench/deploy_verdict.py [--rounds N] [--time-scale X]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from dataclasses import dataclass

import botocore.exceptions
import httpx
from shipyard.tools.deploy.watch import Expectation, Phase, watch
from shipyard.tools.rehearsal.faults import FaultKind
from shipyard.tools.rehearsal.front import moto_session
from shipyard.tools.rehearsal.local import front_process, moto_server
from shipyard.tools.rehearsal.seed import push_image, seed_account

OUR_POLL = 5.0
WAITER_DELAY, WAITER_ATTEMPTS = 15.0, 40
SCENARIOS: list[tuple[str, FaultKind | None, bool]] = [
    ("healthy", None, True),
    ("crash loop", FaultKind.CRASH, True),
    ("failing health checks", FaultKind.UNHEALTHY, True),
    ("image pull error", FaultKind.PULL_ERROR, True),
    ("crash loop, breaker off", FaultKind.CRASH, False),
]


@dataclass
class Run:
    change: float
    ours_at: float
    ours_verdict: str
    waiter_at: float
    waiter_verdict: str


def service_name(index: int) -> str:
    return f"svc{index}"


class SimClock:
    """The front's simulated time, read locally: offset + real elapsed x scale."""

    def __init__(self, url: str, time_scale: float) -> None:
        self.url, self.time_scale = url, time_scale
        before = time.monotonic()
        now = httpx.get(url + "/_rehearsal/clock").json()["now"]
        self.offset = now - (before + time.monotonic()) / 2 * time_scale

    def __call__(self) -> float:
        return self.offset + time.monotonic() * self.time_scale


def one_rollout(url: str, clock: SimClock, cluster: str, name: str, breaker: bool) -> Run:
    account = seed_account(
        url, cluster=cluster, services=(name,), circuit_breaker=breaker, desired_count=2
    )
    image = push_image(url, account.region, account.repository, "v2")
    session = moto_session(account.region)
    ecs = session.client("ecs", endpoint_url=url)
    waiter_ecs = session.client("ecs", endpoint_url=url)
    old = ecs.describe_services(cluster=cluster, services=[name])["services"][0]
    live = ecs.describe_task_definition(taskDefinition=old["taskDefinition"])["taskDefinition"]
    new_arn = ecs.register_task_definition(
        family=live["family"],
        containerDefinitions=[{**c, "image": image} for c in live["containerDefinitions"]],
    )["taskDefinition"]["taskDefinitionArn"]
    updated = ecs.update_service(cluster=cluster, service=name, taskDefinition=new_arn)
    started = clock()
    ours_id = next(d["id"] for d in updated["service"]["deployments"] if d["status"] == "PRIMARY")
    known = frozenset(d["id"] for d in updated["service"]["deployments"] if d["id"] != ours_id)
    expect = Expectation(ours_id, new_arn, old["taskDefinition"], known)
    result: dict[str, tuple[float, str]] = {}

    def ours() -> None:
        outcome = watch(
            lambda: dict(ecs.describe_services(cluster=cluster, services=[name])["services"][0]),
            expect,
            name=name,
            timeout=900 / clock.time_scale,
            poll_interval=OUR_POLL / clock.time_scale,
            log=lambda _: None,
        )
        result["ours"] = (clock(), outcome.verdict.phase.value)

    def waiter() -> None:
        try:
            waiter_ecs.get_waiter("services_stable").wait(
                cluster=cluster,
                services=[name],
                WaiterConfig={
                    "Delay": WAITER_DELAY / clock.time_scale,
                    "MaxAttempts": WAITER_ATTEMPTS,
                },
            )
        except botocore.exceptions.WaiterError:
            result["waiter"] = (clock(), "timed out")
            return
        at = clock()
        now_on = waiter_ecs.describe_services(cluster=cluster, services=[name])["services"][0]
        truth = "success" if now_on["taskDefinition"] == new_arn else "FALSE success (old ARN)"
        result["waiter"] = (at, truth)

    threads = [threading.Thread(target=ours), threading.Thread(target=waiter)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    transitions = httpx.get(url + "/_rehearsal/transitions").json()["transitions"]
    decisive = [t["at"] for t in transitions if t["deployment_id"] == ours_id]
    change = (min(decisive) if decisive else started) - started
    return Run(
        change,
        result["ours"][0] - started,
        result["ours"][1],
        result["waiter"][0] - started,
        result["waiter"][1],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--time-scale", type=float, default=20.0)
    args = parser.parse_args()
    faults = [f"{service_name(i)}={kind.value}" for i, (_, kind, _) in enumerate(SCENARIOS) if kind]
    rows = []
    began = time.monotonic()
    arguments = ["--time-scale", str(args.time_scale), *(f"--fault={f}" for f in faults)]
    with moto_server() as moto_url, front_process(moto_url, *arguments) as front:
        url = front.url
        clock = SimClock(url, args.time_scale)
        for index, (label, _, breaker) in enumerate(SCENARIOS):
            # The rounds of a scenario run side by side: the waits overlap, the CPU stays idle.
            runs: list[Run | None] = [None] * args.rounds

            def play(
                round_: int,
                index: int = index,
                breaker: bool = breaker,
                runs: list[Run | None] = runs,
            ) -> None:
                runs[round_] = one_rollout(
                    url, clock, f"bench-{index}-{round_}", service_name(index), breaker
                )

            threads = [threading.Thread(target=play, args=(r,)) for r in range(args.rounds)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            rows.append((label, [r for r in runs if r is not None]))
    print(
        f"time to verdict, simulated seconds after the decisive change "
        f"(median of {args.rounds} rounds, time scale {args.time_scale:g}x, "
        f"ours polls every {OUR_POLL:g} s, waiter {WAITER_DELAY:g} s x {WAITER_ATTEMPTS})"
    )
    header = (
        f"{'scenario':<26}{'change at':>10}  {'shipyard watch':<28}"
        f"{'services_stable waiter':<38}{'speedup':>8}{'from update: ours / waiter':>30}"
    )
    print(header)
    print("-" * len(header))
    worst_ours, failed_speedups = 0.0, []
    for label, runs in rows:
        change = statistics.median(r.change for r in runs)
        ours = statistics.median(r.ours_at - r.change for r in runs)
        waiter = statistics.median(r.waiter_at - r.change for r in runs)
        speedup = waiter / max(ours, 0.001)
        ours_total = statistics.median(r.ours_at for r in runs)
        waiter_total = statistics.median(r.waiter_at for r in runs)
        worst_ours = max(worst_ours, max(r.ours_at - r.change for r in runs))
        if label != "healthy":
            failed_speedups.append(speedup)
        ours_verdicts = "/".join(sorted({r.ours_verdict for r in runs}))
        waiter_verdicts = "/".join(sorted({r.waiter_verdict for r in runs}))
        print(
            f"{label:<26}{change:>9.1f}s  {ours:>6.1f}s {ours_verdicts:<20}"
            f"{waiter:>7.1f}s {waiter_verdicts:<29}{speedup:>7.1f}x"
            f"{ours_total:>14.1f}s / {waiter_total:>6.1f}s ({waiter_total / ours_total:.1f}x)"
        )
    print()
    print(f"worst shipyard latency after the change: {worst_ours:.1f} s (target <= {OUR_POLL:g} s)")
    print(
        f"failed rollouts, waiter/shipyard latency: min {min(failed_speedups):.1f}x, "
        f"median {statistics.median(failed_speedups):.1f}x (target >= 20x)"
    )
    correct = all(
        r.ours_verdict == (Phase.SUCCEEDED.value if label == "healthy" else Phase.FAILED.value)
        for label, runs in rows
        for r in runs
    )
    print(f"shipyard verdicts all correct: {correct}; wall time {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
