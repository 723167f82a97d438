"""The offline engine kit works: a real engine runs images from the kit's registry.

Each test sends the engine fresh input (a random token) so that a cached answer from an earlier
run cannot make it pass.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from pathlib import Path

import anyio
import dagger
import pytest
from shipyard.decide.images import DEFAULT_IMAGES, ImageCatalog
from shipyard_kit import images as kit_images
from shipyard_kit.pins import image_tags, uv_version
from shipyard_kit.settings import STATE as KIT_STATE
from shipyard_kit.steps import Provisioner, pushed_digests

pytestmark = [pytest.mark.engine, pytest.mark.anyio]

REPO = Path(__file__).resolve().parents[3]
KIT_REGISTRY = "localhost:5000/"
# A hung service health check must fail the test, not stall the suite.
SERVICE_TEST_SECONDS = 180


def pinned_engine_version() -> str:
    return str(json.loads((REPO / "dagger.json").read_text())["engineVersion"])


def test_kit_overrides_point_every_built_image_at_the_local_registry(
    images: ImageCatalog,
) -> None:
    for name in ("PYTHON", "APP_BASE", "CHECKOV", "TERRAFORM_DOCS", "MOTO", "GIT"):
        assert images.reference(name).startswith(KIT_REGISTRY), name


async def test_engine_reports_the_version_pinned_in_dagger_json(
    dagger_client: dagger.Client,
) -> None:
    assert await dagger_client.version() == pinned_engine_version()


async def test_engine_keeps_its_cache_while_the_disk_has_room(
    dagger_client: dagger.Client,
) -> None:
    # With the engine's default (keep 20 % of the disk free) a shared CI disk made the engine
    # drop the whole pipeline cache after every session.
    cache = dagger_client.engine().local_cache()
    assert await cache.min_free_space() <= 5 * 2**30
    assert await cache.reserved_space() >= 10 * 2**30


async def test_with_exec_runs_in_the_local_python_image(
    dagger_client: dagger.Client, images: ImageCatalog
) -> None:
    token = secrets.token_hex(8)
    stdout = await (
        dagger_client.container()
        .from_(images.reference("PYTHON"))
        .with_env_variable("TOKEN", token)
        .with_exec(
            [
                "sh",
                "-c",
                'python3 -c "import sys; print(sys.version_info[:2])"; '
                'uv --version; git --version; echo "$TOKEN"',
            ]
        )
        .stdout()
    )
    lines = stdout.splitlines()
    assert lines[0] == "(3, 11)"
    assert lines[1].startswith("uv ")
    assert lines[2].startswith("git version ")
    assert lines[3] == token


async def test_the_engine_adds_no_certificates_around_an_exec(
    dagger_client: dagger.Client, images: ImageCatalog
) -> None:
    """With CAs in its own custom folder the engine copies them into every container and runs
    update-ca-certificates before and after each exec (half the CPU of a release rehearsal).
    The kit's images carry this machine's CAs themselves, so the engine's folder is empty."""
    token = secrets.token_hex(8)
    listed = await (
        dagger_client.container()
        .from_(images.reference("PYTHON"))
        .without_directory("/usr/local/share/ca-certificates")
        .with_env_variable("TOKEN", token)
        .with_exec(["sh", "-c", 'ls -A /usr/local/share/ca-certificates; echo "$TOKEN"'])
        .stdout()
    )
    assert listed.split() == [token]
    bundle = await (
        dagger_client.container()
        .from_(images.reference("PYTHON"))
        .file("/etc/ssl/certs/ca-certificates.crt")
        .contents()
    )
    for host_ca in Path("/usr/local/share/ca-certificates").rglob("*.crt"):
        body = "".join(host_ca.read_text().split("-----")[2].split())
        assert body in "".join(bundle.split()), f"the kit's Python image does not trust {host_ca}"


async def test_a_failing_exec_reports_its_exit_code(
    dagger_client: dagger.Client, images: ImageCatalog
) -> None:
    token = secrets.token_hex(8)
    with pytest.raises(dagger.ExecError) as failure:
        await (
            dagger_client.container()
            .from_(images.reference("PYTHON"))
            .with_exec(["sh", "-c", f"echo {token} >&2; exit 3"])
            .sync()
        )
    assert failure.value.exit_code == 3
    assert token in failure.value.stderr


async def test_a_client_reaches_a_bound_service_by_name(
    dagger_client: dagger.Client, images: ImageCatalog
) -> None:
    token = secrets.token_hex(8)
    server = (
        dagger_client.container()
        .from_(images.reference("PYTHON"))
        .with_new_file("/srv/token.txt", token)
        .with_exposed_port(8000)
        .as_service(
            args=["python3", "-m", "http.server", "8000", "--bind", "0.0.0.0", "-d", "/srv"]
        )
    )
    fetch = (
        "import urllib.request; "
        "print(urllib.request.urlopen('http://web:8000/token.txt', timeout=30).read().decode())"
    )
    with anyio.fail_after(SERVICE_TEST_SECONDS):
        fetched = await (
            dagger_client.container()
            .from_(images.reference("PYTHON"))
            .with_service_binding("web", server)
            .with_exec(["python3", "-c", fetch])
            .stdout()
        )
    assert fetched.strip() == token


