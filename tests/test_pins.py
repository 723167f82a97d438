"""One home per pinned version: ci/src/shipyard/decide/pins.toml, read by the module's image
table, ./dev and the kit (kit/shipyard_kit/pins.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from shipyard.decide.images import DEFAULT_IMAGES
from shipyard.decide.pins import PINS_FILE, UV_VERSION
from shipyard_kit import pins as kit_pins

REPO = Path(__file__).resolve().parents[1]
# Where code that installs or builds something lives (tests hold versions as test data).
CODE = ("dev", "app", "bench", "ci/src", "kit", "scripts")


def test_the_kit_builds_what_the_module_pins() -> None:
    assert kit_pins.PINS_FILE == PINS_FILE
    assert kit_pins.uv_version() == UV_VERSION
    assert kit_pins.image_tags() == {name: image.tag for name, image in DEFAULT_IMAGES.items()}


def test_dev_installs_the_pinned_uv() -> None:
    """./dev's own reading of the pin, run as ./dev runs it (bash, from the repository root)."""
    reader = 'eval "$(sed -n "/^uv_pin() {/,/^}/p" dev)" && uv_pin'
    result = subprocess.run(
        ["bash", "-c", reader], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == UV_VERSION


def test_the_uv_version_is_written_only_in_pins_toml() -> None:
    holders = []
    for top in CODE:
        root = REPO / top
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for path in files:
            if {".venv", ".tools", "__pycache__", "sdk"} & set(path.relative_to(REPO).parts):
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            if UV_VERSION in text:
                holders.append(path.relative_to(REPO).as_posix())
    assert holders == [PINS_FILE.relative_to(REPO).as_posix()]
