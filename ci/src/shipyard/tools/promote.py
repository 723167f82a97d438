"""``python3 -m shipyard.tools.promote``: copy an image by digest into another repository, byte for
byte, so production runs exactly the manifest staging tested.

Re-pushing a pulled image rewrites its config (history, creation time) and so its digest; this
copies the manifest's bytes and its blobs over the registry API instead (OCI distribution spec:
a cross-repository mount where the registry allows it, else a download and an upload), and
refuses any answer whose digest differs. Registry passwords come from the environment only
(``SHIPYARD_REGISTRY_USERNAME`` / ``SHIPYARD_REGISTRY_PASSWORD``: basic auth, as ECR takes it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from shipyard.tools.registry import RegistryError, split_repository

MANIFEST_TYPES: Final = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
TIMEOUT: Final = httpx.Timeout(30.0, read=300.0)


@dataclass(frozen=True)
class Reference:
    host: str
    name: str
    digest: str

    @classmethod
    def parse(cls, address: str) -> Reference:
        repository, sep, digest = address.partition("@")
        if not sep or not digest.startswith("sha256:") or len(digest) != 71:
            raise RegistryError(
                f"--source {address!r} is not repo@sha256:<64 hex>; pass the address staging's "
                "publish returned (its report's image)"
            )
        host, name = split_repository(repository)
        return cls(host, name, digest)


def blob_digests(manifest: Mapping[str, Any]) -> list[str]:
    """The config and layer digests a single-platform image manifest refers to."""
    if manifest.get("mediaType") not in MANIFEST_TYPES or "layers" not in manifest:
        raise RegistryError(
            f"the source is a {manifest.get('mediaType', 'document without mediaType')}, not a "
            "single-platform image manifest; publish one platform (linux/amd64) and promote that"
        )
    return [manifest["config"]["digest"], *(layer["digest"] for layer in manifest["layers"])]


def checked_digest(content: bytes, expected: str) -> bytes:
    actual = "sha256:" + hashlib.sha256(content).hexdigest()
    if actual != expected:
        raise RegistryError(f"the registry answered content of {actual} for {expected}; refusing")
    return content


class Registry:
    """The few distribution-API calls a copy needs, against one base URL per registry host.

    An endpoint may carry a path (`http://registry:5000/rehearsal`): the host's repositories
    then live under that prefix there.
    """

    def __init__(self, endpoints: Mapping[str, str], auth: tuple[str, str] | None) -> None:
        self.endpoints = {host: urlsplit(url) for host, url in endpoints.items()}
        self.client = httpx.Client(auth=auth, timeout=TIMEOUT, follow_redirects=True)

    def name_at(self, host: str, name: str) -> str:
        endpoint = self.endpoints.get(host)
        prefix = endpoint.path.strip("/") if endpoint else ""
        return f"{prefix}/{name}" if prefix else name

    def url(self, host: str, path: str) -> str:
        endpoint = self.endpoints.get(host)
        base = f"{endpoint.scheme}://{endpoint.netloc}" if endpoint else f"https://{host}"
        return f"{base}/v2/{path}"

    def answer(self, response: httpx.Response, what: str, ok: Sequence[int]) -> httpx.Response:
        if response.status_code not in ok:
            body = response.text[:200].replace("\n", " ")
            raise RegistryError(f"{what}: HTTP {response.status_code} {body}")
        return response

    def manifest(self, ref: Reference) -> bytes:
        headers = {"Accept": ", ".join(MANIFEST_TYPES)}
        got = self.client.get(
            self.url(ref.host, f"{self.name_at(ref.host, ref.name)}/manifests/{ref.digest}"),
            headers=headers,
        )
        fix = f"reading {ref.host}/{ref.name}@{ref.digest} (was it published there?)"
        return checked_digest(self.answer(got, fix, (200,)).content, ref.digest)

    def has_blob(self, host: str, name: str, digest: str) -> bool:
        blob = self.url(host, f"{self.name_at(host, name)}/blobs/{digest}")
        return self.client.head(blob).status_code == 200

    def copy_blob(self, source: Reference, host: str, name: str, digest: str) -> None:
        if self.has_blob(host, name, digest):
            return
        uploads = self.url(host, f"{self.name_at(host, name)}/blobs/uploads/")
        origin = self.name_at(source.host, source.name)
        mount = {"mount": digest, "from": origin} if host == source.host else {}
        started = self.answer(
            self.client.post(uploads, params=mount), f"starting an upload to {name}", (201, 202)
        )
        if started.status_code == 201:
            return  # mounted from the source repository: nothing to transfer
        blob = self.client.get(self.url(source.host, f"{origin}/blobs/{digest}"))
        content = checked_digest(
            self.answer(blob, f"reading blob {digest}", (200,)).content, digest
        )
        location = httpx.URL(started.headers["Location"])
        if not location.is_absolute_url:
            location = httpx.URL(self.url(host, "")).join(location)
        put = self.client.put(
            location.copy_merge_params({"digest": digest}),
            content=content,
            headers={"Content-Type": "application/octet-stream"},
        )
        self.answer(put, f"uploading blob {digest} to {name}", (201,))

    def put_manifest(self, host: str, name: str, tag: str, manifest: bytes, media_type: str) -> str:
        put = self.client.put(
            self.url(host, f"{self.name_at(host, name)}/manifests/{tag}"),
            content=manifest,
            headers={"Content-Type": media_type},
        )
        answered = self.answer(put, f"writing {name}:{tag}", (201,))
        return str(answered.headers.get("Docker-Content-Digest", ""))


def promote(source: str, destination: str, tag: str, registry: Registry) -> str:
    """Copy `source` (repo@digest) to `destination`:`tag`; returns destination@digest."""
    ref = Reference.parse(source)
    host, name = split_repository(destination)
    raw = registry.manifest(ref)
    manifest = json.loads(raw)
    for digest in blob_digests(manifest):
        registry.copy_blob(ref, host, name, digest)
    written = registry.put_manifest(host, name, tag, raw, manifest["mediaType"])
    if written and written != ref.digest:
        raise RegistryError(f"{destination}:{tag} was stored as {written}, not {ref.digest}")
    return f"{destination}@{ref.digest}"


def _endpoints(values: Sequence[str]) -> dict[str, str]:
    endpoints: dict[str, str] = {}
    for value in values:
        host, sep, url = value.partition("=")
        if not (sep and url.startswith(("http://", "https://"))):
            raise RegistryError(
                f"--endpoint {value!r} is not HOST=URL[/PREFIX], e.g. "
                "localhost:5000=http://registry:5000"
            )
        endpoints[host] = url
    return endpoints


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m shipyard.tools.promote", description=__doc__)
    parser.add_argument("--source", required=True, help="repo@sha256:... to copy")
    parser.add_argument("--destination", required=True, help="repository to copy into")
    parser.add_argument("--tag", required=True, help="tag of the copy (the git SHA)")
    parser.add_argument(
        "--endpoint",
        action="append",
        default=[],
        metavar="HOST=URL[/PREFIX]",
        help="reach a registry host at this base URL, its repositories under PREFIX there "
        "(default https://HOST)",
    )
    args = parser.parse_args(argv)
    user, password = (
        os.environ.get("SHIPYARD_REGISTRY_USERNAME"),
        os.environ.get("SHIPYARD_REGISTRY_PASSWORD"),
    )
    try:
        registry = Registry(
            _endpoints(args.endpoint), (user, password) if user and password else None
        )
        print(promote(args.source, args.destination, args.tag, registry))
    except (RegistryError, httpx.HTTPError) as error:
        print(f"promote: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
