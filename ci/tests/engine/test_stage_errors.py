"""A stage whose tool stops on a bad argument reports the tool's own message, on the real engine
(the deploy engine exits before it makes its report folder)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import anyio
import dagger
import pytest
from shipyard.decide import topology
from shipyard.decide.images import ImageCatalog
from shipyard.module import main, rehearsal, toolchains
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
        await Shipyard(aws_endpoint_url="http://127.0.0.1:9").deploy(
            ci=repository_sources("deploy")["ci"],
            cluster="shipyard",
            image=IMAGE,
            container=["tiles"],
        )


async def test_a_mistake_only_the_deploy_engine_sees_surfaces_its_own_message(
    dagger_client: dagger.Client,
) -> None:
    with pytest.raises(StageFailed) as failed:
        await Shipyard(aws_endpoint_url="http://127.0.0.1:9").deploy(
            ci=repository_sources("deploy")["ci"],
            cluster="shipyard",
            image=IMAGE,
            region="Mars-1",
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


def small_git_repository(folder: Path) -> Path:
    """A one-commit repository for the emulated git remote (which this test never pushes to);
    a git worktree's checkout cannot stand in: its .git is a file naming a path on the host."""
    folder.mkdir()
    (folder / "README.md").write_text("emulated remote\n")
    identity = ["-c", "user.name=test", "-c", "user.email=test@invalid"]
    for command in (["init", "--quiet"], ["add", "README.md"], ["commit", "--quiet", "-m", "one"]):
        subprocess.run(["git", *identity, *command], cwd=folder, check=True)
    return folder


async def test_a_deploy_called_alone_fails_its_exec_with_the_dossier_on_a_crash(
    dagger_client: dagger.Client, images: ImageCatalog, tmp_path: Path
) -> None:
    """`deploy` on the rehearsal's emulated staging with a crashing tiles service: the failed
    verdict is a failed exec (what `dagger call -i deploy` opens), and its message names the
    verdict, the fix, the dossier and the rollback."""
    given = repository_sources("rehearse")
    remote = dagger_client.host().directory(str(small_git_repository(tmp_path / "remote")))
    run_id = uuid.uuid4().hex[:12]
    emulator = rehearsal.start_emulator(
        images,
        given["ci"],
        toolchains.app_image(images, given["app"]),
        remote,
        topology.parse_faults(["tiles=crash"]),
        20.0,
        run_id,
        "localhost:5000",
        None,
    )
    await emulator.front.start()
    try:
        configs = await rehearsal.seed(emulator)
        staging = rehearsal.target(emulator, configs["staging"], 20.0)
        shipyard = Shipyard()
        image = await shipyard.published_image(given["app"], given["ci"], staging, "a" * 40)
        with pytest.raises(StageFailed) as failed:
            await shipyard.deploy_outcome(given["ci"], staging, image, main.DEPLOY)
    finally:
        await emulator.front.stop()
    cause = failed.value.__cause__
    assert isinstance(cause, dagger.ExecError), repr(failed.value)
    assert cause.exit_code == 1
    message = str(failed.value)
    assert message.startswith("deploy: failed (exit 1); the dossier below gives each service's")
    assert "Failure dossier of" in message
    assert "rollback to " in message
