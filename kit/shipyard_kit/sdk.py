"""The Python SDK runtime image: PyPI's dagger-io vendored as dagger vendors it, packed as OCI."""

from __future__ import annotations

import gzip
import io
import re
import shutil
import tarfile
from pathlib import Path

from shipyard_kit.digests import bytes_digest
from shipyard_kit.images import OCI, image_config, one_layer_manifest
from shipyard_kit.settings import REPO, SDK_DEVELOPMENT_TABLES, SDK_LOCK, KitError
from shipyard_kit.shell import pip_download, say


def sdk_lock_version(lock: str) -> str:
    """The dagger-io version pinned by the Python runtime's SDK lock."""
    match = re.search(r"^dagger-io==(\S+) ", lock, re.MULTILINE)
    if not match:
        raise KitError(f"{SDK_LOCK.relative_to(REPO)} pins no dagger-io==X --hash=sha256:...")
    return match.group(1)


def vendored_sdk_pyproject(pyproject: str) -> str:
    """dagger-io's pyproject.toml as dagger's runtime vendors it: version 0.0.0 (the SDK's
    source tree has no release version) and without the tables that only serve dagger's own
    development of the SDK (a `codegen` workspace member that PyPI's sdist does not ship)."""
    text, count = re.subn(
        r'^version = "[^"]*"$', 'version = "0.0.0"', pyproject, count=1, flags=re.MULTILINE
    )
    if count != 1:
        raise KitError("dagger-io's pyproject.toml has no `version = ...` line to vendor")
    for table in SDK_DEVELOPMENT_TABLES:
        text = re.sub(rf"^\[{re.escape(table)}\]\n(?:(?!\[).*\n)*", "", text, flags=re.MULTILINE)
    return text


def vendor_python_sdk(target: Path, lock: str, scratch: Path) -> None:
    """PyPI's dagger-io sdist (hash-checked against `lock`) unpacked into `target`, its
    pyproject.toml as dagger's runtime vendors it."""
    downloads = scratch / "downloads"
    (scratch / "dagger-io.lock").write_text(lock)
    say("  pip download dagger-io (sdist, hash-checked)")
    pip_download(
        ["--no-binary", "dagger-io", "--require-hashes", "-r", str(scratch / "dagger-io.lock")],
        downloads,
    )
    [sdist] = downloads.glob("dagger_io-*.tar.gz")
    with tarfile.open(sdist) as tar:
        tar.extractall(scratch / "sdist", filter="data")
    [unpacked] = (scratch / "sdist").iterdir()
    shutil.copytree(unpacked, target)
    pyproject = target / "pyproject.toml"
    pyproject.write_text(vendored_sdk_pyproject(pyproject.read_text()))


def deterministic_tar_gz(root: Path) -> tuple[bytes, str]:
    """`root` as a gzipped tar with fixed owners and times, and the uncompressed tar's digest
    (the layer's diff ID), so the same files always give the same image digest."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(root.rglob("*")):
            info = tar.gettarinfo(str(path), arcname=str(path.relative_to(root)))
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            if info.isfile():
                with path.open("rb") as stream:
                    tar.addfile(info, stream)
            else:
                tar.addfile(info)
    uncompressed = raw.getvalue()
    compressed = gzip.compress(uncompressed, mtime=0)
    return compressed, bytes_digest(uncompressed)


def oci_image_blobs(layer: bytes, diff_id: str) -> tuple[str, dict[str, bytes]]:
    """A one-layer OCI image: its manifest digest and every blob by digest."""
    config = image_config((), diff_id)
    manifest = one_layer_manifest(config, bytes_digest(layer), len(layer), OCI)
    return bytes_digest(manifest), {bytes_digest(blob): blob for blob in (config, layer, manifest)}
