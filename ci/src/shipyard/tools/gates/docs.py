"""Docs drift gate: the pinned terraform-docs in inject mode, one config for every module.

``terraform/.terraform-docs.yml`` covers the root module and every ``modules/<name>``
(``recursive``). Two entry points:

- :func:`generate_docs` regenerates every README between ``<!-- BEGIN_TF_DOCS -->`` and
  ``<!-- END_TF_DOCS -->`` and reports which files changed;
- :func:`check_docs` runs ``--output-check`` (writes nothing) on every module and lists every
  drifted README. terraform-docs stops at the first out-of-date file of a recursive run, so
  each module is checked on its own with the same settings minus the recursion.

Before terraform-docs runs, every README must hold each marker exactly once, BEGIN before END:
with both missing terraform-docs silently appends to the end, with one missing it fails with
a message that does not say which README. Those are :class:`GateError`s naming the file.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from shipyard.tools.gates.errors import GateError

BEGIN_MARKER = "<!-- BEGIN_TF_DOCS -->"
END_MARKER = "<!-- END_TF_DOCS -->"
CONFIG_NAME = ".terraform-docs.yml"
PINNED_VERSION = "v0.20.0"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class DocsReport:
    """What the docs gate saw: every README it covers and which of them drifted or changed."""

    mode: str  # "check" or "generate"
    terraform_dir: str
    readmes: tuple[str, ...]
    drifted: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()

    @property
    def in_sync(self) -> bool:
        return not self.drifted

    def to_dict(self) -> dict[str, object]:
        return {
            "schema_version": SCHEMA_VERSION,
            "gate": "terraform-docs",
            "mode": self.mode,
            "verdict": "in-sync" if self.in_sync else "drifted",
            "terraform_docs_version": PINNED_VERSION,
            "terraform_dir": self.terraform_dir,
            "readmes": list(self.readmes),
            "drifted": list(self.drifted),
            "updated": list(self.updated),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_markdown(self) -> str:
        if self.mode == "generate":
            head = f"### Terraform docs regenerated: {len(self.updated)} README(s) changed"
            listed = self.updated
        elif self.in_sync:
            head = f"### Terraform docs: ✅ {len(self.readmes)} README(s) in sync"
            listed = ()
        else:
            head = f"### Terraform docs: ❌ {len(self.drifted)} README(s) out of date"
            listed = self.drifted
        lines = [head, ""]
        lines += [f"- `{path}`" for path in listed]
        if self.drifted:
            fix = "Fix: run `python -m shipyard.tools.gates docs terraform` and commit the READMEs."
            lines += ["", fix]
        return "\n".join(lines) + "\n"


def marker_problem(readme: str, text: str | None) -> str | None:
    """Pure: why ``readme`` cannot be injected into, or None when its markers are right."""
    if text is None:
        return f"{readme}: missing (create it with both markers)"
    begins, ends = text.count(BEGIN_MARKER), text.count(END_MARKER)
    if begins == 0 and ends == 0:
        return f"{readme}: has neither marker (terraform-docs would silently append to the end)"
    if begins != 1 or ends != 1:
        return f"{readme}: has {begins} BEGIN and {ends} END marker(s), needs exactly one of each"
    if text.index(BEGIN_MARKER) > text.index(END_MARKER):
        return f"{readme}: END_TF_DOCS comes before BEGIN_TF_DOCS (swap them)"
    return None


def read_config(terraform_dir: Path) -> dict[str, object]:
    path = terraform_dir / CONFIG_NAME
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GateError(
            f"{path}: missing; the docs gate needs the one terraform-docs config at the "
            "terraform root (see terraform/.terraform-docs.yml in this repository)"
        ) from None
    except yaml.YAMLError as exc:
        raise GateError(f"{path}: not valid YAML ({exc}); fix the syntax") from None
    if not isinstance(document, dict):
        raise GateError(f"{path}: expected a mapping of terraform-docs settings")
    output = document.get("output")
    if not isinstance(output, Mapping) or output.get("mode") != "inject":
        raise GateError(f"{path}: output.mode must be `inject`; set `output: {{mode: inject}}`")
    return document


def module_dirs(terraform_dir: Path, config: Mapping[str, object]) -> list[Path]:
    """The root module plus, when recursive, each folder directly under ``recursive.path``
    (the same one-level walk terraform-docs does)."""
    dirs = [terraform_dir]
    recursive = config.get("recursive")
    if isinstance(recursive, Mapping) and recursive.get("enabled"):
        sub = terraform_dir / str(recursive.get("path") or "modules")
        if sub.is_dir():
            dirs += sorted(p for p in sub.iterdir() if p.is_dir())
    for module in dirs[1:]:
        if (module / CONFIG_NAME).exists():
            raise GateError(
                f"{module / CONFIG_NAME}: per-module configs are not allowed (one config covers "
                f"every module); move its settings into {terraform_dir / CONFIG_NAME}"
            )
    return dirs


def readme_name(config: Mapping[str, object]) -> str:
    output = config.get("output")
    name = output.get("file") if isinstance(output, Mapping) else None
    return str(name or "README.md")


def validate_markers(readmes: Sequence[Path]) -> None:
    problems = []
    for readme in readmes:
        text = readme.read_text(encoding="utf-8") if readme.is_file() else None
        problem = marker_problem(str(readme), text)
        if problem:
            problems.append(problem)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise GateError(
            f"{len(problems)} README(s) cannot take generated docs:\n{listed}\n"
            f"Fix: put {BEGIN_MARKER} and {END_MARKER}, each on its own line, where the "
            "generated section belongs"
        )


def _binary(terraform_docs: str) -> str:
    executable = shutil.which(terraform_docs)
    if executable is None:
        raise GateError(
            f"terraform-docs not found (looked for {terraform_docs!r} on PATH); run ./dev setup "
            "(scripts/setup.d/20-terraform-docs.sh builds the pinned version into .tools/bin)"
        )
    version = _run([executable, "--version"], None).stdout
    if f"version {PINNED_VERSION} " not in version + " ":
        raise GateError(
            f"{executable} is {version.strip()!r}, not the pinned {PINNED_VERSION} (output "
            "differs between versions); run ./dev setup"
        )
    return executable


def _run(command: Sequence[str], cwd: Path | None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            list(command), capture_output=True, text=True, cwd=cwd, timeout=300, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GateError(f"{command[0]} could not run ({exc}); run ./dev setup") from None


def _prepare(terraform_dir: Path, terraform_docs: str) -> tuple[str, dict[str, object], list[Path]]:
    config = read_config(terraform_dir)
    readmes = [m / readme_name(config) for m in module_dirs(terraform_dir, config)]
    validate_markers(readmes)
    return _binary(terraform_docs), config, readmes


def check_docs(terraform_dir: Path, terraform_docs: str = "terraform-docs") -> DocsReport:
    """Fail-free check: which READMEs differ from what terraform-docs would write now."""
    executable, config, readmes = _prepare(terraform_dir, terraform_docs)
    flat = {key: value for key, value in config.items() if key != "recursive"}
    drifted = []
    with tempfile.TemporaryDirectory(prefix="shipyard-tfdocs-") as scratch:
        flat_config = Path(scratch) / CONFIG_NAME
        flat_config.write_text(yaml.safe_dump(flat), encoding="utf-8")
        for readme in readmes:
            proc = _run([executable, "-c", str(flat_config), "--output-check", "."], readme.parent)
            said = proc.stdout + proc.stderr
            if proc.returncode == 0:
                continue
            if "is out of date" in said:
                drifted.append(str(readme))
                continue
            raise GateError(
                f"terraform-docs failed on {readme.parent} (exit {proc.returncode}): "
                f"{said.strip()[:400]}; fix the module (terraform validate) and rerun"
            )
    return DocsReport(
        mode="check",
        terraform_dir=str(terraform_dir),
        readmes=tuple(str(r) for r in readmes),
        drifted=tuple(drifted),
    )


def generate_docs(terraform_dir: Path, terraform_docs: str = "terraform-docs") -> DocsReport:
    """Regenerate every README in place (inject mode) and report the ones that changed."""
    executable, _config, readmes = _prepare(terraform_dir, terraform_docs)
    before = {r: r.read_text(encoding="utf-8") for r in readmes}
    proc = _run([executable, "-c", CONFIG_NAME, "."], terraform_dir)
    if proc.returncode != 0:
        raise GateError(
            f"terraform-docs failed on {terraform_dir} (exit {proc.returncode}): "
            f"{(proc.stdout + proc.stderr).strip()[:400]}; fix the module and rerun"
        )
    updated = [str(r) for r in readmes if r.read_text(encoding="utf-8") != before[r]]
    return DocsReport(
        mode="generate",
        terraform_dir=str(terraform_dir),
        readmes=tuple(str(r) for r in readmes),
        updated=tuple(updated),
    )
