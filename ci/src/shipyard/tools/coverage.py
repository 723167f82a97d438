"""Coverage upload to Codecov with its maintained uploader (codecov-cli), never blocking a check.

Runs inside the pipeline's container::

    CODECOV_TOKEN=... python -m shipyard.tools.coverage coverage.xml --commit SHA \\
        [--url https://codecov.example.org] [--slug owner/repo] [--branch B] [--pr N]

It prints exactly one line and exits 0 whatever happens to the upload (2 only for wrong
arguments): ``uploaded ...`` with the coverage figure and the report's address,
``skipped: no CODECOV_TOKEN``, or ``warning: ...`` when the uploader failed, was refused, got
5xx answers or did not finish within ``--timeout`` seconds (it has no timeout of its own and
waits forever on a server that never answers).

The token is handed to ``codecovcli`` in its environment (it reads ``CODECOV_TOKEN``), never on
its command line, and is scrubbed from every line this tool prints.

Pure: :func:`upload_command`, :func:`line_coverage`, :func:`upload_line`.
I/O: :func:`main` (the uploader runs under :func:`shipyard.tools.bounded.run_bounded`).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from xml.etree import ElementTree

from shipyard.decide.pipeline_flow import redact
from shipyard.tools.bounded import Finished, run_bounded

TOKEN_ENV: Final = "CODECOV_TOKEN"  # noqa: S105 -- the variable's name, not a token
DEFAULT_URL: Final = "https://codecov.io"
DEFAULT_TIMEOUT_S: Final = 120.0
UNCHANGED: Final = "the checks' verdict is unchanged"
# The uploader's own lines: its "results will be available at" address, and why it failed.
_REPORT_URL: Final = re.compile(r"results will be available at:\s*(\S+)")
_FAILURE: Final = re.compile(r"^(?:error - .*? -- |Exception: |\w+Error: )(.+)$")


@dataclass(frozen=True)
class UploadSettings:
    """What one upload says about the commit, and where it goes."""

    report: Path
    commit: str
    url: str = DEFAULT_URL
    slug: str = ""
    branch: str = ""
    pull_request: str = ""
    build_url: str = ""


def upload_command(cli: str, settings: UploadSettings) -> list[str]:
    """``codecovcli upload-process`` for exactly one report, failing loudly on any error."""
    optional = {
        "--slug": settings.slug,
        "--branch": settings.branch,
        "--pr": settings.pull_request,
        "--build-url": settings.build_url,
    }
    command = [cli, "--disable-telem", "--url", settings.url, "upload-process"]
    command += ["--commit-sha", settings.commit, "--file", str(settings.report)]
    # Only the named report, no search of the work tree; a failure must show in the exit code.
    command += ["--disable-search", "--fail-on-error", "--git-service", "github"]
    for option, value in optional.items():
        if value:
            command += [option, value]
    return command


def line_coverage(cobertura_xml: str) -> float | None:
    """The share of lines covered, in percent, from a Cobertura report's ``line-rate``."""
    try:
        root = ElementTree.fromstring(cobertura_xml)  # noqa: S314 -- our own test run's report
    except ElementTree.ParseError:
        return None
    rate = root.get("line-rate")
    try:
        return round(float(rate) * 100, 1) if rate is not None else None
    except ValueError:
        return None


def upload_line(finished: Finished, settings: UploadSettings, coverage: float | None) -> str:
    """The one line the check shows for an upload, whatever happened to it."""
    figure = f" ({coverage:.1f} % of lines)" if coverage is not None else ""
    if finished.timed_out:
        return (
            f"warning: coverage upload gave up after {finished.timeout_s:.0f} s: "
            f"{settings.url} did not answer; {UNCHANGED}"
        )
    if finished.exit_code != 0:
        return f"warning: coverage upload failed ({_failure(finished.output)}); {UNCHANGED}"
    found = _REPORT_URL.search(finished.output)
    where = f" → {found.group(1)}" if found else ""
    return f"uploaded {settings.report.name}{figure}{where}"


def _failure(output: str) -> str:
    reasons = [m.group(1) for line in output.splitlines() if (m := _FAILURE.match(line.strip()))]
    if reasons:
        return reasons[-1][:200]
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1][:200] if lines else "the uploader printed nothing"


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m shipyard.tools.coverage",
        description="Upload a coverage report to Codecov; never fails the check.",
    )
    parser.add_argument("report", type=Path, help="the Cobertura XML report, e.g. coverage.xml")
    parser.add_argument("--commit", required=True, help="the full 40-character commit SHA")
    parser.add_argument("--url", default=DEFAULT_URL, help="Codecov (or Codecov enterprise)")
    parser.add_argument("--slug", default="", help="owner/repo")
    parser.add_argument("--branch", default="")
    parser.add_argument("--pr", default="", help="pull request number")
    parser.add_argument("--build-url", default="", help="the CI run's address")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds")
    parser.add_argument("--codecovcli", default="codecovcli", help="the uploader to run")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Print one line; exit 0 whatever happened to the upload."""
    args = _arguments(argv)
    env = dict(os.environ if environ is None else environ)
    token = env.get(TOKEN_ENV, "").strip()
    if not token:
        print(f"skipped: no {TOKEN_ENV}")
        return 0
    settings = UploadSettings(
        args.report, args.commit, args.url, args.slug, args.branch, args.pr, args.build_url
    )
    try:
        coverage = line_coverage(args.report.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        print(f"warning: no coverage to upload ({args.report}: {error}); {UNCHANGED}")
        return 0
    finished = run_bounded(upload_command(args.codecovcli, settings), env, args.timeout)
    print(redact(upload_line(finished, settings, coverage), [token]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
