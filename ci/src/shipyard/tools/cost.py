"""The monthly cost of a pull request's infrastructure change, as Infracost estimates it.

Runs inside the pipeline's container, the seed's method::

    INFRACOST_API_KEY=... python -m shipyard.tools.cost --base BASE/terraform \\
        --head HEAD/terraform --out-dir /out

``infracost breakdown`` on the base ref's terraform, then ``infracost diff --compare-to`` that
breakdown on the head's. It prints one line (``monthly cost will increase by $45.00 (+18.0 %):
$250.00 → $295.00``), writes the comment section to ``cost.md`` and both Infracost documents
next to it, and exits 0 whatever happened: the verdict is informational. Without a key it
prints ``skipped: no INFRACOST_API_KEY``; a failed or slow Infracost run is one ``warning:``
line. The key is scrubbed from everything printed.

Pure: :func:`cost_diff`, :func:`headline`, :func:`render_section` over Infracost's JSON output
format (``version`` 0.2: ``totalMonthlyCost``, ``pastTotalMonthlyCost``, and per project
``pastBreakdown``, ``breakdown``, ``diff`` and ``metadata.errors``).
I/O: :func:`main`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from shipyard.decide.pipeline_flow import redact
from shipyard.tools.bounded import Finished, run_bounded

KEY_ENV: Final = "INFRACOST_API_KEY"
DEFAULT_TIMEOUT_S: Final = 300.0
INFORMATIONAL: Final = "informational, the checks' verdict is unchanged"
_SYMBOLS: Final = {"USD": "$", "EUR": "€", "GBP": "£"}
_CENT: Final = Decimal("0.01")


class InfracostFormatError(ValueError):
    """An Infracost document is not the JSON output format this module reads."""


class Change(StrEnum):
    ADDED = "+"
    REMOVED = "-"
    CHANGED = "~"


@dataclass(frozen=True)
class ResourceChange:
    """One resource whose monthly cost the change moves; None where it does not exist."""

    project: str
    name: str
    before: Decimal | None
    after: Decimal | None

    @property
    def change(self) -> Change:
        if self.before is None:
            return Change.ADDED
        return Change.REMOVED if self.after is None else Change.CHANGED

    @property
    def delta(self) -> Decimal:
        return (self.after or Decimal(0)) - (self.before or Decimal(0))


@dataclass(frozen=True)
class CostDiff:
    """Totals before and after, per-resource changes, and projects Infracost could not price."""

    currency: str
    before: Decimal
    after: Decimal
    resources: tuple[ResourceChange, ...]
    errors: tuple[tuple[str, str], ...]  # (project, message)

    @property
    def delta(self) -> Decimal:
        return self.after - self.before


def _amount(value: Any) -> Decimal | None:
    """A cost as Infracost writes it: a decimal string, or null for usage-based costs."""
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise InfracostFormatError(f"{value!r} is not a cost") from None


def _projects(document: Mapping[str, Any], what: str) -> list[Mapping[str, Any]]:
    projects = document.get("projects")
    if document.get("version") != "0.2" or not isinstance(projects, list):
        raise InfracostFormatError(
            f"{what} is not Infracost's JSON output format 0.2 (version "
            f"{document.get('version')!r}); run infracost with --format json"
        )
    return projects


def _project_name(project: Mapping[str, Any]) -> str:
    return str(project.get("displayName") or project.get("name") or "project")


def _costs(breakdown: Mapping[str, Any] | None) -> dict[str, Decimal | None]:
    resources = (breakdown or {}).get("resources") or []
    return {str(r["name"]): _amount(r.get("monthlyCost")) for r in resources}


def _errors(projects: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for project in projects:
        for error in (project.get("metadata") or {}).get("errors") or []:
            message = " ".join(str(error.get("message") or "unknown error").split())
            found.append((_project_name(project), message[:200]))
    return found


def cost_diff(base: Mapping[str, Any], head: Mapping[str, Any]) -> CostDiff:
    """The base ref's ``infracost breakdown`` and the head's ``infracost diff``, compared."""
    base_projects = _projects(base, "the base breakdown")
    head_projects = _projects(head, "the head diff")
    resources: list[ResourceChange] = []
    for project in head_projects:
        past, now = _costs(project.get("pastBreakdown")), _costs(project.get("breakdown"))
        for changed in (project.get("diff") or {}).get("resources") or []:
            name = str(changed["name"])
            if name not in past and name not in now:
                raise InfracostFormatError(f"the diff names {name}, found in neither breakdown")
            resources.append(
                ResourceChange(_project_name(project), name, past.get(name), now.get(name))
            )
    errors = list(dict.fromkeys([*_errors(base_projects), *_errors(head_projects)]))
    return CostDiff(
        currency=str(head.get("currency") or base.get("currency") or "USD"),
        before=_amount(base.get("totalMonthlyCost")) or Decimal(0),
        after=_amount(head.get("totalMonthlyCost")) or Decimal(0),
        resources=tuple(sorted(resources, key=lambda r: (-abs(r.delta), r.project, r.name))),
        errors=tuple(errors),
    )


def money(amount: Decimal | None, currency: str, *, signed: bool = False) -> str:
    """``$1,303.28``; with ``signed``, ``+$45.00`` or ``-$45.00``; ``—`` for no cost."""
    if amount is None:
        return "—"
    symbol = _SYMBOLS.get(currency, f"{currency} ")
    sign = ("+" if amount >= 0 else "-") if signed else ("-" if amount < 0 else "")
    return f"{sign}{symbol}{abs(amount).quantize(_CENT):,}"


def percent(before: Decimal, delta: Decimal) -> str:
    """The change relative to before, ``+18.0 %``; empty when there was nothing before."""
    if before == 0:
        return ""
    return f"{delta / before * 100:+.1f} %"


def headline(diff: CostDiff) -> str:
    """One line: which way the monthly cost moves, by how much, and from what to what."""
    totals = f"{money(diff.before, diff.currency)} → {money(diff.after, diff.currency)}"
    if diff.delta == 0:
        line = f"monthly cost unchanged: {money(diff.after, diff.currency)}"
    else:
        way = "increase" if diff.delta > 0 else "decrease"
        share = percent(diff.before, diff.delta)
        line = f"monthly cost will {way} by {money(abs(diff.delta), diff.currency)}"
        line += f" ({share}): {totals}" if share else f": {totals}"
    if diff.errors:
        projects = ", ".join(dict.fromkeys(project for project, _ in diff.errors))
        line += f"; not estimated: {projects}"
    return line


def render_section(diff: CostDiff) -> str:
    """The comment's cost section: the headline, then one row per changed resource."""
    first = headline(diff)
    lines = [f"**{first[:1].upper()}{first[1:]}**", ""]
    if diff.resources:
        several = len({r.project for r in diff.resources}) > 1
        lines += ["| | resource | before | after | change |", "|---|---|---:|---:|---:|"]
        for resource in diff.resources:
            name = f"{resource.project}: {resource.name}" if several else resource.name
            share = percent(resource.before or Decimal(0), resource.delta)
            change = money(resource.delta, diff.currency, signed=True)
            lines.append(
                f"| {resource.change} | `{name}` | {money(resource.before, diff.currency)} | "
                f"{money(resource.after, diff.currency)} | {change}"
                f"{f' ({share})' if share else ''} |"
            )
        lines += [
            "",
            "Key: + added, - removed, ~ changed; — no monthly cost (absent or usage-based)",
        ]
    for project, message in diff.errors:
        escaped = message.replace("|", "\\|")
        lines += ["", f"⚠️ **{project}** was not estimated: {escaped}"]
    return "\n".join(lines) + "\n"