async def test_a_cache_volume_keeps_files_between_containers(
    dagger_client: dagger.Client, images: ImageCatalog
) -> None:
    token = secrets.token_hex(8)
    volume = dagger_client.cache_volume(f"kit-test-{token}")
    base = dagger_client.container().from_(images.reference("PYTHON"))
    await (
        base.with_mounted_cache("/cache", volume)
        .with_exec(["sh", "-c", f"echo {token} > /cache/written-by-first"])
        .sync()
    )
    read_back = await (
        base.with_mounted_cache("/cache", volume)
        .with_exec(["cat", "/cache/written-by-first"])
        .stdout()
    )
    assert read_back.strip() == token


@pytest.mark.parametrize(
    ("name", "command", "expected"),
    [
        ("CHECKOV", ["checkov", "--version"], DEFAULT_IMAGES["CHECKOV"].tag),
        ("TERRAFORM_DOCS", ["terraform-docs", "--version"], DEFAULT_IMAGES["TERRAFORM_DOCS"].tag),
        (
            "MOTO",
            ["python3", "-c", "import moto; print(moto.__version__)"],
            DEFAULT_IMAGES["MOTO"].tag,
        ),
        ("GIT", ["git", "--version"], "git version"),
        ("APP_BASE", ["python3", "-c", "import sys; print(sys.version)"], "3.11."),
    ],
)
async def test_each_tool_image_runs_the_version_the_pipeline_pins(
    dagger_client: dagger.Client,
    images: ImageCatalog,
    name: str,
    command: list[str],
    expected: str,
) -> None:
    stdout = await (
        dagger_client.container()
        .from_(images.reference(name))
        .with_env_variable("CACHE_BUSTER", secrets.token_hex(8))
        .with_exec(command, use_entrypoint=False)
        .stdout()
    )
    assert expected in stdout


def _docker_import_config(changes: tuple[str, ...]) -> dict[str, object]:
    reference = f"shipyard-kit-test/import:{secrets.token_hex(4)}"
    empty_tar = subprocess.run(
        ["tar", "-c", "-f", "-", "-T", "/dev/null"], capture_output=True, check=True
    ).stdout
    arguments = [part for change in changes for part in ("--change", change)]
    subprocess.run(
        ["docker", "import", *arguments, "-", reference],
        input=empty_tar,
        capture_output=True,
        check=True,
    )
    try:
        inspected = subprocess.run(
            ["docker", "image", "inspect", "--format", "{{json .Config}}", reference],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        subprocess.run(["docker", "image", "rm", reference], capture_output=True, check=False)
    config: dict[str, object] = json.loads(inspected.stdout)
    return config


@pytest.mark.parametrize(
    "recipe", kit_images.image_recipes(image_tags(), uv_version()), ids=lambda recipe: recipe.name
)
def test_the_kits_image_config_is_the_one_docker_import_writes(
    recipe: kit_images.ImageRecipe,
) -> None:
    # The kit pushes its images itself; docker import --change is what it replaced.
    changes = (*recipe.changes, "LABEL shipyard.kit.inputs=0123abcd")
    ours = json.loads(kit_images.image_config(changes, "sha256:" + "0" * 64))["config"]
    docker = _docker_import_config(changes)
    for field in ("Env", "Cmd", "Entrypoint", "ExposedPorts", "Labels"):
        assert ours.get(field) == docker.get(field), (recipe.name, field)


async def test_a_pushed_root_filesystem_runs_in_the_engine_with_its_config(
    dagger_client: dagger.Client, tmp_path: Path
) -> None:
    token = secrets.token_hex(8)
    binary = KIT_STATE / "bin" / "terraform-docs"  # static: a root filesystem of one file
    (tmp_path / "usr/local/bin").mkdir(parents=True)
    shutil.copy2(binary, tmp_path / "usr/local/bin/terraform-docs")
    (tmp_path / "token").write_text(token)
    changes = ('ENTRYPOINT ["terraform-docs"]', f"ENV TOKEN={token}", "ENV PATH=/usr/local/bin")
    # Twice: the second push finds the layer in the registry and uploads only its manifest.
    for tag in ("first", "second"):
        reference = f"{KIT_REGISTRY}shipyard-test/pushed-{token}:{tag}"
        Provisioner.push_rootfs(tmp_path, reference, changes)
        container = dagger_client.container().from_(reference)
        assert await container.env_variable("TOKEN") == token
        assert await container.file("/token").contents() == token
        version = await container.with_exec(["--version"], use_entrypoint=True).stdout()
        assert version.startswith("terraform-docs version v0.20.0"), version


async def test_a_rebuilt_base_reaches_a_build_through_the_kits_pinned_reference(
    dagger_client: dagger.Client, tmp_path: Path
) -> None:
    """A cold re-provision pushes new bytes under the same tag, and the engine caches a build by
    the reference it was given (by the bare tag, the second build here still sees "first"), so
    the overrides file the kit writes pins each tag to its manifest digest."""
    reference = f"{KIT_REGISTRY}shipyard-test/base-{secrets.token_hex(8)}:bookworm"
    dockerfile = dagger_client.directory().with_new_file(
        "Dockerfile", "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n"
    )
    recipe = kit_images.ImageRecipe(name="APP_BASE", reference=reference, packages=())
    seen = []
    for generation in ("first", "second"):
        rootfs = tmp_path / generation
        rootfs.mkdir()
        (rootfs / "generation").write_text(generation)
        Provisioner.push_rootfs(rootfs, reference, ())
        overrides = kit_images.images_env([recipe], pushed_digests([recipe]))
        images = ImageCatalog.from_settings(overrides, environ={})
        built = dockerfile.docker_build(
            build_args=[dagger.BuildArg("BASE_IMAGE", images.reference("APP_BASE"))]
        )
        seen.append(await built.file("/generation").contents())
    assert seen == ["first", "second"]
