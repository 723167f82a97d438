"""The versions the pipeline pins, read from ``pins.toml`` beside this file: the one place that
``./dev``, ``kit/provision`` and this package read them from."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Final

PINS_FILE: Final = Path(__file__).with_name("pins.toml")
_PINS: Final = tomllib.loads(PINS_FILE.read_text(encoding="utf-8"))

UV_VERSION: Final[str] = _PINS["uv"]
# Image name → {"repository", "tag" and, when recorded, "digest"}, in the file's order.
IMAGE_PINS: Final[Mapping[str, Mapping[str, str]]] = _PINS["images"]
