"""The containers the module's functions run in: one builder per toolchain, each with its own
cache volumes, built from the images in :mod:`shipyard.decide.images`."""

from __future__ import annotations

from typing import Final

import dagger
from dagger import dag

from shipyard.decide.images import ImageCatalog
from shipyard.decide.pins import UV_VERSION

APP_PORT: Final = 8080
APP_PLATFORM: Final = dagger.Platform("linux/amd64")
DEV_LOCK: Final = "requirements-dev.lock"
CI_LOCK: Final = "requirements.lock"
VENV: Final = "/opt/venv"
# Spelled out: images imported from a root filesystem may carry no PATH to extend.
SYSTEM_PATH: Final = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TERRAFORM_DOCS_BINARY: Final = "/usr/local/bin/terraform-docs"
MYPY_CACHE_DIR: Final = "/root/.cache/mypy"
SCRATCH_DIR: Final = "/tmp"  # noqa: S108  # inside the step container, a fresh tmpfs


def python_base(images: ImageCatalog, image: str = "PYTHON") -> dagger.Container:
    """A Python image with uv and an empty virtualenv at /opt/venv first on PATH, and the pip/uv
    download caches shared by every Python toolchain. A virtualenv, because distribution Pythons
    refuse installs into the system site-packages (PEP 668)."""
    return (
        dag.container()
        .from_(images.reference(image))
        .with_env_variable("PYTHONUNBUFFERED", "1")
        .with_env_variable("PYTHONDONTWRITEBYTECODE", "1")
        .with_env_variable("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .with_env_variable("PIP_ROOT_USER_ACTION", "ignore")
        .with_env_variable("PIP_BREAK_SYSTEM_PACKAGES", "1")
        .with_env_variable("UV_LINK_MODE", "copy")
        .with_env_variable("UV_PYTHON_DOWNLOADS", "never")
        # The system CA store: it holds any CA the engine injects (proxies that inspect TLS).
        .with_env_variable("UV_NATIVE_TLS", "1")
        .with_mounted_cache("/root/.cache/pip", dag.cache_volume("shipyard-pip"))
        .with_mounted_cache("/root/.cache/uv", dag.cache_volume("shipyard-uv"))
        .with_exec(["sh", "-c", f"uv --version || python3 -m pip install --quiet uv=={UV_VERSION}"])
        .with_exec(["uv", "venv", "--quiet", VENV])
        .with_env_variable("VIRTUAL_ENV", VENV)
        .with_env_variable("PATH", f"{VENV}/bin:{SYSTEM_PATH}")
    )


def dev_environment(images: ImageCatalog, project: dagger.Directory) -> dagger.Container:
    """The repository's hash-pinned development environment (requirements-dev.lock) with the
    project mounted at /src. The lock is installed before the sources are added, so a source
    change reuses the installed layer. Byte-compiled: each test run (and the servers its tests
    start) imports the same heavy libraries, and PYTHONDONTWRITEBYTECODE would have every process
    compile them anew; measured, the install takes ~8 s longer once, a test run ~5 s less CPU."""
    install = (
        f"grep -v '^-e ' /deps/{DEV_LOCK} > /deps/requirements.txt && "
        "uv pip install --quiet --require-hashes --compile-bytecode -r /deps/requirements.txt"
    )
    return (
        python_base(images)
        .with_file(f"/deps/{DEV_LOCK}", project.file(DEV_LOCK))
        .with_exec(["sh", "-c", install])
        .with_directory("/src", project)
        .with_workdir("/src")
        .with_env_variable("PYTHONPATH", "/src/app/src:/src/ci/src")
    )


def testing_environment(images: ImageCatalog, project: dagger.Directory) -> dagger.Container:
    """The development environment with a scratch /tmp: pytest's temporary directories (the
    generated datasets, about 140 MB) vanish with the run instead of being stored in the layer
    the engine keeps."""
    return dev_environment(images, project).with_mounted_temp(SCRATCH_DIR)


def lint_environment(images: ImageCatalog, project: dagger.Directory) -> dagger.Container:
    """The development environment with mypy's incremental cache in a cache volume: a change
    re-checks the modules it touches and their dependents, not all of them."""
    return (
        dev_environment(images, project)
        .with_mounted_cache(MYPY_CACHE_DIR, dag.cache_volume("shipyard-mypy"))
        .with_env_variable("MYPY_CACHE_DIR", MYPY_CACHE_DIR)
    )


def ci_runner(
    images: ImageCatalog, ci_source: dagger.Directory, image: str = "PYTHON"
) -> dagger.Container:
    """The pipeline's own Python core (deploy engine, smoke suite, rehearsal front, gates)
    installed from ci/requirements.lock, for the steps that run inside the engine. Byte-compiled
    once in the cached install layer: every deploy, smoke, promote and notify exec imports boto3
    or httpx, and under PYTHONDONTWRITEBYTECODE each would compile them anew (importing the
    deploy engine: 0.9 CPU-s from source, 0.4 from byte code)."""
    install = ["uv", "pip", "install", "--quiet", "--require-hashes", "--compile-bytecode"]
    return (
        python_base(images, image)
        .with_file(f"/deps/{CI_LOCK}", ci_source.file(CI_LOCK))
        .with_exec([*install, "-r", f"/deps/{CI_LOCK}"])
        .with_directory("/opt/shipyard", ci_source)
        .with_env_variable("PYTHONPATH", "/opt/shipyard/src")
        .with_workdir("/work")
    )


def app_image(
    images: ImageCatalog, app_source: dagger.Directory, git_sha: str = "unknown"
) -> dagger.Container:
    """The service image from app/Dockerfile, for the platform ECS runs, on the pinned base,
    labelled with the commit it is built from."""
    return app_source.docker_build(
        platform=APP_PLATFORM,
        build_args=[
            dagger.BuildArg("BASE_IMAGE", images.reference("APP_BASE")),
            dagger.BuildArg("GIT_SHA", git_sha),
        ],
    )


def app_service(image: dagger.Container) -> dagger.Service:
    return image.with_exposed_port(APP_PORT).as_service(use_entrypoint=True)


def docs_runner(images: ImageCatalog, ci_source: dagger.Directory) -> dagger.Container:
    """The core with the pinned terraform-docs binary, for the docs gate."""
    terraform_docs = (
        dag.container().from_(images.reference("TERRAFORM_DOCS")).file(TERRAFORM_DOCS_BINARY)
    )
    return ci_runner(images, ci_source).with_file(TERRAFORM_DOCS_BINARY, terraform_docs)


def scan_runner(images: ImageCatalog, ci_source: dagger.Directory) -> dagger.Container:
    """The core on the checkov image: checkov keeps its own environment, the core /opt/venv."""
    return ci_runner(images, ci_source, "CHECKOV")
