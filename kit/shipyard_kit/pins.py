"""The versions the kit builds, each read from its one declared place."""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

from shipyard_kit.settings import REPO, KitError

# Beside the image table that reads it (ci/src/shipyard/decide/images.py); ./dev reads it too.
PINS_FILE = REPO / "ci" / "src" / "shipyard" / "decide" / "pins.toml"


def engine_version(dagger_json: str) -> str:
    """The engineVersion pinned in dagger.json, the one source of the engine's version."""
    version = json.loads(dagger_json).get("engineVersion", "")
    if not re.fullmatch(r"v\d+\.\d+\.\d+", version):
        raise KitError(f"dagger.json engineVersion is {version!r}; pin a release such as v0.21.8")
    return str(version)


def pins() -> dict[str, Any]:
    """The pins the pipeline, ./dev and the kit share (uv, the image table), from their file."""
    try:
        return tomllib.loads(PINS_FILE.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise KitError(
            f"cannot read {PINS_FILE.relative_to(REPO)} ({error}); restore it from git"
        ) from None


def image_tags() -> dict[str, str]:
    """Tags of the official images the pipeline pins, from the one image table."""
    return {name: str(image["tag"]) for name, image in pins().get("images", {}).items()}


def uv_version() -> str:
    """The uv ./dev installs, which the kit's Python image installs too."""
    version = pins().get("uv")
    if not isinstance(version, str) or not version:
        raise KitError(
            f'{PINS_FILE.relative_to(REPO)} pins no uv version (uv = "X"); the python image '
            "installs the same one as ./dev"
        )
    return version
