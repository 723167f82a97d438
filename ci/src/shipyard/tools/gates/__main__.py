"""CLI: ``python -m shipyard.tools.gates scan|docs|docs-check TERRAFORM_DIR``.

Exit codes: 0 passed / in sync, 1 blocked / drifted, 2 the gate could not decide (GateError).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from shipyard.tools.gates.docs import DocsReport, check_docs, generate_docs
from shipyard.tools.gates.errors import GateError
from shipyard.tools.gates.policy import Severity
from shipyard.tools.gates.scan import run_scan


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m shipyard.tools.gates", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    scan = commands.add_parser("scan", help="checkov security gate")
    scan.add_argument("terraform_dir", type=Path)
    scan.add_argument("--policy-dir", type=Path, default=Path("ci/policies"))
    scan.add_argument(
        "--threshold",
        default="CRITICAL",
        choices=[s.name for s in Severity],
        help="lowest severity that blocks (default CRITICAL)",
    )
    scan.add_argument("--checkov", default="checkov", help="checkov executable")
    for name, help_text in (("docs", "regenerate READMEs"), ("docs-check", "fail on drift")):
        docs = commands.add_parser(name, help=help_text)
        docs.add_argument("terraform_dir", type=Path)
        docs.add_argument("--terraform-docs", default="terraform-docs")
    for sub in commands.choices.values():
        sub.add_argument("--json-out", type=Path, help="write the JSON report here")
        sub.add_argument("--markdown-out", type=Path, help="write the Markdown report here")
    return parser


def _write(json_text: str, markdown: str, args: argparse.Namespace) -> None:
    if args.json_out:
        args.json_out.write_text(json_text + "\n", encoding="utf-8")
    if args.markdown_out:
        args.markdown_out.write_text(markdown, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "scan":
            report = run_scan(
                args.terraform_dir, args.policy_dir, Severity[args.threshold], args.checkov
            )
            print(report.summary_table())
            _write(report.to_json(), report.to_markdown(), args)
            return 1 if report.blocked else 0
        docs: DocsReport
        if args.command == "docs":
            docs = generate_docs(args.terraform_dir, args.terraform_docs)
        else:
            docs = check_docs(args.terraform_dir, args.terraform_docs)
        print(docs.to_markdown(), end="")
        _write(docs.to_json(), docs.to_markdown(), args)
        return 0 if docs.in_sync else 1
    except GateError as exc:
        print(f"gate error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
