"""The smoke run's report: per-check results and timing, as JSON (``schema_version``) and
Markdown."""

from __future__ import annotations

import json
from dataclasses import dataclass

from shipyard.tools.smoke.judge import Verdict

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class CheckResult:
    name: str
    url: str
    verdict: Verdict
    detail: str
    attempts: int
    duration_s: float
    status_code: int | None


@dataclass(frozen=True)
class SmokeReport:
    base_url: str
    results: tuple[CheckResult, ...]
    duration_s: float

    @property
    def verdict(self) -> Verdict:
        verdicts = {r.verdict for r in self.results}
        if Verdict.FAIL in verdicts:
            return Verdict.FAIL
        if Verdict.NO_DATA in verdicts:
            return Verdict.NO_DATA
        return Verdict.PASS

    def ok(self, allow_no_data: bool = True) -> bool:
        """Whether the pipeline may go on: a fail never, no-data only when allowed."""
        return self.verdict is Verdict.PASS or (allow_no_data and self.verdict is Verdict.NO_DATA)

    def to_dict(self) -> dict[str, object]:
        return {
            "schema_version": SCHEMA_VERSION,
            "suite": "smoke",
            "base_url": self.base_url,
            "verdict": self.verdict.value,
            "duration_s": round(self.duration_s, 3),
            "checks": [
                {
                    "name": r.name,
                    "url": r.url,
                    "verdict": r.verdict.value,
                    "detail": r.detail,
                    "attempts": r.attempts,
                    "duration_s": round(r.duration_s, 3),
                    "status_code": r.status_code,
                }
                for r in self.results
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_markdown(self) -> str:
        icons = {Verdict.PASS: "✅", Verdict.FAIL: "❌", Verdict.NO_DATA: "⚪"}
        lines = [
            f"### Smoke {self.base_url}: {icons[self.verdict]} {self.verdict.value} "
            f"in {self.duration_s:.2f} s",
            "",
            "| check | verdict | attempts | time | detail |",
            "|---|---|---:|---:|---|",
        ]
        lines += [
            f"| {r.name} | {icons[r.verdict]} {r.verdict.value} | {r.attempts} | "
            f"{r.duration_s:.2f} s | {r.detail.replace('|', '/')} |"
            for r in self.results
        ]
        return "\n".join(lines) + "\n"


def error_report(message: str) -> dict[str, object]:
    """The report of a run that reached no verdict: bad configuration, or a fault in the suite."""
    return {
        "schema_version": SCHEMA_VERSION,
        "suite": "smoke",
        "verdict": "error",
        "error": message,
        "checks": [],
    }
