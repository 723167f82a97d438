"""The rehearsal front answers ECR's image calls from a real OCI registry (the kit's, on :5000).

Not an engine test in itself: it needs the kit's registry, which the engine suite provisions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from shipyard.tools.rehearsal.ecr_images import MANIFEST_TYPES
from shipyard.tools.rehearsal.front import moto_session
from shipyard.tools.rehearsal.local import front_process, moto_server

pytestmark = pytest.mark.engine

REGISTRY = "http://localhost:5000"
REPOSITORY, TAG = "git", "bookworm"  # the kit pushes shipyard/git:bookworm


@pytest.fixture(scope="module")
def ecr() -> Iterator[Any]:
    """ECR's API through a front whose images live in the kit's registry under `shipyard/`."""
    with (
        moto_server() as moto_url,
        front_process(moto_url, "--image-registry", f"{REGISTRY}/shipyard") as front,
    ):
        client = moto_session("ap-southeast-2").client("ecr", endpoint_url=front.url)
        client.create_repository(repositoryName=REPOSITORY)
        yield client


def registry_manifest(reference: str) -> httpx.Response:
    response = httpx.get(
        f"{REGISTRY}/v2/shipyard/{REPOSITORY}/manifests/{reference}",
        headers={"Accept": ", ".join(MANIFEST_TYPES)},
    )
    response.raise_for_status()
    return response


def test_describe_images_reports_what_the_registry_holds(ecr: Any) -> None:
    pushed = registry_manifest(TAG)
    digest = pushed.headers["docker-content-digest"]

    details = ecr.describe_images(repositoryName=REPOSITORY, imageIds=[{"imageTag": TAG}])

    (image,) = details["imageDetails"]
    assert image["imageDigest"] == digest
    assert TAG in image["imageTags"]
    assert image["registryId"] == "123456789012"
    assert image["imageSizeInBytes"] > 1_000_000  # the layers of a Debian image, not a stub
    by_digest = ecr.describe_images(repositoryName=REPOSITORY, imageIds=[{"imageDigest": digest}])
    assert by_digest["imageDetails"][0]["imageDigest"] == digest


def test_batch_get_image_returns_the_manifest_byte_for_byte(ecr: Any) -> None:
    digest = registry_manifest(TAG).headers["docker-content-digest"]

    answer = ecr.batch_get_image(repositoryName=REPOSITORY, imageIds=[{"imageDigest": digest}])

    (image,) = answer["images"]
    manifest = image["imageManifest"].encode()
    assert "sha256:" + hashlib.sha256(manifest).hexdigest() == digest
    assert answer["failures"] == []


def test_an_image_never_pushed_is_not_found_as_ecr_says_it(ecr: Any) -> None:
    absent = "sha256:" + "0" * 64
    with pytest.raises(ClientError) as raised:
        ecr.describe_images(repositoryName=REPOSITORY, imageIds=[{"imageDigest": absent}])
    assert raised.value.response["Error"]["Code"] == "ImageNotFoundException"


def test_an_unknown_repository_is_refused_as_ecr_refuses_it(ecr: Any) -> None:
    with pytest.raises(ClientError) as raised:
        ecr.describe_images(repositoryName="not-created", imageIds=[{"imageTag": TAG}])
    assert raised.value.response["Error"]["Code"] == "RepositoryNotFoundException"