def _failure(what: str, finished: Finished) -> str:
    if finished.timed_out:
        return f"warning: {what} gave up after {finished.timeout_s:.0f} s; {INFORMATIONAL}"
    lines = [line.strip() for line in finished.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.lower().startswith("error")]
    reason = (errors or lines or ["it printed nothing"])[-1][:200]
    return f"warning: {what} failed (exit {finished.exit_code}: {reason}); {INFORMATIONAL}"


def _read(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise InfracostFormatError(f"{path.name} is not a JSON object")
    return document


def estimate(args: argparse.Namespace, env: Mapping[str, str]) -> str:
    """Run both Infracost commands, write cost.md; the one line the stage shows."""
    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    base_json, head_json = out / "infracost-base.json", out / "infracost-diff.json"
    common = ["--format", "json", "--no-color"]
    breakdown = [args.infracost, "breakdown", "--path", str(args.base), *common]
    finished = run_bounded([*breakdown, "--out-file", str(base_json)], env, args.timeout)
    if finished.exit_code != 0:
        return _failure("infracost breakdown (base)", finished)
    diff = [args.infracost, "diff", "--path", str(args.head), "--compare-to", str(base_json)]
    finished = run_bounded([*diff, *common, "--out-file", str(head_json)], env, args.timeout)
    if finished.exit_code != 0:
        return _failure("infracost diff (head)", finished)
    try:
        result = cost_diff(_read(base_json), _read(head_json))
    except (OSError, ValueError, KeyError, TypeError) as error:
        return f"warning: cannot read Infracost's output ({error}); {INFORMATIONAL}"
    (out / "cost.md").write_text(render_section(result), encoding="utf-8")
    return headline(result)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m shipyard.tools.cost",
        description="Estimate a change's monthly cost with Infracost; never fails the check.",
    )
    parser.add_argument("--base", type=Path, required=True, help="terraform/ at the base ref")
    parser.add_argument("--head", type=Path, required=True, help="terraform/ at the head")
    parser.add_argument("--out-dir", type=Path, required=True, help="where cost.md goes")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="per command")
    parser.add_argument("--infracost", default="infracost", help="the infracost executable")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Print one line; exit 0 whatever Infracost did."""
    args = _arguments(argv)
    env = dict(os.environ if environ is None else environ)
    key = env.get(KEY_ENV, "").strip()
    if not key:
        print(f"skipped: no {KEY_ENV}")
        return 0
    print(redact(estimate(args, env), [key]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
