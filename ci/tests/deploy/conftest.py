"""Per test a seeded account behind a rehearsal front, on the session's moto server."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest
from shipyard.tools.deploy import Credentials, DeployConfig
from shipyard.tools.rehearsal.ecs_state import Timings
from shipyard.tools.rehearsal.faults import Fault
from shipyard.tools.rehearsal.front import RehearsalFront, ScaledClock, moto_session
from shipyard.tools.rehearsal.local import rehearsal_front
from shipyard.tools.rehearsal.seed import SeededAccount, push_image, seed_account

# 60 simulated seconds per real second: a healthy rollout (~35 s simulated) takes ~0.6 s and
# the engine's 0.1 s poll is 6 s simulated.
TIME_SCALE = 60.0
POLL_SECONDS = 0.1
# Shorter health checks and draining than the project's ALB: the scenarios stay the same,
# the suite runs faster.
TEST_TIMINGS = Timings(healthy_after=10.0, unhealthy_after=15.0, drain=15.0)
_names = itertools.count()


class FreezableClock:
    """A ScaledClock that a test can stop, so a rollout stays mid-way however slow the machine."""

    def __init__(self, time_scale: float) -> None:
        self._scaled = ScaledClock(time_scale)
        self._frozen_at: float | None = None

    def __call__(self) -> float:
        return self._scaled() if self._frozen_at is None else self._frozen_at

    def freeze(self) -> None:
        self._frozen_at = self._scaled()


@dataclass
class Rig:
    url: str
    front: RehearsalFront
    account: SeededAccount
    new_image: str
    clock: FreezableClock
    lines: list[str] = field(default_factory=list)

    def config(self, **overrides: Any) -> DeployConfig:
        """The pipeline's way: every deployed service's container named, as terraform names it."""
        services = overrides.get("services", self.account.services)
        settings: dict[str, Any] = {
            "cluster": self.account.cluster,
            "image": self.new_image,
            "services": services,
            "containers": {
                service: self.account.containers[service]
                for service in services
                if service in self.account.containers
            },
            "endpoint_url": self.url,
            "credentials": Credentials("AKIATESTTESTTEST0000", "test-secret-key"),
            "timeout_seconds": 30.0,
            "poll_interval_seconds": POLL_SECONDS,
        }
        settings.update(overrides)
        return DeployConfig(**settings)

    def log(self, line: str) -> None:
        self.lines.append(line)

    def client(self, name: str) -> Any:
        session = moto_session("ap-southeast-2")
        return session.client(name, endpoint_url=self.url)

    def service(self, name: str) -> dict[str, Any]:
        answer = self.client("ecs").describe_services(cluster=self.account.cluster, services=[name])
        return dict(answer["services"][0])

    def tags(self, name: str) -> dict[str, str]:
        """The tags on service `name`, as a mapping."""
        arn = self.service(name)["serviceArn"]
        tags = self.client("ecs").list_tags_for_resource(resourceArn=arn)["tags"]
        return {t["key"]: t["value"] for t in tags}

    def mutating_calls(self) -> int:
        mutating = ("RegisterTaskDefinition", "UpdateService", "DeregisterTaskDefinition")
        return sum(n for op, n in self.front.calls.items() if op.endswith(mutating))


RigFactory = Callable[..., Rig]


@pytest.fixture
def make_rig(moto_url: str) -> Iterator[RigFactory]:
    with ExitStack() as stack:

        def make(
            faults: tuple[str, ...] = (),
            services: tuple[str, ...] = ("tiles", "timeseries"),
            throttle: dict[str, int] | None = None,
            circuit_breaker: bool = True,
            app_probes: dict[str, Callable[[], bool]] | None = None,
            sidecars: tuple[dict[str, Any], ...] = (),
        ) -> Rig:
            clock = FreezableClock(TIME_SCALE)
            url, front = stack.enter_context(
                rehearsal_front(
                    moto_url,
                    faults=[Fault.parse(f) for f in faults],
                    clock=clock,
                    timings=TEST_TIMINGS,
                    app_probes=app_probes,
                )
            )
            account = seed_account(
                url,
                cluster=f"scidata-{next(_names)}",
                services=services,
                circuit_breaker=circuit_breaker,
                sidecars=sidecars,
            )
            new_image = push_image(url, account.region, account.repository, "v2")
            front.throttle.update(throttle or {})
            front.calls.clear()
            return Rig(url, front, account, new_image, clock)

        yield make
