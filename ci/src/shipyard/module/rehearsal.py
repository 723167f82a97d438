"""A release rehearsal: an emulated AWS platform started as Dagger services, then the very
pipeline a push to main runs, against staging and then, promoted by digest, production.

What is emulated: ECS, IAM and CloudWatch Logs (moto behind the rollout simulator), both
environments' ALBs (the listener in front of the real app, per environment), the chat webhook (a
receiver), the git remote the docs are committed back to (a bare repository served by git
daemon). The registry is real: publish pushes to it and production's promotion copies the
digest staging tested. The stages, the composition and its decisions are the release's own.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from typing import Any

import dagger
from dagger import dag

from shipyard.decide import topology
from shipyard.decide.images import ImageCatalog
from shipyard.decide.pipeline_flow import (
    Flow,
    StageOutcome,
    StageResult,
    Verdict,
    parse_pipeline_outputs,
    run_stage,
    skipped,
)
from shipyard.decide.summary import RunReport
from shipyard.decide.topology import Faults
from shipyard.module import release, steps, toolchains
from shipyard.module.stages import Stages, Target

ROLLOUT_DEADLINE = 300.0  # ECS-like patience per service, in simulated seconds
SMOKE_DEADLINE = 20.0
BARE_REPOSITORY = "/srv/git/repo.git"
STALE_README = "terraform/modules/ecr/README.md"
GIT_REMOTE = "git-remote"
REGISTRY_HOST = "registry"
FAILING_TEST = "app/tests/test_rehearsed_failure.py"


@dataclass(frozen=True)
class Emulator:
    """The emulated platform of one rehearsal: a step container that reaches all of it."""

    runner: dagger.Container
    front: dagger.Service
    git_remote: dagger.Service
    git_volume: dagger.CacheVolume
    git_image: dagger.Container
    # Where the rehearsal's ECR images really go: as the engine pushes, as step containers read.
    pushes_to: str
    served_at: str


def faulted_sources(
    sources: release.Sources, faults: Faults, stale_repo: dagger.Directory
) -> release.Sources:
    """The sources as the rehearsed commit has them: a failing test, or a stale README."""
    if "check-failure" in faults.run:
        failing = (
            "def test_rehearsed_failure():\n    raise AssertionError('rehearsed check failure')\n"
        )
        sources = replace(
            sources, app_project=sources.app_project.with_new_file(FAILING_TEST, failing)
        )
    if "docs-drift" in faults.run:
        sources = replace(sources, repo=stale_repo, docs=stale_repo)
    return sources


def stale_commit(git: dagger.Container, repo: dagger.Directory) -> dagger.Directory:
    """The checkout with one more commit whose terraform README is out of date."""
    return (
        git.with_directory("/repo", repo)
        .with_workdir("/repo")
        # Empty the generated block: terraform-docs rewrites only what lies between its markers.
        .with_exec(["sed", "-i", "/BEGIN_TF_DOCS/,/END_TF_DOCS/{//!d}", STALE_README])
        .with_exec(
            [
                "git",
                "-c",
                "user.name=rehearsal",
                "-c",
                "user.email=rehearsal@invalid",
                "commit",
                "--quiet",
                "-am",
                "rehearsal: a change that forgot its docs",
            ]
        )
        .directory("/repo")
    )


def app_services(image: dagger.Container, faults: Faults) -> dict[str, dagger.Service]:
    """The built image running as each environment's service would run it (its role set)."""
    services: dict[str, dagger.Service] = {}
    for environment in topology.ENVIRONMENTS:
        for role in topology.ROLES:
            container = image.with_env_variable("GRIDSERVE_ROLE", role)
            if faults.of(environment, role) == topology.SMOKE_FAILURE:
                for key, value in topology.SMOKE_FAILURE_SETTINGS.items():
                    container = container.with_env_variable(key, value)
            services[topology.app_host(environment, role)] = toolchains.app_service(container)
    return services


LISTEN_ALL = "0.0.0.0"  # noqa: S104 -- a service container answers on its own interface


def aws_front(
    images: ImageCatalog,
    with_apps: dagger.Container,
    faults: Faults,
    scale: float,
    run_id: str,
    image_registry: str,
) -> dagger.Service:
    """moto behind the rollout simulator, whose tasks turn healthy when the real apps answer,
    and whose ECR image calls read the real registry."""
    moto = (
        dag.container()
        .from_(images.reference("MOTO"))
        .with_env_variable("SHIPYARD_REHEARSAL", run_id)
        .with_exposed_port(5000)
        .as_service(use_entrypoint=True)
    )
    args = ["python3", "-m", "shipyard.tools.rehearsal", "--moto-url", "http://moto:5000"]
    args += ["--host", LISTEN_ALL, "--port", str(topology.FRONT_PORT), "--time-scale", str(scale)]
    args += ["--image-registry", image_registry]
    args += [*topology.app_probes(), *faults.simulator_args()]
    return (
        with_apps.with_service_binding("moto", moto)
        .with_exposed_port(topology.FRONT_PORT)
        .as_service(args=args)
    )


