"""The app image the `build` function makes stays within its size budget, measured compressed,
and starts from the byte code it ships (its root filesystem is read-only in ECS).

The image is exported as an OCI tarball with every layer forced to gzip (what a registry stores
and ECS pulls); its size is the sum of the layer blobs its manifest lists. The base image is
exported the same way, so the figure splits into the base and the layers app/Dockerfile adds.
"""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagger
import pytest
from shipyard.decide.images import ImageCatalog
from shipyard.module.cli import repository_sources
from shipyard.module.main import Shipyard

pytestmark = [pytest.mark.engine, pytest.mark.anyio]

# Registries and `docker images` count in decimal megabytes.
IMAGE_BUDGET_BYTES = 130 * 1000**2
# Everything in the tarball besides the layers: index, manifest and config JSON, tar headers.
TARBALL_OVERHEAD_LIMIT_BYTES = 1000**2
GZIP_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


@dataclass(frozen=True)
class Layer:
    diff_id: str  # the uncompressed tar's digest: the same layer compressed twice keeps it
    media_type: str
    size: int


def manifest_layers(tarball: Path) -> list[Layer]:
    """The layers of the single image in an OCI layout tarball, as its manifest lists them,
    each with its diff ID from the image config."""
    with tarfile.open(tarball) as archive:

        def blob(digest: str) -> dict[str, Any]:
            stream = archive.extractfile(f"blobs/sha256/{digest.removeprefix('sha256:')}")
            assert stream is not None, f"{tarball}: blob {digest} missing"
            return dict(json.load(stream))

        index_stream = archive.extractfile("index.json")
        assert index_stream is not None, f"{tarball}: no index.json"
        [entry] = json.load(index_stream)["manifests"]
        manifest = blob(entry["digest"])
        diff_ids = blob(manifest["config"]["digest"])["rootfs"]["diff_ids"]
    layers = manifest["layers"]
    assert len(layers) == len(diff_ids), f"{tarball}: {len(layers)} layers, {len(diff_ids)} IDs"
    return [
        Layer(diff_id, layer["mediaType"], int(layer["size"]))
        for layer, diff_id in zip(layers, diff_ids, strict=True)
    ]


async def exported_layers(container: dagger.Container, tarball: Path) -> list[Layer]:
    await container.export(str(tarball), forced_compression=dagger.ImageLayerCompression.Gzip)
    layers = manifest_layers(tarball)
    assert {layer.media_type for layer in layers} == {GZIP_LAYER}, layers
    unlisted = tarball.stat().st_size - sum(layer.size for layer in layers)
    # Every blob of any size is a listed layer: the sum cannot have missed one.
    assert 0 < unlisted < TARBALL_OVERHEAD_LIMIT_BYTES, f"{unlisted} bytes outside the layers"
    return layers


def megabytes(size: int) -> str:
    return f"{size / 1000**2:.1f} MB"


async def test_the_app_image_is_within_its_compressed_size_budget(
    dagger_client: dagger.Client, images: ImageCatalog, tmp_path: Path
) -> None:
    image = Shipyard().build(**repository_sources("build"))
    base = dagger_client.container().from_(images.reference("APP_BASE"))
    image_layers = await exported_layers(image, tmp_path / "app.tar")
    base_layers = await exported_layers(base, tmp_path / "base.tar")

    assert [layer.diff_id for layer in image_layers[: len(base_layers)]] == [
        layer.diff_id for layer in base_layers
    ], "the image does not start with the base image's layers"
    own_layers = image_layers[len(base_layers) :]
    total = sum(layer.size for layer in image_layers)
    base_size = sum(layer.size for layer in base_layers)
    own_sizes = " + ".join(megabytes(layer.size) for layer in own_layers)
    split = (
        f"{megabytes(total)} = base {megabytes(base_size)} ({images.reference('APP_BASE')}) "
        f"+ own layers {megabytes(total - base_size)} ({own_sizes})"
    )
    print(f"app image, gzip-compressed: {split}")
    assert total <= IMAGE_BUDGET_BYTES, f"image over {megabytes(IMAGE_BUDGET_BYTES)}: {split}"


async def test_the_app_imports_from_the_byte_code_it_ships(dagger_client: dagger.Client) -> None:
    image = Shipyard().build(**repository_sources("build"))
    # python -v names where each module's code object came from: a .pyc, or a .py compiled now.
    verbose = await image.with_exec(["python3", "-v", "-c", "import gridserve.main"]).stderr()
    loaded = [line for line in verbose.splitlines() if line.startswith("# code object from ")]
    compiled_now = [line for line in loaded if line.rstrip("'").endswith(".py")]
    assert len(loaded) > 100, verbose[-2000:]
    assert compiled_now == [], f"{len(compiled_now)} modules compiled at start: {compiled_now[:5]}"
