"""Where the kit keeps things and what it runs: paths, names, flags, package lists."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KIT = REPO / "kit"
STATE = Path(os.environ.get("SHIPYARD_KIT_STATE", "/var/lib/shipyard-kit"))
ENGINE_CONTAINER = "shipyard-engine"  # never "dagger-engine-*": the CLI deletes those
# How long a stopping engine may take to shut down cleanly (and keep its cache) before a kill.
ENGINE_STOP_SECONDS = 60
ENGINE_VOLUME = "shipyard-engine-state"
REGISTRY = "localhost:5000"
REGISTRY_LISTEN = "127.0.0.1:5000"
IMAGE_PREFIX = f"{REGISTRY}/shipyard"
DAGGER_MODULE = "github.com/dagger/dagger"
SUITE = "bookworm"
# Proxy-served modules whose checksums the checksum database reachable here does not answer.
UNSUMMED_MODULES = "github.com/vito/bubbline,github.com/jedevc/go-libsecret,go.etcd.io/bbolt"
# Dagger's engine sets these capabilities on nested containers; the VM's bounding set lacks
# CAP_SYS_RESOURCE, so --privileged fails and this set is the most we can grant.
ENGINE_RUN_FLAGS = (
    "--cap-add",
    "ALL",
    "--cap-drop",
    "SYS_RESOURCE",
    "--security-opt",
    "seccomp=unconfined",
    "--security-opt",
    "apparmor=unconfined",
    "--security-opt",
    "systempaths=unconfined",
    "--device-cgroup-rule",
    "a *:* rwm",
    "-v",
    "/sys/fs/cgroup:/sys/fs/cgroup",
    # Host networking: the registry on the host's loopback is then `localhost:5000` for the
    # engine too, for pulls and for publish alike.
    "--network",
    "host",
)
ENGINE_PACKAGES = (
    "runc",
    "containernetworking-plugins",
    "dnsmasq-base",
    "iptables",
    "tini",
    "git",
    "ca-certificates",
)
# Every root filesystem starts from one debootstrapped minbase with these; the rest is apt.
BASE_PACKAGES = ("ca-certificates",)
# Folders whose files apt leaves behind in a root filesystem: downloaded .debs, package lists,
# and its binary caches (pkgcache.bin, srcpkgcache.bin: 30 MB compressed in every image).
APT_LEFTOVERS = ("var/cache/apt", "var/cache/apt/archives", "var/lib/apt/lists")
# The Go compilation is the critical path of a cold start and takes every core: what runs beside
# it (debootstrap, apt, pip, copies, tar) yields the CPU to it.
BESIDE_GO = ("nice", "-n", "10")
ENGINE_BINARIES = ("dagger-engine", "dagger-init", "dial-stdio", "dnsname")
# The engine installs every CA it finds here into each container it runs, with
# update-ca-certificates before and after every exec. The kit's images trust this machine's CAs
# already (the shared base) and the engine's own TLS reads the bundle, so in the engine's root
# filesystem this folder stays empty.
ENGINE_CUSTOM_CA_FOLDER = "usr/local/share/ca-certificates"
# Each step's seconds in the last provisioning run, in the state dir (bench/kit_provision.py).
TIMINGS_FILE = "last-provision.json"
TIMINGS = STATE / TIMINGS_FILE
CNI_PLUGINS = ("bridge", "loopback", "firewall", "host-local")
# Where a pip lock and the uv that installs it sit in an image's root filesystem while uv runs
# (then removed).
LOCK_IN_ROOTFS = "/root/requirements.lock"
UV_IN_ROOTFS = "/root/uv"
# What Debian's official slim images leave out (debuerreotype's dpkg filter), in dpkg's
# path-exclude/path-include syntax: documentation, manuals and translations. A slim root
# filesystem has these removed and the filter installed, so later installs stay slim too.
SLIM_DPKG_FILTER = (
    ("path-exclude", "/usr/share/doc/*"),
    ("path-include", "/usr/share/doc/*/copyright"),
    ("path-exclude", "/usr/share/groff/*"),
    ("path-exclude", "/usr/share/info/*"),
    ("path-exclude", "/usr/share/linda/*"),
    ("path-exclude", "/usr/share/lintian/overrides/*"),
    ("path-exclude", "/usr/share/locale/*"),
    ("path-exclude", "/usr/share/man/*"),
)
SLIM_DPKG_CONFIG = "etc/dpkg/dpkg.cfg.d/slim"
# The kit's Python SDK runtime (`dagger call` on `"sdk": "python"`): a Dang module and its
# helpers, packed with PyPI's dagger-io as an OCI image into the engine's builtin content store.
PYTHON_RUNTIME = KIT / "python-runtime"
SDK_LOCK = PYTHON_RUNTIME / "dagger-io.lock"
BUILTIN_CONTENT = "usr/local/share/dagger/content"
PYTHON_SDK_DIGEST_ENV = "DAGGER_PYTHON_SDK_MANIFEST_DIGEST"
SDK_DEVELOPMENT_TABLES = ("dependency-groups", "tool.uv.sources", "tool.uv.workspace")


class KitError(RuntimeError):
    """A provisioning step cannot go on; the message names the step and the fix."""


def step_workers(environ: Mapping[str, str]) -> int:
    """Steps at once: the Go compilation (which takes every core) beside root filesystem and
    image builds, which mostly wait on downloads, dpkg and the registry. 1: one after another."""
    value = environ.get("SHIPYARD_KIT_WORKERS", "4")
    if not value.isdigit() or int(value) < 1:
        raise KitError(f"SHIPYARD_KIT_WORKERS={value!r} is not a whole number >= 1; unset it")
    return int(value)
