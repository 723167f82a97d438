"""A stage whose tool stops on a bad argument reports the tool's own message, on the real engine
(the deploy engine exits before it makes its report folder)."""

from __future__ import annotations

import sys

import anyio
import dagger
import pytest
from shipyard.module.cli import repository_sources
from shipyard.module.main import Shipyard
from shipyard.module.steps import StageFailed
from shipyard.tools.deploy.errors import DeployError

pytestmark = [pytest.mark.engine, pytest.mark.anyio]

IMAGE = "registry.example.org/shipyard@sha256:" + "0" * 64


async def test_a_bad_container_value_is_refused_before_any_engine_work(
    dagger_client: dagger.Client,
) -> None:
    with pytest.raises(DeployError, match=r"--container 'tiles' is not SERVICE=CONTAINER"):
        await Shipyard().deploy(
            ci=repository_sources("deploy")["ci"],
            cluster="shipyard",
            image=IMAGE,
            container=["tiles"],
            endpoint_url="http://127.0.0.1:9",
        )


async def test_a_mistake_only_the_deploy_engine_sees_surfaces_its_own_message(
    dagger_client: dagger.Client,
) -> None:
    with pytest.raises(StageFailed) as failed:
        await Shipyard().deploy(
            ci=repository_sources("deploy")["ci"],
            cluster="shipyard",
            image=IMAGE,
            region="Mars-1",
            endpoint_url="http://127.0.0.1:9",
        )
    message = str(failed.value)
    # A failed exec, which `dagger call -i deploy` opens a shell in.
    assert isinstance(failed.value.__cause__, dagger.ExecError)
    assert message.startswith("deploy could not run (exit 2): ")
    assert "region 'Mars-1' is not an AWS region name" in message
    assert "/out" not in message


async def test_a_mistake_found_inside_the_session_is_not_called_a_session_failure(
    dagger_client: dagger.Client,
) -> None:
    """The SDK turns a ValueError raised inside `dagger.connection()` into "Failed to start
    Dagger engine session"; the pipeline's own errors are ValueErrors. With the up-front checks
    switched off, the rehearsal's own fault check runs inside the session."""
    script = (
        "import sys, shipyard.module.cli as cli\n"
        "cli.check_arguments = lambda *args: None\n"
        "sys.exit(cli.main(['rehearse', '--fault', 'tiles=explode']))\n"
    )
    done = await anyio.run_process([sys.executable, "-c", script], check=False)
    stderr = done.stderr.decode()
    assert done.returncode == 1, stderr[-2000:]
    assert stderr.splitlines()[-1] == (
        "python -m shipyard.module.cli rehearse: --fault 'tiles=explode': unknown fault "
        "'explode'; use one of crash, unhealthy, pull-error, slow-rollout, smoke-failure, "
        "check-failure, publish-error, docs-drift, docs-push-rejected, webhook-down"
    )
    assert "Failed to start Dagger engine session" not in stderr
