"""Pure decisions of the security gate: classify each finding, decide, render.

Tiers: a finding at or above the threshold (default CRITICAL) blocks; a HIGH below it warns;
MEDIUM and LOW are listed. A failed check the policy does not know fails closed (blocks, with
the file and the YAML line to add). A waived finding is listed with its reason; an expired
waiver blocks. checkov's inline ``#checkov:skip`` comments are not waivers: an inline skip
without a matching entry in waivers.yml counts as the failure it hides. A check that raised
inside checkov has no result: it blocks whatever its severity, unless a waiver covers it.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from shipyard.tools.gates.checkov import CheckovResults, Finding
from shipyard.tools.gates.policy import Policy, Severity, Waiver, severity_line

SCHEMA_VERSION = 1


class Tier(enum.StrEnum):
    BLOCK = "block"
    WARN = "warn"
    LIST = "list"
    WAIVED = "waived"


@dataclass(frozen=True)
class Classified:
    finding: Finding
    tier: Tier
    severity: Severity | None  # None: not in the policy (fails closed)
    why: str
    fix: str
    resources: tuple[str, ...]
    waiver: Waiver | None = None


@dataclass(frozen=True)
class ScanReport:
    """Everything the gate decided; ``blocked`` is the verdict."""

    threshold: Severity
    terraform_dir: str
    checkov_version: str | None
    report_shape: str
    resource_count: int
    passed_checks: int
    findings: tuple[Classified, ...]
    unused_waivers: tuple[Waiver, ...] = field(default=())

    def tier(self, tier: Tier) -> tuple[Classified, ...]:
        return tuple(c for c in self.findings if c.tier is tier)

    @property
    def blocked(self) -> bool:
        return bool(self.tier(Tier.BLOCK))

    def counts(self) -> dict[str, int]:
        return {tier.value: len(self.tier(tier)) for tier in Tier}

    def to_dict(self) -> dict[str, object]:
        return {
            "schema_version": SCHEMA_VERSION,
            "gate": "checkov",
            "verdict": "blocked" if self.blocked else "passed",
            "threshold": self.threshold.name,
            "terraform_dir": self.terraform_dir,
            "checkov_version": self.checkov_version,
            "report_shape": self.report_shape,
            "resource_count": self.resource_count,
            "passed_checks": self.passed_checks,
            "counts": self.counts(),
            "findings": [_finding_dict(c) for c in self.findings],
            "unused_waivers": [_waiver_dict(w) for w in self.unused_waivers],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def summary_table(self) -> str:
        """Plain text for a log: counts per tier, then every blocking finding with its fix."""
        counts = self.counts()
        verdict = "BLOCKED" if self.blocked else "PASSED"
        lines = [
            f"checkov gate: {verdict} (threshold {self.threshold.name}, "
            f"{self.resource_count} resources, {self.passed_checks} passed checks)",
            f"  {'tier':<8}{'count':>6}",
        ]
        lines += [f"  {tier.value:<8}{counts[tier.value]:>6}" for tier in Tier]
        for item in self.tier(Tier.BLOCK):
            severity = item.severity.name if item.severity else "UNMAPPED"
            severity = "ERRORED" if item.finding.error else severity
            lines.append(
                f"  BLOCK {item.finding.check_id} [{severity}] {item.finding.location}: {item.why}"
            )
            lines.append(f"        fix: {item.fix}")
        for item in self.tier(Tier.WARN):
            lines.append(f"  WARN  {item.finding.check_id} {item.finding.location}: {item.why}")
        for item in self.tier(Tier.LIST):
            severity = item.severity.name if item.severity else "?"
            lines.append(f"  LIST  {item.finding.check_id} [{severity}] {item.finding.location}")
        for item in self.tier(Tier.WAIVED):
            lines.append(f"  WAIVED {item.finding.check_id} {item.finding.location}: {item.why}")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        counts = self.counts()
        icon = "❌ blocked" if self.blocked else "✅ passed"
        out = [
            f"### Security gate (checkov {self.checkov_version or '?'}): {icon}",
            "",
            f"Threshold **{self.threshold.name}**; {self.resource_count} resources scanned, "
            f"{self.passed_checks} checks passed.",
            "",
            "| tier | count |",
            "|---|---:|",
            *[f"| {tier.value} | {counts[tier.value]} |" for tier in Tier],
        ]
        for tier, title in (
            (Tier.BLOCK, "Blocking"),
            (Tier.WARN, "Warnings"),
            (Tier.LIST, "Listed"),
            (Tier.WAIVED, "Waived"),
        ):
            items = self.tier(tier)
            if not items:
                continue
            out += ["", f"#### {title}", "", "| check | where | severity | why | fix |"]
            out.append("|---|---|---|---|---|")
            out += [
                f"| `{c.finding.check_id}` | `{c.finding.location}` | "
                f"{c.severity.name if c.severity else 'unmapped'} | {_cell(c.why)} | "
                f"{_cell(c.fix)} |"
                for c in items
            ]
        if self.unused_waivers:
            out += ["", "#### Waivers that matched nothing (remove them)", ""]
            out += [f"- `{w.check_id}` {w.resource}: {w.reason}" for w in self.unused_waivers]
        return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _waiver_dict(waiver: Waiver) -> dict[str, object]:
    return {
        "check_id": waiver.check_id,
        "resource": waiver.resource,
        "reason": waiver.reason,
        "expires": waiver.expires.isoformat(),
    }


def _finding_dict(item: Classified) -> dict[str, object]:
    return {
        "check_id": item.finding.check_id,
        "check_name": item.finding.check_name,
        "tier": item.tier.value,
        "severity": item.severity.name if item.severity else None,
        "file": item.finding.file_path,
        "line": item.finding.line_start,
        "line_end": item.finding.line_end,
        "resources": list(item.resources),
        "why": item.why,
        "fix": item.fix,
        "waiver": _waiver_dict(item.waiver) if item.waiver else None,
        "inline_skip_reason": item.finding.inline_skip_reason,
        "error": item.finding.error,
    }


def tier_for(severity: Severity, threshold: Severity) -> Tier:
    if severity >= threshold:
        return Tier.BLOCK
    if severity is Severity.HIGH:
        return Tier.WARN
    return Tier.LIST


def _deduplicate(
    findings: Iterable[Finding], policy: Policy
) -> list[tuple[Finding, tuple[str, ...], Waiver | None]]:
    """A module's resource is reported once per module call; one row per source location.

    Instances of one location share a row only when the same waiver (or none) covers them, so
    a waiver for one module call never waives the same finding on another. Each row carries
    that waiver.
    """
    grouped: dict[tuple[str, str, int, int, int], tuple[Finding, list[str], Waiver | None]] = {}
    for f in findings:
        waiver = policy.waiver_for(f.check_id, f.resource)
        key = (f.check_id, f.file_path, f.line_start, f.line_end, id(waiver))
        if key in grouped:
            if f.resource not in grouped[key][1]:
                grouped[key][1].append(f.resource)
        else:
            grouped[key] = (f, [f.resource], waiver)
    return [(f, tuple(resources), waiver) for f, resources, waiver in grouped.values()]


def _waiver_outcome(
    waiver: Waiver | None, today: dt.date, waivers_file: str
) -> tuple[Tier, str] | None:
    if waiver is None:
        return None
    if waiver.expired(today):
        return Tier.BLOCK, (
            f"waiver expired on {waiver.expires.isoformat()} ({waiver.reason}); fix it or renew "
            f"the waiver in {waivers_file}"
        )
    return Tier.WAIVED, f"waived until {waiver.expires.isoformat()}: {waiver.reason}"


def _errored_outcome(finding: Finding, waivers_file: str) -> tuple[str, str]:
    """Why and how to fix, for a check that raised inside checkov (its result is unknown)."""
    return (
        f"{finding.check_id} raised inside checkov on {finding.resource} ({finding.error}), "
        "so its result is unknown and the gate fails closed",
        "change the resource so the check can run (run checkov by hand to see the traceback), "
        f"or waive {finding.check_id} for this resource in {waivers_file} with a reason and an "
        "expiry",
    )


def classify_finding(
    finding: Finding,
    resources: tuple[str, ...],
    waiver: Waiver | None,
    policy: Policy,
    threshold: Severity,
    today: dt.date,
) -> Classified:
    """The tier of one row of findings, given the waiver that covers its resources."""
    entry = policy.severity_of(finding.check_id)
    severity = entry.severity if entry else None
    if severity is None and finding.checkov_severity:
        severity = Severity.parse(finding.checkov_severity, f"checkov {finding.check_id}")
    fix = (
        (entry.fix if entry and entry.fix else None)
        or finding.guideline
        or (finding.check_name or "see the check's documentation")
    )
    waived = _waiver_outcome(waiver, today, policy.waivers_file)
    if waived is not None:
        return Classified(finding, waived[0], severity, waived[1], fix, resources, waiver)
    if finding.error is not None:
        why, errored_fix = _errored_outcome(finding, policy.waivers_file)
        return Classified(finding, Tier.BLOCK, severity, why, errored_fix, resources)
    if severity is None:
        return Classified(
            finding,
            Tier.BLOCK,
            None,
            f"{finding.check_id} is not in the severity policy (fails closed); add this line "
            f"under `checks:` in {policy.severity_file}:\n"
            f"{severity_line(finding.check_id, finding.check_name)}",
            fix,
            resources,
        )
    reason = entry.reason if entry else finding.check_name
    prefix = ""
    if finding.inline_skip_reason is not None:
        prefix = (
            f"inline checkov:skip ({finding.inline_skip_reason}) is not a waiver; add one to "
            f"{policy.waivers_file} or remove the comment. "
        )
    return Classified(
        finding,
        tier_for(severity, threshold),
        severity,
        f"{prefix}{reason}",
        fix,
        resources,
    )


def decide(
    results: CheckovResults,
    policy: Policy,
    threshold: Severity,
    today: dt.date,
    terraform_dir: str,
) -> ScanReport:
    """The gate's verdict from checkov's results and the repository's policy."""
    deduplicated = _deduplicate(
        [*results.errored, *results.failed, *results.inline_skipped], policy
    )
    classified = [
        classify_finding(f, resources, waiver, policy, threshold, today)
        for f, resources, waiver in deduplicated
    ]
    order = {Tier.BLOCK: 0, Tier.WARN: 1, Tier.LIST: 2, Tier.WAIVED: 3}
    classified.sort(key=lambda c: (order[c.tier], c.finding.file_path, c.finding.line_start))
    used = {id(c.waiver) for c in classified if c.waiver is not None}
    return ScanReport(
        threshold=threshold,
        terraform_dir=terraform_dir,
        checkov_version=results.checkov_version,
        report_shape=results.shape,
        resource_count=results.resource_count,
        passed_checks=results.passed_count,
        findings=tuple(classified),
        unused_waivers=tuple(w for w in policy.waivers if id(w) not in used),
    )
