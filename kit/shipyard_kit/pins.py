"""The versions the kit builds, each read from its one declared place."""

from __future__ import annotations

import json
import re
import sys

from shipyard_kit.settings import REPO, KitError


def engine_version(dagger_json: str) -> str:
    """The engineVersion pinned in dagger.json, the one source of the engine's version."""
    version = json.loads(dagger_json).get("engineVersion", "")
    if not re.fullmatch(r"v\d+\.\d+\.\d+", version):
        raise KitError(f"dagger.json engineVersion is {version!r}; pin a release such as v0.21.8")
    return str(version)


def image_tags() -> dict[str, str]:
    """Tags of the official images the pipeline pins, from the module's one image table."""
    sys.path.insert(0, str(REPO / "ci" / "src"))
    try:
        from shipyard.decide.images import DEFAULT_IMAGES  # stdlib-only module, no dagger import
    finally:
        sys.path.pop(0)
    return {name: image.tag for name, image in DEFAULT_IMAGES.items()}


def uv_version() -> str:
    match = re.search(r'"uv==([^"]+)"', (REPO / "dev").read_text())
    if not match:
        raise KitError("./dev pins no uv version (uv==X); the python image installs the same one")
    return match.group(1)
