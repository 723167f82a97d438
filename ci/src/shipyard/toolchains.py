"""The containers the module's functions run in: one builder per toolchain, each with its own
cache volumes, built from the images in :mod:`shipyard.images`."""

from __future__ import annotations

from typing import Final

import dagger
from dagger import dag

from shipyard.images import ImageCatalog

UV_VERSION: Final = "0.9.30"
APP_PORT: Final = 8080
APP_PLATFORM: Final = dagger.Platform("linux/amd64")
DEV_LOCK: Final = "requirements-dev.lock"
CI_LOCK: Final = "requirements.lock"
TERRAFORM_DOCS_BINARY: Final = "/usr/local/bin/terraform-docs"
CHECKOV: Final = "/opt/checkov/bin/checkov"


def python_base(images: ImageCatalog) -> dagger.Container:
    """The Python image with uv, and pip/uv download caches shared by every Python toolchain."""
    return (
        dag.container()
        .from_(images.reference("PYTHON"))
        .with_env_variable("PYTHONUNBUFFERED", "1")
        .with_env_variable("PYTHONDONTWRITEBYTECODE", "1")
        .with_env_variable("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .with_env_variable("PIP_ROOT_USER_ACTION", "ignore")
        .with_env_variable("UV_LINK_MODE", "copy")
        .with_mounted_cache("/root/.cache/pip", dag.cache_volume("shipyard-pip"))
        .with_mounted_cache("/root/.cache/uv", dag.cache_volume("shipyard-uv"))
        .with_exec(["pip", "install", "--quiet", f"uv=={UV_VERSION}"])
    )


def dev_environment(images: ImageCatalog, project: dagger.Directory) -> dagger.Container:
    """The repository's hash-pinned development environment (requirements-dev.lock) with the
    project mounted at /src. The lock is installed before the sources are added, so a source
    change reuses the installed layer."""
    install = (
        f"grep -v '^-e ' /deps/{DEV_LOCK} > /deps/requirements.txt && "
        "uv pip install --system --quiet --require-hashes -r /deps/requirements.txt"
    )
    return (
        python_base(images)
        .with_file(f"/deps/{DEV_LOCK}", project.file(DEV_LOCK))
        .with_exec(["sh", "-c", install])
        .with_directory("/src", project)
        .with_workdir("/src")
        .with_env_variable("PYTHONPATH", "/src/app/src:/src/ci/src")
    )


def ci_runner(images: ImageCatalog, ci_source: dagger.Directory) -> dagger.Container:
    """The pipeline's own Python core (deploy engine, smoke suite, rehearsal front) installed from
    ci/requirements.lock, for the steps that run inside the engine."""
    return (
        python_base(images)
        .with_file(f"/deps/{CI_LOCK}", ci_source.file(CI_LOCK))
        .with_exec(
            [
                "uv",
                "pip",
                "install",
                "--system",
                "--quiet",
                "--require-hashes",
                "-r",
                f"/deps/{CI_LOCK}",
            ]
        )
        .with_directory("/opt/shipyard", ci_source)
        .with_env_variable("PYTHONPATH", "/opt/shipyard/src")
        .with_workdir("/work")
    )


def app_image(images: ImageCatalog, app_source: dagger.Directory) -> dagger.Container:
    """The service image from app/Dockerfile, for the platform ECS runs, on the pinned base."""
    return app_source.docker_build(
        platform=APP_PLATFORM,
        build_args=[dagger.BuildArg("BASE_IMAGE", images.reference("APP_BASE"))],
    )


def app_service(image: dagger.Container) -> dagger.Service:
    return image.with_exposed_port(APP_PORT).as_service(use_entrypoint=True)


def gates_runner(
    images: ImageCatalog,
    ci_source: dagger.Directory,
    checkov_lock: dagger.File | None = None,
) -> dagger.Container:
    """The core with the gates' tools: the pinned terraform-docs and, for scans, checkov in its
    own virtualenv from its hash-pinned lock (its dependency pins clash with the core's)."""
    terraform_docs = (
        dag.container().from_(images.reference("TERRAFORM_DOCS")).file(TERRAFORM_DOCS_BINARY)
    )
    runner = ci_runner(images, ci_source).with_file(TERRAFORM_DOCS_BINARY, terraform_docs)
    if checkov_lock is None:
        return runner
    install = (
        "uv venv --quiet /opt/checkov && VIRTUAL_ENV=/opt/checkov "
        "uv pip install --quiet --require-hashes -r /deps/checkov.lock"
    )
    return runner.with_file("/deps/checkov.lock", checkov_lock).with_exec(["sh", "-c", install])
