"""The run report: one JSON document (machine-readable) and its Markdown rendering (for
``$GITHUB_STEP_SUMMARY`` and terminals), both made from the same data."""

from __future__ import annotations

import json
import re
import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from shipyard.decide.pipeline_flow import StageResult, Verdict, overall_verdict
from shipyard.tools.deploy.report import render_markdown as deploy_markdown

SCHEMA_VERSION: Final = 1
_MARK: Final = {Verdict.PASSED: "✅", Verdict.FAILED: "❌", Verdict.SKIPPED: "⏭️"}
_ROLLED_BACK: Final = "↩️"
CELL_LIMIT: Final = 300


@dataclass(frozen=True)
class RunReport:
    """Everything one pipeline or rehearsal run decided and saw."""

    kind: str  # "pipeline" or "rehearsal"
    flow: str
    environment: str
    git_sha: str
    stages: Sequence[StageResult]
    notes: Mapping[str, Any]

    @property
    def verdict(self) -> Verdict:
        return overall_verdict(self.stages)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": self.kind,
            "flow": self.flow,
            "environment": self.environment,
            "git_sha": self.git_sha,
            "verdict": str(self.verdict),
            "stages": [stage.as_dict() for stage in self.stages],
            "notes": dict(self.notes),
        }


def render_json(report: RunReport) -> str:
    return json.dumps(report.as_dict(), indent=2, sort_keys=True) + "\n"


def render_markdown(report: RunReport) -> str:
    """A heading with the verdict, one table row per stage, then any dossier and details."""
    target = f" → `{report.environment}`" if report.environment else ""
    lines = [
        f"## {_MARK[report.verdict]} shipyard {report.kind}: {report.flow}{target} "
        f"— {report.verdict}",
        "",
        f"Commit `{report.git_sha[:12] or 'unknown'}`",
        "",
        "| stage | verdict | time | summary |",
        "|---|---|---|---|",
    ]
    for stage in report.stages:
        verdict, summary = f"{_MARK[stage.verdict]} {stage.verdict}", stage.summary
        environment, _, name = stage.stage.rpartition("/")
        engine_rollback = _engine_rollback(report.stages, environment)
        if name == "rollback" and stage.verdict is Verdict.SKIPPED and engine_rollback:
            verdict, summary = f"{_ROLLED_BACK} rolled back by the deploy engine", engine_rollback
        lines.append(
            f"| {stage.stage} | {verdict} | {stage.seconds:.1f} s | {_one_cell(summary)} |"
        )
    if report.notes:
        lines += ["", "### Notes", ""]
        lines += [f"- **{key}**: {_one_cell(_note(value))}" for key, value in report.notes.items()]
    for stage in report.stages:
        # A failed deploy or rollback brings its own report: per-service table and dossier. It
        # comes last, so a terminal's last screen is the failure and what was rolled back.
        if stage.verdict is Verdict.FAILED and (deploy_report := stage.details.get("report")):
            lines += ["", deploy_markdown(deploy_report).replace("## ", f"### {stage.stage}: ", 1)]
    return "\n".join(lines) + "\n"


def _engine_rollback(stages: Sequence[StageResult], environment: str = "") -> str:
    """What the deploy engine rolled back itself (per service) in one environment's deploy
    (`staging/deploy` in a rehearsal, `deploy` in a pipeline), or "" when it rolled nothing
    back: the pipeline's own rollback stage is then skipped, but a rollback did happen."""
    deploy = f"{environment}/deploy" if environment else "deploy"
    for stage in stages:
        if stage.stage == deploy and (rollbacks := stage.details.get("rollback")):
            return ", ".join(f"{service}: {verdict}" for service, verdict in rollbacks.items())
    return ""