def webhook_receiver(runner: dagger.Container, faults: Faults) -> dagger.Service:
    args = ["python3", "-m", "shipyard.tools.rehearsal.receiver", "--host", LISTEN_ALL]
    args += ["--port", str(topology.WEBHOOK_PORT)]
    args += ["--down"] if "webhook-down" in faults.run else []
    return runner.with_exposed_port(topology.WEBHOOK_PORT).as_service(args=args)


def git_remote(
    git_image: dagger.Container, volume: dagger.CacheVolume, repo: dagger.Directory, faults: Faults
) -> dagger.Service:
    """A bare clone of the checkout served by git daemon; it refuses pushes when told to."""
    pushes = [] if "docs-push-rejected" in faults.run else ["--enable=receive-pack"]
    daemon = ["git", "daemon", "--reuseaddr", "--export-all", "--base-path=/srv/git", *pushes]
    return (
        git_image.with_mounted_cache("/srv/git", volume)
        .with_directory("/seed", repo)
        .with_exec(["git", "clone", "--quiet", "--bare", "/seed", BARE_REPOSITORY])
        .with_exposed_port(topology.GIT_PORT)
        .as_service(args=[*daemon, "/srv/git"])
    )


def alb(with_apps: dagger.Container, environment: str) -> dagger.Service:
    """One environment's load balancer: the ALB's path rules in front of its two apps."""
    args = ["python3", "-m", "shipyard.tools.listener", "--port", str(topology.APP_PORT)]
    return with_apps.with_exposed_port(topology.APP_PORT).as_service(
        args=[*args, *topology.listener_routes(environment)]
    )


def start_emulator(
    images: ImageCatalog,
    ci: dagger.Directory,
    image: dagger.Container,
    repo: dagger.Directory,
    faults: Faults,
    time_scale: float,
    run_id: str,
    registry: str,
    registry_service: dagger.Service | None,
) -> Emulator:
    """Every emulated endpoint as a service, bound into one step container (nothing started yet).

    The environments' ECR repositories live in `registry` under a prefix of their own.
    """
    port = int(registry.partition(":")[2] or 80)
    prefix = f"rehearsal-{run_id}"
    served_at = f"http://{REGISTRY_HOST}:{port}/{prefix}"
    # A port nothing listens on: the push is refused.
    pushes_to = "localhost:1/rehearsal" if "publish-error" in faults.run else f"{registry}/{prefix}"
    # The registry the engine pushes to on its localhost, reached by the step containers through
    # the caller's tunnel (`--registry-service tcp://localhost:5000`), else the client's host.
    tunnel = registry_service or dag.host().service(
        [dagger.PortForward(backend=port, frontend=port)]
    )
    runner = (
        toolchains.ci_runner(images, ci)
        .with_env_variable("SHIPYARD_REHEARSAL", run_id)
        .with_service_binding(REGISTRY_HOST, tunnel)
    )
    with_apps = runner
    for host, service in app_services(image, faults).items():
        with_apps = with_apps.with_service_binding(host, service)
    front = aws_front(images, with_apps, faults, time_scale, run_id, served_at)
    git_image = dag.container().from_(images.reference("GIT"))
    git_volume = dag.cache_volume(f"shipyard-rehearsal-git-{run_id}")
    remote = git_remote(git_image, git_volume, repo, faults)
    bound = (
        runner.with_service_binding("aws", front)
        .with_service_binding("webhook", webhook_receiver(runner, faults))
        .with_service_binding(GIT_REMOTE, remote)
    )
    for environment in topology.ENVIRONMENTS:
        bound = bound.with_service_binding(
            topology.alb_host(environment), alb(with_apps, environment)
        )
    return Emulator(bound, front, remote, git_volume, git_image, pushes_to, served_at)


async def seed(emulator: Emulator) -> dict[str, Any]:
    """Both environments laid out as terraform would; their `terraform output -json pipeline`."""
    run = await steps.run(
        steps.fresh(emulator.runner),
        [
            "python3",
            "-m",
            "shipyard.tools.rehearsal.environments",
            "--endpoint-url",
            f"http://aws:{topology.FRONT_PORT}",
        ],
        "seed",
    )
    configs: dict[str, Any] = json.loads(run.output_or_raise().strip().splitlines()[-1])
    return configs


