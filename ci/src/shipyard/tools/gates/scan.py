"""The security gate end to end: policy -> checkov -> verdict.

``run_scan(terraform_dir, policy_dir, threshold)`` is the entry point the Dagger module calls.
It raises :class:`GateError` whenever it cannot trust the result (policy invalid, checkov
missing, crashing or printing garbage, files checkov could not parse, an error in checkov's
log, nothing scanned); a check that raised inside checkov blocks, named in the report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from shipyard.tools.gates.checkov import parse_checkov_log, parse_checkov_output, run_checkov
from shipyard.tools.gates.errors import GateError
from shipyard.tools.gates.policy import Policy, Severity, load_policy
from shipyard.tools.gates.verdict import ScanReport, decide


def verdict_from_output(
    stdout: str,
    policy: Policy,
    threshold: Severity,
    terraform_dir: str,
    today: dt.date,
    stderr: str = "",
) -> ScanReport:
    """Pure: checkov's stdout and log plus the policy -> the report (or GateError)."""
    prefix = terraform_dir.rstrip("/") + "/" if terraform_dir not in ("", ".") else ""
    errored = parse_checkov_log(stderr, prefix)
    results = replace(parse_checkov_output(stdout, prefix), errored=errored)
    if results.parsing_errors:
        files = ", ".join(results.parsing_errors[:5])
        raise GateError(
            f"checkov could not parse {len(results.parsing_errors)} file(s): {files}; "
            "unparsed files are unscanned, fix their HCL (terraform validate shows where)"
        )
    if results.resource_count == 0:
        raise GateError(
            f"checkov scanned 0 resources in {terraform_dir}; point the gate at the terraform "
            "root (the folder with the .tf files)"
        )
    return decide(results, policy, threshold, today, terraform_dir)


def run_scan(
    terraform_dir: Path,
    policy_dir: Path,
    threshold: Severity = Severity.CRITICAL,
    checkov: str = "checkov",
    today: dt.date | None = None,
) -> ScanReport:
    """Scan ``terraform_dir`` with the pinned checkov and decide with ``policy_dir``'s policy.

    The policy is read (and validated) before checkov runs, so a bad policy fails fast.
    """
    today = today or dt.date.today()
    policy = load_policy(policy_dir, today)
    run = run_checkov(terraform_dir, policy.custom_dir, checkov=checkov)
    return verdict_from_output(run.stdout, policy, threshold, str(terraform_dir), today, run.stderr)
