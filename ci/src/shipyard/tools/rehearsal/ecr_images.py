"""ECR's image calls answered from a real OCI registry: what publish really pushed.

The rehearsal's repositories exist in moto (the seed creates them as terraform would); the images
publish pushes live in a real registry under a path prefix. DescribeImages and BatchGetImage are
answered from that registry when it holds every image asked for, so verify and promotion see the
digest the engine pushed. Anything else (an unknown repository, an image nowhere, the images the
seed put into moto for the services' first task definitions) is left to moto, which answers as
ECR would.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

ECR_PREFIX = "AmazonEC2ContainerRegistry_V20150921."
MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)


@dataclass(frozen=True)
class Manifest:
    digest: str
    media_type: str
    content: bytes

    @property
    def size(self) -> int:
        """What ECR reports as the image's size: the config and layers (or the platforms')."""
        document = json.loads(self.content)
        parts = [document.get("config") or {}, *document.get("layers", [])]
        parts += document.get("manifests", [])
        return sum(int(part.get("size", 0)) for part in parts)


class RegistryImages:
    """The images of ECR repositories, read over the registry API (`URL[/PATH-PREFIX]`)."""

    def __init__(self, url: str, http: httpx.Client) -> None:
        parts = urlsplit(url)
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.prefix = parts.path.strip("/")
        self.http = http

    def _url(self, repository: str, kind: str, reference: str = "") -> str:
        name = f"{self.prefix}/{repository}" if self.prefix else repository
        return f"{self.base}/v2/{name}/{kind}{'/' + reference if reference else ''}"

    def manifest(self, repository: str, reference: str) -> Manifest | None:
        response = self.http.get(
            self._url(repository, "manifests", reference),
            headers={"Accept": ", ".join(MANIFEST_TYPES)},
        )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        content = response.content
        digest = response.headers.get("docker-content-digest") or (
            "sha256:" + hashlib.sha256(content).hexdigest()
        )
        media_type = response.headers.get("content-type", "").split(";")[0]
        return Manifest(digest, media_type, content)

    def tags_of(self, repository: str, digest: str) -> list[str]:
        response = self.http.get(self._url(repository, "tags/list"))
        if response.status_code == 404:
            return []
        response.raise_for_status()
        tags = response.json().get("tags") or []
        return sorted(
            tag
            for tag in tags
            if (found := self.manifest(repository, tag)) and found.digest == digest
        )


Found = list[tuple[dict[str, str], Manifest]]


def _found(
    images: RegistryImages, repository: str, image_ids: list[dict[str, str]]
) -> Found | None:
    """Every image asked for, from the registry; None when any one is not there."""
    found = []
    for image_id in image_ids:
        reference = image_id.get("imageDigest") or image_id.get("imageTag") or ""
        manifest = images.manifest(repository, reference) if reference else None
        if manifest is None:
            return None
        found.append((image_id, manifest))
    return found


def describe_images(
    repository: str, registry_id: str, found: Found, images: RegistryImages
) -> dict[str, Any]:
    return {
        "imageDetails": [
            {
                "registryId": registry_id,
                "repositoryName": repository,
                "imageDigest": manifest.digest,
                "imageTags": images.tags_of(repository, manifest.digest),
                "imageSizeInBytes": manifest.size,
                "imageManifestMediaType": manifest.media_type,
            }
            for _, manifest in found
        ]
    }


def batch_get_image(
    repository: str, registry_id: str, found: Found, images: RegistryImages
) -> dict[str, Any]:
    """The manifests byte for byte, as ECR returns them."""
    return {
        "images": [
            {
                "registryId": registry_id,
                "repositoryName": repository,
                "imageId": {"imageDigest": manifest.digest, **image_id},
                "imageManifest": manifest.content.decode(),
                "imageManifestMediaType": manifest.media_type,
            }
            for image_id, manifest in found
        ],
        "failures": [],
    }


Render = Callable[[str, str, Found, RegistryImages], dict[str, Any]]
ANSWERS: dict[str, Render] = {"DescribeImages": describe_images, "BatchGetImage": batch_get_image}


def is_image_call(operation: str) -> bool:
    return operation.startswith(ECR_PREFIX) and operation.removeprefix(ECR_PREFIX) in ANSWERS


def answer(
    operation: str, request: dict[str, Any], registry_id: str, images: RegistryImages
) -> dict[str, Any] | None:
    """ECR's answer to an image call from the registry, or None to leave the call to moto."""
    if not is_image_call(operation):
        return None
    render = ANSWERS[operation.removeprefix(ECR_PREFIX)]
    repository = request["repositoryName"]
    found = _found(images, repository, request.get("imageIds") or [])
    return render(repository, registry_id, found, images) if found else None
