"""The wrapper Go module that builds dagger's CLI and engine with dagger's replace directives."""

from __future__ import annotations

import re
from collections.abc import Mapping

from shipyard_kit.settings import DAGGER_MODULE, KitError


def wrapper_go_mod(upstream_go_mod: str, version: str, replacements: Mapping[str, str]) -> str:
    """A main module that builds dagger at `version` with dagger's own replace directives.

    `go install` ignores a dependency's replace lines (and refuses modules that have any), so
    the non-local ones are repeated here; the local ones (./sdk/go, ./engine/distconsts) become
    a published version or a kit directory; `replacements` swaps in kit directories.
    """
    replace_lines: list[str] = []
    for line in _replace_directives(upstream_go_mod):
        target = line.split("=>", 1)[1].strip()
        if target.startswith("./") or target.startswith("../"):
            continue
        replace_lines.append(line)
    lines = [
        "module shipyard.invalid/daggerkit",
        "",
        f"go {_go_directive(upstream_go_mod)}",
        "",
        "require (",
        f"\t{DAGGER_MODULE} {version}",
        f"\tdagger.io/dagger {version}",
        f"\t{DAGGER_MODULE}/engine/distconsts {version}",
        ")",
        "",
        "replace (",
        *(f"\t{line}" for line in replace_lines),
        *(f"\t{module} => {path}" for module, path in sorted(replacements.items())),
        ")",
        "",
    ]
    return "\n".join(lines)


def _replace_directives(go_mod: str) -> list[str]:
    directives: list[str] = []
    in_block = False
    for raw in go_mod.splitlines():
        line = raw.split("//", 1)[0].strip()
        if in_block:
            if line == ")":
                in_block = False
            elif "=>" in line:
                directives.append(line)
        elif line == "replace (":
            in_block = True
        elif line.startswith("replace ") and "=>" in line:
            directives.append(line.removeprefix("replace ").strip())
    return directives


def _go_directive(go_mod: str) -> str:
    match = re.search(r"^go (\S+)$", go_mod, re.MULTILINE)
    if not match:
        raise KitError("dagger's go.mod has no go directive; the module download is damaged")
    return match.group(1)
