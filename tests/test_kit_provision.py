"""The offline kit's pure decisions about its images (kit/shipyard_kit, behind kit/provision)."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import re
import tarfile
import zipfile
from pathlib import Path

import pytest
from shipyard.decide.images import ImageCatalog
from shipyard_kit import digests, images, pins, sdk, settings, steps

VERSIONS = {"CHECKOV": "3.3.30", "MOTO": "5.2.2", "TERRAFORM_DOCS": "0.20.0"}


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
def test_slim_leaves_out_documentation_and_translations_only(path: str, excluded: bool) -> None:
    assert images.slim_excludes(path) is excluded


def test_the_installed_dpkg_filter_is_the_one_applied() -> None:
    lines = [line for line in images.slim_dpkg_config().splitlines() if not line.startswith("#")]
    assert lines == [f"{rule} {pattern}" for rule, pattern in settings.SLIM_DPKG_FILTER]


def test_app_base_is_slim_python_with_venv_and_nothing_else() -> None:
    recipes = {recipe.name: recipe for recipe in images.image_recipes(VERSIONS, "0.9.0")}
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


def test_slimming_is_an_input_of_the_image() -> None:
    [app_base] = [r for r in images.image_recipes(VERSIONS, "0.9.0") if r.name == "APP_BASE"]
    full = dataclasses.replace(app_base, slim=False)
    assert app_base.inputs("mirror") != full.inputs("mirror")
    assert full.inputs("mirror") == digests.digest(repr(full), "", "mirror")


SDK_PYPROJECT = """[build-system]
requires = ["uv_build>=0.8.4,<0.12.0"]

[project]
name = "dagger-io"
version = "0.21.8"
dependencies = [
    "anyio>=3.6.2",
]

[dependency-groups]
dev = [
    "codegen",
]

[tool.uv.sources]
codegen = { workspace = true }

[tool.uv.workspace]
members = ["codegen"]

