"""The pipeline's images as the kit builds them: recipes, slim root filesystems, written files."""

from __future__ import annotations

import fnmatch
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from shipyard_kit.digests import bytes_digest, digest
from shipyard_kit.settings import (
    IMAGE_PREFIX,
    REGISTRY,
    REPO,
    SLIM_DPKG_FILTER,
    SUITE,
    KitError,
)


def debian_mirror(sources: Iterable[str]) -> str:
    """The Debian archive URI this machine's apt uses for the bookworm suite."""
    for text in sources:
        for stanza in text.split("\n\n"):
            fields = dict(
                line.split(":", 1)
                for line in stanza.splitlines()
                if ":" in line and not line.startswith("#")
            )
            suites = fields.get("Suites", "").split()
            if SUITE in suites and "URIs" in fields:
                return fields["URIs"].split()[0].strip()
        for line in text.splitlines():
            words = line.split()
            if len(words) >= 3 and words[0] == "deb" and words[2] == SUITE:
                return words[1]
    raise KitError(
        f"no apt source for Debian {SUITE} found in /etc/apt; add one (debootstrap needs it)"
    )


@dataclass(frozen=True)
class ImageRecipe:
    """One pipeline image: a Debian rootfs plus what is installed on top."""

    name: str  # the SHIPYARD_IMAGE_<NAME> it overrides
    reference: str
    packages: tuple[str, ...]
    pip: tuple[str, ...] = ()
    pip_lock: str | None = None  # a hash-pinned lock file under the repo
    go_binaries: tuple[str, ...] = ()  # files from the kit's bin dir, into /usr/local/bin
    changes: tuple[str, ...] = ()  # Dockerfile instructions for docker import
    # A root filesystem without what SLIM_DPKG_FILTER excludes. Not in repr: inputs() adds it
    # only when set, so the digests (and stamps) of the other images do not depend on it.
    slim: bool = field(default=False, repr=False)

    @property
    def installs_python_packages(self) -> bool:
        return bool(self.pip or self.pip_lock)

    def inputs(self, extra: str) -> str:
        lock = (REPO / self.pip_lock).read_text() if self.pip_lock else ""
        return digest(repr(self), lock, extra, *(["slim"] if self.slim else []))


def image_recipes(versions: Mapping[str, str], uv_version: str) -> list[ImageRecipe]:
    """The images the pipeline runs, as honest local stand-ins for the official ones.

    Entrypoints follow the official images so each is a drop-in replacement.
    """
    python_env = ("ENV PYTHONUNBUFFERED=1", "ENV PIP_BREAK_SYSTEM_PACKAGES=1")
    python_pkgs = ("ca-certificates", "python3", "python3-pip", "python3-venv", "git")
    return [
        ImageRecipe(
            "PYTHON",
            f"{IMAGE_PREFIX}/python:3.11-{SUITE}",
            python_pkgs,
            pip=(f"uv=={uv_version}",),
            changes=(*python_env, 'CMD ["python3"]'),
        ),
        # Like python:3.11-slim, which the app's Dockerfile builds on: Python with its venv
        # module (pip comes into the venv from ensurepip's wheel) and CA certificates; no pip,
        # git, documentation or translations.
        ImageRecipe(
            "APP_BASE",
            f"{IMAGE_PREFIX}/app-base:3.11-slim-{SUITE}",
            ("ca-certificates", "python3", "python3-venv"),
            changes=("ENV LANG=C.UTF-8", 'CMD ["python3"]'),
            slim=True,
        ),
        ImageRecipe(
            "CHECKOV",
            f"{IMAGE_PREFIX}/checkov:{versions['CHECKOV']}",
            python_pkgs,
            pip_lock="scripts/tools/checkov.lock",
            changes=(*python_env, 'ENTRYPOINT ["checkov"]'),
        ),
        ImageRecipe(
            "MOTO",
            f"{IMAGE_PREFIX}/moto:{versions['MOTO']}",
            python_pkgs,
            pip=(f"moto[server]=={versions['MOTO']}",),
            changes=(
                *python_env,
                "EXPOSE 5000",
                'ENTRYPOINT ["/usr/local/bin/moto_server", "-H", "0.0.0.0"]',
            ),
        ),
        ImageRecipe(
            "TERRAFORM_DOCS",
            f"{IMAGE_PREFIX}/terraform-docs:{versions['TERRAFORM_DOCS']}",
            ("ca-certificates", "git"),
            go_binaries=("terraform-docs",),
            changes=('ENTRYPOINT ["terraform-docs"]',),
        ),
        ImageRecipe(
            "GIT",
            f"{IMAGE_PREFIX}/git:{SUITE}",
            ("ca-certificates", "git"),
            changes=('ENTRYPOINT ["git"]',),
        ),
    ]


def python_runtime_settings(recipes: Sequence[ImageRecipe], uv_version: str) -> str:
    """kit.json in the Python SDK image: the image the runtime starts from (and takes uv from)."""
    [python] = [r for r in recipes if r.name == "PYTHON"]
    return json.dumps({"pythonImage": python.reference, "uvVersion": uv_version}, indent=2) + "\n"


