"""What the kit's Python runtime needs to know about a module, read from its source directory.

Runs inside the runtime's discovery container (stdlib only, Python >= 3.11):

    python3 discover.py MODULE_DIR MODULE_NAME DEFAULT_BASE_IMAGE

and prints one JSON object: the main object's name, the import package, the base image
(`[tool.dagger] base-image` wins over the default) and which lock file drives the install.
A module the runtime cannot install exits 2 with one line saying what is wrong.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path


class ModuleRefused(ValueError):
    """The module cannot be run by this runtime; the message says why and what to do."""


def main_object_name(module_name: str) -> str:
    """dagger's naming: `my-module` -> `MyModule`."""
    words = [w for w in re.split(r"[^0-9A-Za-z]+", module_name) if w]
    return "".join(w[:1].upper() + w[1:] for w in words)


def package_name(project_name: str) -> str:
    """The import package of a distribution name: `my-module` -> `my_module`."""
    return re.sub(r"[-.]+", "_", project_name).lower()


def lock_mode(files: set[str]) -> str:
    """`uv` with uv.lock (it wins, as in dagger's runtime), `requirements` with
    requirements.lock, empty otherwise."""
    if "uv.lock" in files:
        return "uv"
    if "requirements.lock" in files:
        return "requirements"
    return ""


def plan(
    pyproject: str | None, files: set[str], module_name: str, base_image: str
) -> dict[str, str]:
    if pyproject is None:
        raise ModuleRefused(
            "the module has no pyproject.toml; the kit's Python runtime does not create one "
            "(no `dagger init --sdk=python` offline): add pyproject.toml and src/<package>/"
        )
    config = tomllib.loads(pyproject)
    project = str(config.get("project", {}).get("name") or module_name)
    dagger_config = config.get("tool", {}).get("dagger", {})
    return {
        "mainObject": main_object_name(module_name),
        "projectName": project,
        "packageName": package_name(project),
        "baseImage": str(dagger_config.get("base-image") or base_image),
        "lock": lock_mode(files),
    }


def main(argv: list[str]) -> int:
    module_dir, module_name, base_image = Path(argv[0]), argv[1], argv[2]
    pyproject_path = module_dir / "pyproject.toml"
    pyproject = pyproject_path.read_text() if pyproject_path.is_file() else None
    files = {p.name for p in module_dir.iterdir()}
    try:
        print(json.dumps(plan(pyproject, files, module_name, base_image)))
    except (ModuleRefused, tomllib.TOMLDecodeError) as error:
        print(f"kit python runtime: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
