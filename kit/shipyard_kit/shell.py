"""The kit's I/O edge on the host: progress lines, commands, waiting for daemons, the registry."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from shipyard_kit.settings import REGISTRY, REGISTRY_LISTEN, KitError


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


def registry_has(reference: str) -> bool:
    repository, _, tag = reference.removeprefix(f"{REGISTRY}/").rpartition(":")
    request = urllib.request.Request(
        f"http://{REGISTRY_LISTEN}/v2/{repository}/manifests/{tag}",
        method="HEAD",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (loopback)
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