[tool.uv.build-backend]
module-name = "dagger"
"""


def test_the_vendored_sdk_is_version_0_0_0_without_the_sdks_development_tables() -> None:
    vendored = sdk.vendored_sdk_pyproject(SDK_PYPROJECT)
    assert 'version = "0.0.0"' in vendored
    assert "0.21.8" not in vendored
    for gone in ("[dependency-groups]", "[tool.uv.sources]", "[tool.uv.workspace]", "codegen"):
        assert gone not in vendored, gone
    for kept in ('"anyio>=3.6.2",', "[tool.uv.build-backend]", 'module-name = "dagger"'):
        assert kept in vendored, kept


def test_a_pyproject_without_a_version_is_refused() -> None:
    with pytest.raises(settings.KitError, match=r"no `version = \.\.\.` line"):
        sdk.vendored_sdk_pyproject('[project]\nname = "dagger-io"\n')


def test_the_sdk_lock_pins_the_engines_version() -> None:
    version = sdk.sdk_lock_version(settings.SDK_LOCK.read_text())
    dagger_json = (settings.REPO / "dagger.json").read_text()
    assert "v" + version == pins.engine_version(dagger_json)
    with pytest.raises(settings.KitError, match="pins no dagger-io"):
        sdk.sdk_lock_version("dagger-io>=0.21\n")


def test_the_runtime_image_is_the_same_for_the_same_files(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "runtime").mkdir(parents=True)
    (root / "runtime" / "main.dang").write_text("type PythonSdk {}\n")
    first = sdk.oci_image_blobs(*sdk.deterministic_tar_gz(root))
    (root / "runtime" / "main.dang").touch()  # a new mtime only
    assert sdk.oci_image_blobs(*sdk.deterministic_tar_gz(root)) == first
    (root / "runtime" / "main.dang").write_text("type PythonSdk { x: Int! = 1 }\n")
    assert sdk.oci_image_blobs(*sdk.deterministic_tar_gz(root))[0] != first[0]


def test_the_runtime_image_manifest_names_its_blobs(tmp_path: Path) -> None:
    (tmp_path / "kit.json").write_text("{}")
    manifest_digest, blobs = sdk.oci_image_blobs(*sdk.deterministic_tar_gz(tmp_path))
    for blob_digest, data in blobs.items():
        assert blob_digest == "sha256:" + hashlib.sha256(data).hexdigest()
    manifest = json.loads(blobs[manifest_digest])
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    config = json.loads(blobs[manifest["config"]["digest"]])
    [layer] = manifest["layers"]
    assert layer["size"] == len(blobs[layer["digest"]])
    with tarfile.open(fileobj=io.BytesIO(blobs[layer["digest"]])) as tar:
        assert tar.getnames() == ["kit.json"]
        raw = gzip.decompress(blobs[layer["digest"]])
    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(raw).hexdigest()]


def test_the_runtime_starts_from_the_kits_python_image() -> None:
    recipes = images.image_recipes(VERSIONS, "0.9.30")
    settings = json.loads(images.python_runtime_settings(recipes, "0.9.30"))
    assert settings == {
        "pythonImage": "localhost:5000/shipyard/python:3.11-bookworm",
        "uvVersion": "0.9.30",
    }


def test_byte_code_caches_are_no_input(tmp_path: Path) -> None:
    (tmp_path / "discover.py").write_text("x = 1\n")
    before = digests.tree_digest(tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "discover.cpython-311.pyc").write_bytes(b"\0")
    assert digests.tree_digest(tmp_path) == before


def _wheel(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_the_uv_binary_is_the_script_its_wheel_installs(tmp_path: Path) -> None:
    wheel = _wheel(
        tmp_path / "uv-0.9.30-py3-none-manylinux_2_17_x86_64.whl",
        {
            "uv/__init__.py": b"",
            "uv-0.9.30.data/scripts/uvx": b"\x7fELF uvx",
            "uv-0.9.30.data/scripts/uv": b"\x7fELF uv",
        },
    )
    assert images.wheel_script(wheel, "uv") == b"\x7fELF uv"


def test_a_wheel_without_the_script_is_refused_with_what_it_holds(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "uv-0.9.30-py3-none-any.whl", {"uv/__init__.py": b""})
    with pytest.raises(settings.KitError, match=r"installs no single script named uv: \[\]"):
        images.wheel_script(wheel, "uv")


def test_the_image_config_holds_every_change_docker_import_takes() -> None:
    changes = (
        "ENV PYTHONUNBUFFERED=1",
        "ENV PATH=/usr/local/bin:/usr/bin",
        "ENV PYTHONUNBUFFERED=0",  # a later ENV replaces the earlier value, in place
        "EXPOSE 5000",
        "EXPOSE 53/udp",
        'ENTRYPOINT ["/usr/local/bin/moto_server", "-H", "0.0.0.0"]',
        'CMD ["python3"]',
        "LABEL shipyard.kit.inputs=0123abcd",
    )
    config = json.loads(images.image_config(changes, "sha256:" + "a" * 64))
    assert config == {
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Env": ["PYTHONUNBUFFERED=0", "PATH=/usr/local/bin:/usr/bin"],
            "ExposedPorts": {"5000/tcp": {}, "53/udp": {}},
            "Entrypoint": ["/usr/local/bin/moto_server", "-H", "0.0.0.0"],
            "Cmd": ["python3"],
            "Labels": {"shipyard.kit.inputs": "0123abcd"},
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "a" * 64]},
    }


@pytest.mark.parametrize(
    ("change", "fix"),
    [
        ("CMD python3", "exec form"),
        ('ENTRYPOINT ["checkov", 1]', "exec form"),
        ("ENTRYPOINT []", "exec form"),
        ("ENV PYTHONUNBUFFERED", "ENV KEY=value"),
        ("WORKDIR /src", "only ENV, LABEL, CMD, ENTRYPOINT and EXPOSE"),
    ],
)
def test_a_change_the_kit_cannot_build_is_refused_with_the_form_it_takes(
    change: str, fix: str
) -> None:
    with pytest.raises(settings.KitError, match=re.escape(fix)):
        images.image_config((change,), "sha256:" + "a" * 64)


def test_the_overrides_file_pins_every_image_by_its_manifest_digest() -> None:
    recipes = images.image_recipes(VERSIONS, "0.9.30")
    pushed = {r.name: "sha256:" + hashlib.sha256(r.name.encode()).hexdigest() for r in recipes}
    text = images.images_env(recipes, pushed)
    catalog = ImageCatalog.from_settings(text, environ={})
    for recipe in recipes:
        assert catalog.reference(recipe.name) == f"{recipe.reference}@{pushed[recipe.name]}"


def test_provisioning_fails_when_the_registry_lacks_an_image_it_reported() -> None:
    gone = images.ImageRecipe("GIT", f"{settings.IMAGE_PREFIX}/never-pushed:none", packages=())
    with pytest.raises(settings.KitError, match=r"has no .*never-pushed:none.*run kit/provision"):
        steps.pushed_digests([gone])


def test_every_recipes_changes_make_an_image_config() -> None:
    for recipe in images.image_recipes(VERSIONS, "0.9.30"):
        config = json.loads(images.image_config(recipe.changes, "sha256:" + "b" * 64))
        assert config["config"], recipe.name


def test_the_manifest_names_the_config_by_its_digest_and_the_layer_as_given() -> None:
    config = images.image_config(('CMD ["python3"]',), "sha256:" + "c" * 64)
    manifest = json.loads(images.one_layer_manifest(config, "sha256:" + "d" * 64, 1234))
    assert manifest["mediaType"] == images.DOCKER.manifest
    assert manifest["config"]["digest"] == "sha256:" + hashlib.sha256(config).hexdigest()
    assert manifest["config"]["size"] == len(config)
    assert manifest["layers"] == [
        {
            "mediaType": "application/vnd.docker.image.rootfs.diff.tar",
            "digest": "sha256:" + "d" * 64,
            "size": 1234,
        }
    ]