def _note(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={item}" for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


def _one_cell(text: str, limit: int = CELL_LIMIT) -> str:
    """One table cell: one line, pipes escaped, cut at a word (never inside one) when long."""
    flat = " ".join(text.split()).replace("|", "\\|")
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + " …"


# --- the same Markdown for a terminal -----------------------------------------------------------

_HTML_TAG: Final = re.compile(r"</?[a-zA-Z][^>]*>")
_BOLD: Final = re.compile(r"\*\*(.+?)\*\*")
_CELL_SPLIT: Final = re.compile(r"(?<!\\)\|")
_GOOD: Final = re.compile(r"\b(passed|succeeded)\b")
_BAD: Final = re.compile(r"\b(failed|timed_out|conflict)\b")
_ANSI: Final = {"bold": "\033[1m", "green": "\033[32m", "red": "\033[31m", "reset": "\033[0m"}


def render_terminal(markdown: str, *, colour: bool = False, width: int = 100) -> str:
    """The run summary for a terminal: headings underlined, tables aligned with the last column
    wrapped to `width`, no HTML, no code fences, no Markdown marks; ANSI colour only on request
    (a TTY), so a file or a CI log gets plain text."""
    out: list[str] = []
    rows: list[list[str]] = []
    fenced = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            out.append("    " + line)
            continue
        if line.startswith("|"):
            cells = [_inline(cell.strip()) for cell in _CELL_SPLIT.split(line.strip())[1:-1]]
            if not all(set(cell) <= {"-", ":"} for cell in cells):
                rows.append(cells)
            continue
        if rows:
            out += _table(rows, width)
            rows = []
        out += _block(line, colour, width)
    out += _table(rows, width)
    text = "\n".join(out)
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"
    return _coloured(text) if colour else text


def _block(line: str, colour: bool, width: int) -> list[str]:
    """One non-table Markdown line as terminal lines."""
    summary = re.fullmatch(r"\s*<details><summary>(.*)</summary>\s*", line)
    if summary:
        return [_inline(summary.group(1)) + ":"]
    heading = re.fullmatch(r"(#{1,6}) (.*)", line)
    if heading:
        title = _inline(heading.group(2))
        if colour:
            return ["", _ANSI["bold"] + title + _ANSI["reset"]]
        rule = "=" if len(heading.group(1)) <= 2 else "-"
        return ["", title, rule * _width(title)]
    if line.startswith("> "):
        return _wrapped(_inline(line[2:]), width, "  ", "  ")
    if line.startswith("- "):
        return _wrapped(_inline(line[2:]), width, "- ", "  ")
    return _wrapped(_inline(line), width, "", "")


def _wrapped(text: str, width: int, first: str, rest: str) -> list[str]:
    """A paragraph or list item wrapped to `width`; a long name (an image digest) stays whole."""
    return textwrap.wrap(
        text,
        width,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [""]


def _inline(text: str) -> str:
    text = _HTML_TAG.sub("", text)
    text = _BOLD.sub(r"\1", text)
    return text.replace("`", "").replace("\\|", "|")


def _table(rows: list[list[str]], width: int) -> list[str]:
    if not rows:
        return []
    columns = len(rows[0])
    widths = [max(_width(row[i]) for row in rows if i < len(row)) for i in range(columns - 1)]
    indent = sum(widths) + 2 * (columns - 1)
    last = width - indent
    if last < 20:  # too wide to align: one wrapped line per row, each value with its header
        return ["", *(line for row in rows[1:] for line in _row_as_text(rows[0], row, width)), ""]
    lines = []
    for row in rows:
        cells = zip(row[:-1], widths, strict=True)
        lead = "  ".join(cell + " " * (w - _width(cell)) for cell, w in cells)
        wrapped = textwrap.wrap(row[-1], last, break_long_words=False, break_on_hyphens=False) or [
            ""
        ]
        lines.append((lead + "  " + wrapped[0]).rstrip())
        lines += [" " * (indent) + more for more in wrapped[1:]]
    if len(lines) > 1:
        lines.insert(1, "-" * min(width, max(map(_width, lines))))
    return ["", *lines, ""]


def _row_as_text(header: list[str], row: list[str], width: int) -> list[str]:
    pairs = ", ".join(f"{name} {value}" for name, value in zip(header[1:], row[1:], strict=True))
    return _wrapped(f"{row[0]}: {pairs}", width, "", "    ")


def _width(text: str) -> int:
    """Columns a string takes in a terminal: wide characters two, a narrow symbol turned emoji
    by U+FE0F (⏭️, ↩️) two as well, combining marks none."""
    return sum(
        1
        if char == "\ufe0f"
        else 0
        if unicodedata.combining(char) or char == "\u200d"
        else 2
        if unicodedata.east_asian_width(char) in "WF"
        else 1
        for char in text
    )


def _coloured(text: str) -> str:
    text = _GOOD.sub(_ANSI["green"] + r"\1" + _ANSI["reset"], text)
    return _BAD.sub(_ANSI["red"] + r"\1" + _ANSI["reset"], text)
