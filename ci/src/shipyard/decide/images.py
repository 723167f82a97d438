"""Every container image the pipeline runs, defined once (in ``pins.toml``).

Each default is the official image by tag AND digest. Mirrors (such as the offline engine kit's
local registry) serve tag references only, so one setting overrides them: lines of
``SHIPYARD_IMAGE_<NAME>=<ref>`` (the format ``kit/images.env`` is written in), read from the file
named by ``SHIPYARD_IMAGES`` and from environment variables of the same names, or handed to the
module as text (``dagger call --image-overrides "$(cat kit/images.env)"``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from shipyard.decide.pins import IMAGE_PINS

OVERRIDE_PREFIX: Final = "SHIPYARD_IMAGE_"
OVERRIDES_FILE_SETTING: Final = "SHIPYARD_IMAGES"


class ImageConfigError(ValueError):
    """An image override is malformed or names an image the pipeline does not use."""


@dataclass(frozen=True)
class Image:
    """An official image, pinned by tag and digest."""

    repository: str
    tag: str
    digest: str | None

    @property
    def reference(self) -> str:
        pinned = f"@{self.digest}" if self.digest else ""
        return f"{self.repository}:{self.tag}{pinned}"


# The pins (pins.toml, which the kit also builds from): the image table is written there once.
DEFAULT_IMAGES: Final[Mapping[str, Image]] = {
    name: Image(pin["repository"], pin["tag"], pin.get("digest"))
    for name, pin in IMAGE_PINS.items()
}


def parse_overrides(text: str, *, source: str) -> dict[str, str]:
    """Parse ``SHIPYARD_IMAGE_<NAME>=<ref>`` lines (comments, blanks and ``export`` allowed)."""
    overrides: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        if not sep or not key.startswith(OVERRIDE_PREFIX):
            raise ImageConfigError(
                f"{source} line {number}: expected {OVERRIDE_PREFIX}<NAME>=<image ref>, got "
                f"{raw.strip()!r}; fix the line or remove it"
            )
        overrides[key.removeprefix(OVERRIDE_PREFIX)] = _checked(
            key.removeprefix(OVERRIDE_PREFIX), value.strip().strip("'\""), source
        )
    return overrides


def overrides_from_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """Overrides from the ``SHIPYARD_IMAGES`` file, then ``SHIPYARD_IMAGE_<NAME>`` variables."""
    overrides: dict[str, str] = {}
    if path := environ.get(OVERRIDES_FILE_SETTING):
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise ImageConfigError(
                f"{OVERRIDES_FILE_SETTING}={path}: cannot read the image overrides file "
                f"({error.strerror}); point it at kit/images.env or unset it"
            ) from None
        overrides.update(parse_overrides(text, source=path))
    for key, value in environ.items():
        if key.startswith(OVERRIDE_PREFIX):
            name = key.removeprefix(OVERRIDE_PREFIX)
            overrides[name] = _checked(name, value.strip(), f"environment variable {key}")
    return overrides


def _checked(name: str, reference: str, source: str) -> str:
    if name not in DEFAULT_IMAGES:
        known = ", ".join(OVERRIDE_PREFIX + known for known in DEFAULT_IMAGES)
        raise ImageConfigError(
            f"{source}: {OVERRIDE_PREFIX}{name} names no image the pipeline uses; "
            f"use one of {known}"
        )
    if not reference or any(char.isspace() for char in reference):
        raise ImageConfigError(
            f"{source}: {OVERRIDE_PREFIX}{name} must be one image reference "
            f"such as registry/name:tag, got {reference!r}"
        )
    return reference


@dataclass(frozen=True)
class ImageCatalog:
    """The image references in force: the pinned defaults with any overrides applied."""

    overrides: Mapping[str, str]

    @classmethod
    def from_settings(
        cls, override_text: str = "", environ: Mapping[str, str] | None = None
    ) -> ImageCatalog:
        """Merge the process environment's overrides with override text (the text wins)."""
        merged = overrides_from_environment(os.environ if environ is None else environ)
        merged.update(parse_overrides(override_text, source="image overrides"))
        return cls(merged)

    def reference(self, name: str) -> str:
        if name not in DEFAULT_IMAGES:
            raise ImageConfigError(f"no image named {name!r}; known: {', '.join(DEFAULT_IMAGES)}")
        return self.overrides.get(name, DEFAULT_IMAGES[name].reference)
