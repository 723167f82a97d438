import re
from pathlib import Path

import pytest
from shipyard.decide.images import DEFAULT_IMAGES, ImageCatalog, ImageConfigError, parse_overrides

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
# Defaults whose digest could not be recorded where they were written; kept visible on purpose.
RECORDED_WITHOUT_DIGEST = {"CHECKOV", "INFRACOST"}


def test_every_default_is_an_official_tag_pinned_by_digest() -> None:
    for name, image in DEFAULT_IMAGES.items():
        assert image.tag, name
        assert image.tag != "latest", name
        if name in RECORDED_WITHOUT_DIGEST:
            assert image.digest is None
            assert image.reference == f"{image.repository}:{image.tag}"
        else:
            assert image.digest is not None, name
            assert DIGEST.match(image.digest), name
            assert image.reference == f"{image.repository}:{image.tag}@{image.digest}"


def test_without_overrides_the_catalog_gives_the_pinned_defaults() -> None:
    catalog = ImageCatalog.from_settings("", environ={})
    assert catalog.reference("MOTO") == DEFAULT_IMAGES["MOTO"].reference


def test_kit_style_file_overrides_by_tag(tmp_path: Path) -> None:
    images_env = tmp_path / "images.env"
    images_env.write_text(
        "# written by the kit\nSHIPYARD_IMAGE_PYTHON=localhost:5000/shipyard/python:3.11\n"
        "export SHIPYARD_IMAGE_MOTO='localhost:5000/shipyard/moto:5.2'\n\n"
    )
    catalog = ImageCatalog.from_settings("", environ={"SHIPYARD_IMAGES": str(images_env)})
    assert catalog.reference("PYTHON") == "localhost:5000/shipyard/python:3.11"
    assert catalog.reference("MOTO") == "localhost:5000/shipyard/moto:5.2"
    assert catalog.reference("GIT") == DEFAULT_IMAGES["GIT"].reference


def test_a_variable_beats_the_file_and_text_beats_both(tmp_path: Path) -> None:
    images_env = tmp_path / "images.env"
    images_env.write_text("SHIPYARD_IMAGE_PYTHON=mirror/python:from-file\n")
    environ = {
        "SHIPYARD_IMAGES": str(images_env),
        "SHIPYARD_IMAGE_PYTHON": "mirror/python:from-env",
    }
    assert (
        ImageCatalog.from_settings("", environ=environ).reference("PYTHON")
        == "mirror/python:from-env"
    )
    text = "SHIPYARD_IMAGE_PYTHON=mirror/python:from-text"
    assert (
        ImageCatalog.from_settings(text, environ=environ).reference("PYTHON")
        == "mirror/python:from-text"
    )


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("SHIPYARD_IMAGE_PYTHN=x/python:3", "SHIPYARD_IMAGE_PYTHN names no image"),
        ("PYTHON=x/python:3", "expected SHIPYARD_IMAGE_<NAME>=<image ref>"),
        ("SHIPYARD_IMAGE_PYTHON=", "must be one image reference"),
        ("SHIPYARD_IMAGE_PYTHON=a b", "must be one image reference"),
    ],
)
def test_bad_overrides_are_refused_naming_the_line(text: str, names: str) -> None:
    with pytest.raises(ImageConfigError, match=names):
        parse_overrides(text, source="kit/images.env")


def test_unreadable_overrides_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ImageConfigError, match=r"SHIPYARD_IMAGES=.*kit/images\.env"):
        ImageCatalog.from_settings("", environ={"SHIPYARD_IMAGES": str(tmp_path / "missing")})
