"""The kit's I/O edge on the host: progress lines, commands, waiting for daemons, the registry."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from email.message import Message
from pathlib import Path
from typing import BinaryIO

from shipyard_kit.digests import bytes_digest
from shipyard_kit.images import DOCKER, OCI, MediaTypes, one_layer_manifest
from shipyard_kit.settings import BESIDE_GO, REGISTRY, REGISTRY_LISTEN, KitError


def say(message: str) -> None:
    # One write per line: steps run on several threads.
    sys.stderr.write(f"[kit] {message}\n")
    sys.stderr.flush()


def report_step(name: str, seconds: float) -> None:
    say(f"{name}: done in {seconds:.1f}s")


def link(source: Path, target: Path) -> None:
    """A hard link, unless `target` is already there (the .deb caches share files)."""
    with contextlib.suppress(FileExistsError):
        os.link(source, target)


def run(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    capture: bool = False,
    check: bool = True,
    input_bytes: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    merged = {**os.environ, **(env or {})}
    result = subprocess.run(
        list(args),
        env=merged,
        cwd=cwd,
        input=input_bytes,
        stdout=subprocess.PIPE if capture else sys.stderr,
        stderr=subprocess.PIPE if capture else sys.stderr,
        check=False,
    )
    if check and result.returncode != 0:
        detail = (result.stdout + result.stderr).decode(errors="replace")[-2000:] if capture else ""
        raise KitError(f"command failed ({result.returncode}): {' '.join(args)}\n{detail}")
    return result


def pip_download(arguments: Sequence[str], into: Path) -> None:
    """Distributions from PyPI, without their dependencies, by the machine's pip."""
    pip = [*BESIDE_GO, "python3", "-m", "pip", "download", "-q", "--no-deps"]
    run([*pip, *arguments, "-d", str(into)], capture=True)


def output(args: Sequence[str], **kwargs: object) -> str:
    return run(args, capture=True, **kwargs).stdout.decode().strip()  # type: ignore[arg-type]


def succeeds(args: Sequence[str]) -> bool:
    return subprocess.run(list(args), capture_output=True, check=False).returncode == 0


def wait_for(what: str, probe: Callable[[], bool], timeout: float, log: Path | None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(0.5)
    tail = ""
    if log and log.exists():
        tail = "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    raise KitError(f"{what} did not come up within {timeout:.0f}s (log: {log}){tail}")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
            return bool(response.status < 500)
    except (urllib.error.URLError, OSError):
        return False


def deb_installed(package: str) -> bool:
    status = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False
    ).stdout
    return "install ok installed" in status


def registry_digest(reference: str) -> str | None:
    """The digest of the manifest the kit's registry holds under `reference`'s tag, or None."""
    repository, _, tag = reference.removeprefix(f"{REGISTRY}/").rpartition(":")
    request = urllib.request.Request(
        f"http://{REGISTRY_LISTEN}/v2/{repository}/manifests/{tag}",
        method="HEAD",
        headers={"Accept": f"{DOCKER.manifest}, {OCI.manifest}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (loopback)
            answered = response.headers.get("Docker-Content-Digest")
            return str(answered) if response.status == 200 and answered else None
    except (urllib.error.URLError, OSError):
        return None


def push_image(
    reference: str, layer: Path, layer_digest: str, config: bytes, media: MediaTypes = DOCKER
) -> None:
    """A one-layer image into the kit's registry as `docker push` puts it: the layer (a tar as
    `media` names it, `layer_digest` its digest) and the config as blobs (skipped when the
    registry has them), then the manifest under its tag."""
    repository, _, tag = reference.removeprefix(f"{REGISTRY}/").rpartition(":")
    layer_size = layer.stat().st_size
    with layer.open("rb") as stream:
        _put_blob(repository, layer_digest, stream, layer_size)
    _put_blob(repository, bytes_digest(config), io.BytesIO(config), len(config))
    manifest = one_layer_manifest(config, layer_digest, layer_size, media)
    _registry(
        "PUT",
        f"/v2/{repository}/manifests/{tag}",
        reference,
        io.BytesIO(manifest),
        {"Content-Type": media.manifest, "Content-Length": str(len(manifest))},
    )


def _put_blob(repository: str, blob: str, body: BinaryIO, size: int) -> None:
    try:
        _registry("HEAD", f"/v2/{repository}/blobs/{blob}", repository)
        return
    except KitError:
        pass
    started = _registry("POST", f"/v2/{repository}/blobs/uploads/", repository)
    location = urllib.parse.urljoin(f"http://{REGISTRY_LISTEN}/", started["Location"])
    separator = "&" if "?" in location else "?"
    _registry(
        "PUT",
        f"{location}{separator}digest={blob}",
        repository,
        body,
        {"Content-Type": "application/octet-stream", "Content-Length": str(size)},
    )


def _registry(
    method: str,
    where: str,
    what: str,
    body: BinaryIO | None = None,
    headers: Mapping[str, str] | None = None,
) -> Message:
    url = where if where.startswith("http") else f"http://{REGISTRY_LISTEN}{where}"
    # The kit's registry on loopback, or an upload address it handed out.
    headers = dict(headers or {})
    request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310
            headers_answered: Message = response.headers
            return headers_answered
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")[:300] if method != "HEAD" else ""
        raise KitError(
            f"registry {REGISTRY_LISTEN} answered {method} for {what} with HTTP {error.code}"
            f" {detail}".rstrip()
        ) from None
    except (urllib.error.URLError, OSError) as error:
        raise KitError(
            f"registry {REGISTRY_LISTEN} unreachable for {what} ({error}); run kit/provision"
        ) from None
