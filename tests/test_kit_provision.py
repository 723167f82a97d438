"""The offline kit's pure decisions about its images (kit/provision, a stdlib-only script)."""

from __future__ import annotations

import dataclasses
import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

PROVISION = Path(__file__).resolve().parent.parent / "kit" / "provision"
VERSIONS = {"CHECKOV": "3.3.30", "MOTO": "5.2.2", "TERRAFORM_DOCS": "0.20.0"}


@pytest.fixture(scope="module")
def kit() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("kit_provision", str(PROVISION))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module  # dataclasses look their module up while being built
    loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        ("/usr/share/doc/python3.11/changelog.Debian.gz", True),
        ("/usr/share/doc/python3.11/copyright", False),
        ("/usr/share/man/man1/python3.11.1.gz", True),
        ("/usr/share/locale/de/LC_MESSAGES/dpkg.mo", True),
        ("/usr/share/info/dir", True),
        ("/usr/share/man", False),  # the directory itself stays, as with dpkg's filter
        ("/usr/share/python-wheels/pip-23.0.1-py3-none-any.whl", False),  # ensurepip's wheels
        ("/usr/share/zoneinfo/Europe/Berlin", False),
        ("/usr/lib/python3.11/venv/__init__.py", False),
    ],
)
def test_slim_leaves_out_documentation_and_translations_only(
    kit: ModuleType, path: str, excluded: bool
) -> None:
    assert kit.slim_excludes(path) is excluded


def test_the_installed_dpkg_filter_is_the_one_applied(kit: ModuleType) -> None:
    lines = [line for line in kit.slim_dpkg_config().splitlines() if not line.startswith("#")]
    assert lines == [f"{rule} {pattern}" for rule, pattern in kit.SLIM_DPKG_FILTER]


def test_app_base_is_slim_python_with_venv_and_nothing_else(kit: ModuleType) -> None:
    recipes = {recipe.name: recipe for recipe in kit.image_recipes(VERSIONS, "0.9.0")}
    app_base = recipes["APP_BASE"]
    assert app_base.slim
    assert set(app_base.packages) == {"ca-certificates", "python3", "python3-venv"}
    assert app_base.reference.endswith("/app-base:3.11-slim-bookworm")
    assert app_base.pip == ()
    assert app_base.pip_lock is None
    assert app_base.go_binaries == ()
    # The tool images keep pip and git on their own (unslimmed) root filesystem.
    for name in ("PYTHON", "CHECKOV", "MOTO"):
        assert not recipes[name].slim
        assert {"python3-pip", "git"} <= set(recipes[name].packages), name


def test_slimming_is_an_input_of_the_image(kit: ModuleType) -> None:
    [app_base] = [r for r in kit.image_recipes(VERSIONS, "0.9.0") if r.name == "APP_BASE"]
    full = dataclasses.replace(app_base, slim=False)
    assert app_base.inputs("mirror") != full.inputs("mirror")
    assert full.inputs("mirror") == kit.digest(repr(full), "", "mirror")
