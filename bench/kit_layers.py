"""A root filesystem pushed into the kit's registry as a one-layer image: the layer an
uncompressed tar, as kit/provision pushes its images, against the same tar through `gzip -n -6`,
as it pushed them before. Wall and machine-busy CPU seconds per push (the registry hashes what it
receives, so its share counts), rounds alternating, in one invocation.

The root filesystem is the kit's shared base (Debian minbase with CA certificates), which every
kit image starts from; kit/provision builds it. Each push goes to a repository of its own under
shipyard-bench/, so the registry takes the whole layer every time.

    sudo python3 bench/kit_layers.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The kit's own names, loaded as kit/provision loads its package (no virtualenv needed).
sys.path.insert(0, str(REPO / "kit"))
from machine import busy_cpu_seconds  # noqa: E402
from shipyard_kit.digests import content_digest  # noqa: E402
from shipyard_kit.images import DOCKER, image_config  # noqa: E402
from shipyard_kit.settings import BESIDE_GO, REGISTRY  # noqa: E402
from shipyard_kit.shell import push_image  # noqa: E402
from shipyard_kit.steps import Provisioner, rootfs_tar  # noqa: E402

DOCKER_GZIP = DOCKER._replace(layer="application/vnd.docker.image.rootfs.diff.tar.gzip")
CHANGES = ('CMD ["/bin/sh"]',)


def push_as_the_kit_does(rootfs: Path, reference: str) -> None:
    Provisioner.push_rootfs(rootfs, reference, CHANGES)


def push_gzipped(rootfs: Path, reference: str) -> None:
    """The kit's push as it was: the same tar, then `gzip -n -6`, the gzipped blob uploaded."""
    with tempfile.TemporaryDirectory() as scratch:
        layer = Path(scratch) / "layer.tar"
        subprocess.run(rootfs_tar(rootfs, str(layer)), check=True)
        diff_id = content_digest(layer)
        subprocess.run([*BESIDE_GO, "gzip", "-n", "-6", str(layer)], check=True)
        gzipped = layer.with_name("layer.tar.gz")
        config = image_config(CHANGES, diff_id)
        push_image(reference, gzipped, content_digest(gzipped), config, DOCKER_GZIP)


def timed_push(rootfs: Path, push: Callable[[Path, str], None]) -> tuple[float, float]:
    """Wall and busy CPU seconds of tar, (compression,) digest and upload of one image."""
    reference = f"{REGISTRY}/shipyard-bench/layers-{uuid.uuid4().hex[:12]}:bench"
    cpu, started = busy_cpu_seconds(), time.monotonic()
    push(rootfs, reference)
    return time.monotonic() - started, busy_cpu_seconds() - cpu


def summary(name: str, runs: list[tuple[float, float]]) -> str:
    walls, cpus = [w for w, _ in runs], [c for _, c in runs]
    return (
        f"{name:<22} wall median {statistics.median(walls):6.2f} s "
        f"({min(walls):.2f}-{max(walls):.2f}), busy CPU median {statistics.median(cpus):6.2f} s "
        f"({min(cpus):.2f}-{max(cpus):.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    rootfs = Provisioner().base_rootfs()
    size = sum(f.stat().st_size for f in rootfs.rglob("*") if f.is_file() and not f.is_symlink())
    print(f"root filesystem {rootfs} ({size / 1e6:.0f} MB of files), {rounds} rounds alternating")
    uncompressed: list[tuple[float, float]] = []
    gzipped: list[tuple[float, float]] = []
    for _ in range(rounds):
        uncompressed.append(timed_push(rootfs, push_as_the_kit_does))
        gzipped.append(timed_push(rootfs, push_gzipped))
    print(summary("uncompressed (kit)", uncompressed))
    print(summary("gzip -6 (before)", gzipped))
    ratio = statistics.median(c for _, c in uncompressed) / statistics.median(c for _, c in gzipped)
    print(f"uncompressed / gzip -6: {ratio:.2f}x busy CPU per image")


if __name__ == "__main__":
    main()
