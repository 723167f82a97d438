"""Gates that decide whether a change may ship: checkov security gate and terraform-docs drift.

No Dagger import: the Dagger module wraps these functions.

Security gate::

    report = run_scan(Path("terraform"), Path("ci/policies"), threshold=Severity.CRITICAL)
    report.blocked            # the verdict
    report.summary_table()    # plain text for a log
    report.to_json()          # schema_version 1
    report.to_markdown()      # for a CI step summary

Docs drift gate::

    check_docs(Path("terraform")).drifted      # READMEs out of date ("--output-check")
    generate_docs(Path("terraform")).updated   # READMEs rewritten (inject mode)

Every function raises :class:`GateError` when it cannot reach a trustworthy verdict; callers
treat it as blocking. CLI: ``python -m shipyard.tools.gates scan|docs|docs-check TERRAFORM_DIR``.
"""

from shipyard.tools.gates.docs import DocsReport, check_docs, generate_docs
from shipyard.tools.gates.errors import GateError
from shipyard.tools.gates.policy import Severity
from shipyard.tools.gates.scan import run_scan, verdict_from_output
from shipyard.tools.gates.verdict import ScanReport, Tier

__all__ = [
    "DocsReport",
    "GateError",
    "ScanReport",
    "Severity",
    "Tier",
    "check_docs",
    "generate_docs",
    "run_scan",
    "verdict_from_output",
]
