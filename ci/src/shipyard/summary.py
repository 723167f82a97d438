"""The run report: one JSON document (machine-readable) and its Markdown rendering (for
``$GITHUB_STEP_SUMMARY`` and terminals), both made from the same data."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from shipyard.deploy.report import render_markdown as deploy_markdown
from shipyard.pipeline_flow import StageResult, Verdict, overall_verdict

SCHEMA_VERSION: Final = 1
_MARK: Final = {Verdict.PASSED: "✅", Verdict.FAILED: "❌", Verdict.SKIPPED: "⏭️"}


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
        summary = _one_cell(stage.summary)
        lines.append(
            f"| {stage.stage} | {_MARK[stage.verdict]} {stage.verdict} | "
            f"{stage.seconds:.1f} s | {summary} |"
        )
    for stage in report.stages:
        # A failed deploy or rollback brings its own report: per-service table and dossier.
        if stage.verdict is Verdict.FAILED and (deploy_report := stage.details.get("report")):
            lines += ["", deploy_markdown(deploy_report).replace("## ", f"### {stage.stage}: ", 1)]
    if report.notes:
        lines += ["", "### Notes", ""]
        lines += [f"- **{key}**: {_one_cell(str(value))}" for key, value in report.notes.items()]
    return "\n".join(lines) + "\n"


def _one_cell(text: str) -> str:
    flat = " ".join(text.split())
    flat = flat.replace("|", "\\|")
    return flat if len(flat) <= 300 else flat[:297] + "..."
