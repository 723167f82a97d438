"""The pull request's one comment: every check's verdict, the coverage figure, the cost diff and
a link to the run, under a hidden marker that finds the comment again on the next push.

Pure: the comment is rendered here from plain data; :mod:`shipyard.tools.pr_comment` posts it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

MARKER: Final = "<!-- shipyard-pr-report -->"
COVERAGE_HEADING: Final = "**Coverage**:"
SKIPPED_PREFIX: Final = "skipped: "
_MARK: Final = {"passed": "✅", "failed": "❌", "skipped": "⏭️"}
_TEST_COVERAGE: Final = re.compile(r"\bcoverage (\d+(?:\.\d+)?) ?%")
_UPLOADED_COVERAGE: Final = re.compile(r"\((\d+(?:\.\d+)?) % of lines\)")

StageRow = tuple[str, str, str]  # stage, verdict (passed, failed, skipped), one-line summary


class ReportError(ValueError):
    """The comment's input is malformed (the message says which part and how to fix it)."""


@dataclass(frozen=True)
class PrReport:
    """What the comment shows."""

    stages: tuple[StageRow, ...]
    git_sha: str
    run_url: str
    coverage: str | None = None  # e.g. "87.3 %"
    cost: str | None = None  # the Markdown section of shipyard.tools.cost, or its one line

    @property
    def verdict(self) -> str:
        return "failed" if any(verdict == "failed" for _, verdict, _ in self.stages) else "passed"

    def to_json(self) -> str:
        return json.dumps(
            {
                "stages": [list(row) for row in self.stages],
                "git_sha": self.git_sha,
                "run_url": self.run_url,
                "coverage": self.coverage,
                "cost": self.cost,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> PrReport:
        try:
            data = json.loads(text)
            stages = tuple((str(s), str(v), str(m)) for s, v, m in data["stages"])
            return cls(
                stages,
                str(data["git_sha"]),
                str(data.get("run_url") or ""),
                data.get("coverage"),
                data.get("cost"),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise ReportError(
                f"the comment report is not PrReport JSON ({type(error).__name__}: {error}); "
                "write it with PrReport.to_json()"
            ) from None


def coverage_figure(summaries: Iterable[str]) -> str | None:
    """The line coverage the stages reported: the upload's figure, else the test run's total."""
    texts = list(summaries)
    for pattern in (_UPLOADED_COVERAGE, _TEST_COVERAGE):
        for text in texts:
            if match := pattern.search(text):
                return f"{match.group(1)} %"
    return None


def is_skipped(line: str) -> bool:
    """An informational stage's line that says it did not run (no token, no key)."""
    return line.startswith(SKIPPED_PREFIX)


def _cell(text: str) -> str:
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= 300 else flat[:297] + "..."


def render_comment(report: PrReport) -> str:
    """The comment's Markdown, starting with the marker that finds it again."""
    link = f" · [the run]({report.run_url})" if report.run_url else ""
    lines = [
        MARKER,
        f"## {_MARK[report.verdict]} shipyard checks: {report.verdict}",
        "",
        f"Commit `{report.git_sha[:12] or 'unknown'}`{link}",
        "",
        "| check | verdict | summary |",
        "|---|---|---|",
    ]
    for stage, verdict, summary in report.stages:
        lines.append(f"| {stage} | {_MARK.get(verdict, '')} {verdict} | {_cell(summary)} |")
    lines += [
        "",
        f"{COVERAGE_HEADING} {report.coverage or 'no figure (the tests did not report one)'}",
    ]
    lines += ["", "### Cost", "", (report.cost or "not estimated").strip()]
    lines += ["", "<sub>Updated in place on every push by the shipyard pipeline.</sub>"]
    return "\n".join(lines) + "\n"


def degraded_summary(summary_markdown: str, comment: str, posted: bool) -> str:
    """The step summary, with what only the comment holds (coverage, cost) appended when the
    comment could not be posted (forks); the summary has its own table of the checks."""
    if posted:
        return summary_markdown
    _, heading, extras = comment.partition(COVERAGE_HEADING)
    return f"{summary_markdown.rstrip()}\n\n{heading}{extras.rstrip()}\n"