class MediaTypes(NamedTuple):
    """What a manifest calls itself, its config and its layer."""

    manifest: str
    config: str
    layer: str


# The kit's registry images: Docker's schema 2 (what `docker push` writes) with the layer left
# uncompressed, since the registry is on this machine: gzip -6 spent 14.5 CPU-s on a 300 MB
# layer, about 100 CPU-s over the images of a cold provision, and the engine gunzipped it again.
# The OCI image layout's names, gzipped, for the SDK runtime in the engine's content store.
DOCKER = MediaTypes(
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.container.image.v1+json",
    "application/vnd.docker.image.rootfs.diff.tar",
)
OCI = MediaTypes(
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.oci.image.layer.v1.tar+gzip",
)


def image_config(changes: Sequence[str], diff_id: str) -> bytes:
    """The image config `docker import --change` writes for a one-layer image: the changes'
    ENV, LABEL, CMD, ENTRYPOINT (exec form) and EXPOSE."""
    env: dict[str, str] = {}
    config: dict[str, Any] = {}
    for change in changes:
        instruction, _, argument = change.partition(" ")
        if instruction in ("ENV", "LABEL"):
            key, equals, value = argument.partition("=")
            if not equals:
                raise KitError(f"image change {change!r}: write {instruction} KEY=value")
            if instruction == "ENV":
                env[key] = value
            else:
                config.setdefault("Labels", {})[key] = value
        elif instruction in ("CMD", "ENTRYPOINT"):
            config["Cmd" if instruction == "CMD" else "Entrypoint"] = _exec_form(change, argument)
        elif instruction == "EXPOSE":
            port = argument if "/" in argument else f"{argument}/tcp"
            config.setdefault("ExposedPorts", {})[port] = {}
        else:
            raise KitError(
                f"image change {change!r}: only ENV, LABEL, CMD, ENTRYPOINT and EXPOSE are built"
            )
    if env:
        config["Env"] = [f"{key}={value}" for key, value in env.items()]
    image = {
        "architecture": "amd64",
        "os": "linux",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }
    return json.dumps(image, sort_keys=True).encode()


def _exec_form(change: str, argument: str) -> list[str]:
    try:
        words = json.loads(argument)
    except json.JSONDecodeError:
        words = None
    if not (isinstance(words, list) and words and all(isinstance(w, str) for w in words)):
        raise KitError(f'image change {change!r}: write the exec form, ["program", "arg"]')
    return words


def one_layer_manifest(
    config: bytes, layer_digest: str, layer_size: int, media: MediaTypes = DOCKER
) -> bytes:
    """The manifest of a one-layer image, naming its config by digest."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": media.manifest,
        "config": {
            "mediaType": media.config,
            "digest": bytes_digest(config),
            "size": len(config),
        },
        "layers": [{"mediaType": media.layer, "digest": layer_digest, "size": layer_size}],
    }
    return json.dumps(manifest, sort_keys=True).encode()


def wheel_script(wheel: Path, name: str) -> bytes:
    """The script `name` a wheel installs (`<dist>.data/scripts/<name>`): uv's wheel carries
    the uv binary there."""
    with zipfile.ZipFile(wheel) as archive:
        found = [m for m in archive.namelist() if m.endswith(f".data/scripts/{name}")]
        if len(found) != 1:
            raise KitError(f"{wheel.name} installs no single script named {name}: {found}")
        return archive.read(found[0])


def slim_excludes(path: str) -> bool:
    """Whether dpkg, filtered by SLIM_DPKG_FILTER, leaves out `path` (absolute, in the image).

    dpkg's last matching rule wins; its patterns are fnmatch patterns where `*` matches `/`.
    """
    excluded = False
    for rule, pattern in SLIM_DPKG_FILTER:
        if fnmatch.fnmatchcase(path, pattern):
            excluded = rule == "path-exclude"
    return excluded


def slim_dpkg_config() -> str:
    lines = ["# Written by kit/provision: leave out what Debian's slim images leave out."]
    lines += [f"{rule} {pattern}" for rule, pattern in SLIM_DPKG_FILTER]
    return "\n".join(lines) + "\n"


def images_env(recipes: Sequence[ImageRecipe], digests: Mapping[str, str]) -> str:
    """The overrides file, each image named by tag and pinned by its manifest digest (`digests`,
    by recipe name): a cold re-provision pushes new bytes under the same tags, and the engine
    caches a build by the reference it was given, so a bare tag could keep serving the old base."""
    lines = [
        "# Written by kit/provision: the pipeline's images as built into the kit's local registry.",
        "# Point SHIPYARD_IMAGES at this file (kit/provision --print-env does).",
    ]
    lines += [f"SHIPYARD_IMAGE_{r.name}={r.reference}@{digests[r.name]}" for r in recipes]
    return "\n".join(lines) + "\n"


def engine_json() -> str:
    # The engine's default keeps 20 % of the disk free; on a shared CI disk that is often
    # already less, and the engine then prunes the whole pipeline cache after every session.
    gc = {"minFreeSpace": "5GB", "reservedSpace": "10GB"}
    return (
        json.dumps({"gc": gc, "registries": {REGISTRY: {"http": True, "insecure": True}}}, indent=2)
        + "\n"
    )
