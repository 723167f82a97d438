"""A stage whose tool stops on a bad argument reports the tool's own message, on the real engine
(the deploy engine exits before it makes its report folder)."""

from __future__ import annotations

import dagger
import pytest
from shipyard.cli import repository_sources
from shipyard.main import Shipyard
from shipyard.steps import StageFailed

pytestmark = [pytest.mark.engine, pytest.mark.anyio]

IMAGE = "registry.example.org/shipyard@sha256:" + "0" * 64


async def test_a_bad_container_value_surfaces_the_deploy_engines_message(
    dagger_client: dagger.Client,
) -> None:
    with pytest.raises(StageFailed) as failed:
        await Shipyard().deploy(
            ci=repository_sources("deploy")["ci"],
            cluster="shipyard",
            image=IMAGE,
            container=["tiles"],
            endpoint_url="http://127.0.0.1:9",
        )
    message = str(failed.value)
    assert "--container 'tiles' is not SERVICE=CONTAINER" in message
    assert "/out" not in message