def target(emulator: Emulator, config: dict[str, Any], time_scale: float) -> Target:
    """A release target on the emulator: terraform's config, placeholder keys, its endpoints."""
    placeholder = dag.set_secret("rehearsal-aws", "rehearsal")  # moto accepts any key
    return Target(
        config=parse_pipeline_outputs(json.dumps(config), config["environment"]),
        aws=steps.AwsCredentials(placeholder, placeholder, None),
        endpoint_url=f"http://aws:{topology.FRONT_PORT}",
        runner=emulator.runner,
        rollout_timeout=ROLLOUT_DEADLINE / time_scale,
        poll_interval=1.0,
        smoke_deadline=SMOKE_DEADLINE,
        docs_remote=f"git://{GIT_REMOTE}:{topology.GIT_PORT}/repo.git",
        bindings=((GIT_REMOTE, emulator.git_remote),),
        registry_endpoints=((topology.ECR_HOST, emulator.served_at),),
        engine_registries=((topology.ECR_HOST, emulator.pushes_to),),
    )


async def observed(emulator: Emulator) -> dict[str, Any]:
    """What the emulated world received: webhook messages and the git remote's last commit."""
    messages = await emulator.runner.with_exec(
        [
            "python3",
            "-c",
            f"import urllib.request;print(urllib.request.urlopen('http://webhook:{topology.WEBHOOK_PORT}/messages').read().decode())",
        ]
    ).stdout()
    log = await (
        emulator.git_image.with_mounted_cache("/srv/git", emulator.git_volume)
        .with_env_variable("SHIPYARD_INVOCATION", uuid.uuid4().hex)
        .with_exec(
            ["git", "-C", BARE_REPOSITORY, "log", "-1", "--format=%H %s", "--name-only", "HEAD"]
        )
        .stdout()
    )
    head, *files = [line for line in log.strip().splitlines() if line.strip()]
    sha, _, subject = head.partition(" ")
    return {
        "webhook_messages": [m.get("text", m) for m in json.loads(messages)],
        "git_remote_head": {"commit": sha, "subject": subject, "files": files},
    }


def combined(
    reports: dict[str, RunReport], notes: dict[str, Any], head: list[StageResult], sha: str
) -> RunReport:
    """One rehearsal report: the seed, then each environment's stages under its name."""
    stages = list(head)
    for environment, report in reports.items():
        stages += [replace(s, stage=f"{environment}/{s.stage}") for s in report.stages]
        notes[f"{environment} image"] = report.notes.get("image", "none")
    return RunReport("rehearsal", str(Flow.RELEASE), " → ".join(reports), sha, stages, notes)


async def rehearse(
    stages: Stages,
    images: ImageCatalog,
    sources: release.Sources,
    faults: Faults,
    time_scale: float,
    git_sha: str,
    registry: str,
    registry_service: dagger.Service | None = None,
) -> RunReport:
    """Emulator up, both environments seeded, then the release pipeline: staging, then production
    promoted with the digest staging tested (only when staging passed)."""
    run_id = uuid.uuid4().hex[:12]
    git_image = dag.container().from_(images.reference("GIT"))
    stale = stale_commit(git_image, sources.repo)
    sources = faulted_sources(sources, faults, stale)
    emulator = start_emulator(
        images,
        sources.ci,
        toolchains.app_image(images, sources.app),
        sources.repo,
        faults,
        time_scale,
        run_id,
        registry,
        registry_service,
    )
    notes: dict[str, Any] = {"faults": faults.describe(), "time_scale": time_scale}
    seeded = await run_stage("seed", lambda: _seeded(emulator), release.explain)
    head = [seeded]
    reports: dict[str, RunReport] = {}
    secrets = release.Secrets(
        webhook=dag.set_secret("rehearsal-webhook", f"http://webhook:{topology.WEBHOOK_PORT}/post"),
        github_token=dag.set_secret("rehearsal-github-token", "rehearsal"),
    )
    await emulator.front.start()
    try:
        if seeded.verdict is Verdict.PASSED:
            configs = seeded.details["pipeline_configs"]
            staging = target(emulator, configs["staging"], time_scale)
            reports["staging"], _ = await release.pipeline(
                stages, Flow.RELEASE, release.Release(staging), sources, secrets, git_sha
            )
            production = release.Release(
                target(emulator, configs["production"], time_scale),
                promote_from=str(reports["staging"].notes.get("image", "")),
            )
            if reports["staging"].verdict == "passed":
                reports["production"], _ = await release.pipeline(
                    stages, Flow.RELEASE, production, sources, secrets, git_sha
                )
            else:
                head.append(skipped("production", "not promoted: staging did not pass"))
        notes.update(await observed(emulator))
    finally:
        await emulator.front.stop()
    return combined(reports, notes, head, git_sha)


async def _seeded(emulator: Emulator) -> StageOutcome:
    configs = await seed(emulator)
    return f"{', '.join(configs)} laid out as terraform would (clusters, services, roles)", {
        "pipeline_configs": configs
    }
