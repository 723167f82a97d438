"""checkov's JSON report, normalised, and the thin runner that produces it.

checkov prints one of three JSON shapes (field notes 1): a dict ``{check_type, results,
summary}`` for one framework, a list of such dicts for several, and a bare summary
``{passed, failed, ...}`` when it scanned nothing. :func:`parse_checkov_output` turns any of
them into one :class:`CheckovResults`; anything else (empty output, a traceback, truncated JSON)
is a :class:`GateError`, never an empty pass.

checkov also drops a check that raised inside it from the JSON, and says so only in its log
(``[ERROR] Failed to run check CKV_X on /f.tf:type.name`` and a traceback on stderr); a custom
policy it cannot load is likewise only a log line. :func:`parse_checkov_log` reads stderr for
both: an errored check becomes a finding whose result is unknown (the gate blocks on it), any
other error is a :class:`GateError`.

:func:`run_checkov` is the only I/O: it runs the pinned checkov with ``--skip-download
--framework terraform terraform_json -o json`` (``terraform`` alone skips ``.tf.json`` files)
in a clean environment (no inherited ``CKV_*``/``BC_*`` variables, no config file from the
working or home directory) so that nothing outside the repository's policy folder can silently
skip a check.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from shipyard.tools.gates.errors import GateError

CHECKOV_ARGS = (
    "--skip-download", "--framework", "terraform", "terraform_json", "-o", "json",
)  # fmt: skip
# Terraform-language files checkov does not read at all: refused rather than left unscanned.
UNSCANNED_SUFFIXES = (".tofu", ".tofu.json")
_LOG_RECORD = re.compile(r"^\S+ \S+ \[[^\]]*\] \[(?P<level>[A-Z]+)\s*\]\s+(?P<message>.*)$")
_FAILED_CHECK = re.compile(r"^Failed to run check (?P<check>\S+) on (?P<where>.+)$")
# WARNING records that mean a rule was not applied, or code was not scanned (a registry module
# is not downloaded offline: its resources are silently absent); checkov goes on without them.
_SKIPPED_RULE_WARNINGS = (
    "Failed to run check",
    "Failed to parse check",
    "Custom policy ",
    "Failed to download module",
    "failed to run regex",
    "Graph components were not initialized",
)
_SUMMARY_KEYS = frozenset({"passed", "failed", "skipped", "parsing_errors"})
# Config files checkov reads on its own; a skip-check in one would hide failures from us.
_CONFIG_NAMES = (".checkov.yaml", ".checkov.yml")
_ENV_ALLOWLIST = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")


@dataclass(frozen=True)
class Finding:
    """One failed (or inline-skipped) check on one resource, as checkov located it."""

    check_id: str
    check_name: str
    resource: str
    file_path: str
    line_start: int
    line_end: int
    checkov_severity: str | None
    guideline: str | None
    inline_skip_reason: str | None = None
    error: str | None = None  # the check raised inside checkov: its result is unknown

    @property
    def location(self) -> str:
        return f"{self.file_path}:{self.line_start}" if self.line_start else self.file_path


@dataclass(frozen=True)
class CheckovResults:
    failed: tuple[Finding, ...]
    inline_skipped: tuple[Finding, ...]
    passed_count: int
    resource_count: int
    parsing_errors: tuple[str, ...]
    checkov_version: str | None
    shape: str  # "dict" | "list" | "summary-only": which of the three shapes was read
    errored: tuple[Finding, ...] = ()  # checks that raised inside checkov (from its log)


@dataclass(frozen=True)
class CheckovRun:
    stdout: str
    stderr: str


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _finding(raw: object, file_prefix: str, skipped: bool) -> Finding:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("check_id"), str):
        raise GateError(
            f"checkov report: a check entry has no check_id ({str(raw)[:120]!r}); "
            "the checkov version does not match scripts/tools/checkov.lock; run ./dev setup"
        )
    lines = raw.get("file_line_range")
    start, end = (lines[0], lines[1]) if isinstance(lines, list) and len(lines) == 2 else (0, 0)
    file_path = str(raw.get("file_path") or "?").lstrip("/")
    suppress = raw.get("check_result")
    reason = None
    if skipped and isinstance(suppress, Mapping):
        reason = str(suppress.get("suppress_comment") or "no reason given")
    severity = raw.get("severity")
    guideline = raw.get("guideline")
    return Finding(
        check_id=raw["check_id"],
        check_name=str(raw.get("check_name") or ""),
        resource=str(raw.get("resource") or "?"),
        file_path=f"{file_prefix}{file_path}" if file_prefix else file_path,
        line_start=_int(start),
        line_end=_int(end),
        checkov_severity=severity if isinstance(severity, str) else None,
        guideline=guideline if isinstance(guideline, str) and guideline else None,
        inline_skip_reason=reason,
    )


def _entries(raw: Mapping[str, object], key: str) -> Sequence[object]:
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise GateError(f"checkov report: results.{key} is not a list; run ./dev setup")
    return value


def _summary_only(document: Mapping[str, object]) -> CheckovResults:
    summary_version = document.get("checkov_version")
    return CheckovResults(
        failed=(),
        inline_skipped=(),
        passed_count=_int(document.get("passed")),
        resource_count=_int(document.get("resource_count")),
        parsing_errors=(),
        checkov_version=summary_version if isinstance(summary_version, str) else None,
        shape="summary-only",
    )


def _resources_checked(results: Mapping[str, object]) -> int:
    """Distinct resources with a result: terraform_json's summary counts 0 however many."""
    return len(
        {
            str(entry.get("resource"))
            for key in ("passed_checks", "failed_checks", "skipped_checks")
            for entry in _entries(results, key)
            if isinstance(entry, Mapping)
        }
    )


def normalise_report(document: object, file_prefix: str = "") -> CheckovResults:
    """Any of checkov's three JSON shapes -> one :class:`CheckovResults`.

    ``file_prefix`` is put before checkov's scan-relative paths ("terraform/") so that every
    location reads from the repository root.
    """
    if isinstance(document, Mapping) and document.keys() >= _SUMMARY_KEYS:
        return _summary_only(document)
    if isinstance(document, Mapping) and "results" in document:
        reports: Sequence[object] = [document]
        shape = "dict"
    elif isinstance(document, list) and document:
        reports = document
        shape = "list"
    else:
        raise GateError(
            "checkov report: not one of checkov's JSON shapes (framework dict, list of them, "
            f"or summary); got {json.dumps(document)[:120]}; run ./dev setup to restore the "
            "pinned checkov"
        )
    failed: list[Finding] = []
    skipped: list[Finding] = []
    parsing_errors: list[str] = []
    passed = resources = 0
    version: str | None = None
    for report in reports:
        if not isinstance(report, Mapping) or not isinstance(report.get("results"), Mapping):
            raise GateError(
                f"checkov report: framework entry without results ({str(report)[:120]!r})"
            )
        results: Mapping[str, object] = report["results"]
        failed += [_finding(r, file_prefix, False) for r in _entries(results, "failed_checks")]
        skipped += [_finding(r, file_prefix, True) for r in _entries(results, "skipped_checks")]
        parsing_errors += [str(p) for p in _entries(results, "parsing_errors")]
        summary = report.get("summary")
        summary = summary if isinstance(summary, Mapping) else {}
        passed += _int(summary.get("passed"))
        resources += max(_int(summary.get("resource_count")), _resources_checked(results))
        found = summary.get("checkov_version")
        version = found if isinstance(found, str) else version
    return CheckovResults(
        failed=tuple(failed),
        inline_skipped=tuple(skipped),
        passed_count=passed,
        resource_count=resources,
        parsing_errors=tuple(parsing_errors),
        checkov_version=version,
        shape=shape,
    )


def parse_checkov_output(stdout: str, file_prefix: str = "") -> CheckovResults:
    """checkov's stdout -> results; empty or non-JSON output is an error, never a pass."""
    text = stdout.strip()
    if not text:
        raise GateError(
            "checkov printed nothing on stdout; it crashed before reporting. Run it by hand "
            "with the same arguments to see its log, or ./dev setup to reinstall it"
        )
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GateError(
            f"checkov output is not JSON ({exc.msg} at char {exc.pos}); starts with "
            f"{text[:120]!r}. Is `checkov` on PATH the pinned one? Run ./dev setup"
        ) from None
    return normalise_report(document, file_prefix)


def _log_records(stderr: str) -> list[tuple[str, str, list[str]]]:
    """checkov's log as (level, message, continuation lines such as a traceback)."""
    records: list[tuple[str, str, list[str]]] = []
    for line in stderr.splitlines():
        match = _LOG_RECORD.match(line)
        if match:
            records.append((match["level"], match["message"].strip(), []))
        elif records and line.strip():
            records[-1][2].append(line)
    return records


def _exception_line(continuation: list[str]) -> str:
    """The traceback's last line (``AttributeError: ...``), or what was logged instead."""
    tail = [line for line in continuation if not line.startswith((" ", "\t", "Traceback"))]
    return tail[-1].strip()[:200] if tail else "no traceback"


def _errored_check(match: re.Match[str], error: str, file_prefix: str) -> Finding:
    file_path, _, resource = match["where"].rpartition(":")
    file_path = file_path.lstrip("/") or "?"
    return Finding(
        check_id=match["check"],
        check_name="",
        resource=resource or "?",
        file_path=f"{file_prefix}{file_path}",
        line_start=0,
        line_end=0,
        checkov_severity=None,
        guideline=None,
        error=error,
    )


def parse_checkov_log(stderr: str, file_prefix: str = "") -> tuple[Finding, ...]:
    """Checks that raised inside checkov, from its stderr; any other sign that a rule was not
    applied (an ERROR record, a custom policy checkov skipped) is a :class:`GateError`."""
    errored: list[Finding] = []
    for level, message, continuation in _log_records(stderr):
        failed_check = _FAILED_CHECK.match(message)
        if failed_check and level in ("ERROR", "WARNI", "WARNING"):
            errored.append(_errored_check(failed_check, _exception_line(continuation), file_prefix))
        elif level in ("ERROR", "CRITI", "CRITICAL") or (
            level.startswith("WARN") and message.startswith(_SKIPPED_RULE_WARNINGS)
        ):
            raise GateError(
                f"checkov logged {level}: {message[:300]} ({_exception_line(continuation)}); a "
                "rule was not applied or code was not scanned, so the gate cannot pass this "
                "tree: fix what the line names (vendor a registry module under the terraform "
                "root, so that checkov can read it)"
            )
    return tuple(errored)


def _refuse_what_checkov_would_miss(terraform_dir: Path) -> None:
    """A config file that skips checks, or terraform in a file type checkov does not read."""
    if not terraform_dir.is_dir():
        raise GateError(f"{terraform_dir}: not a directory; pass the terraform root to scan")
    for name in _CONFIG_NAMES:
        if (terraform_dir / name).exists():
            raise GateError(
                f"{terraform_dir / name}: checkov config files are not allowed (a skip there "
                "hides failures from the gate); move skips to ci/policies/waivers.yml"
            )
    unscanned = sorted(
        path
        for path in terraform_dir.rglob("*")
        if path.name.endswith(UNSCANNED_SUFFIXES) and ".terraform" not in path.parts
    )
    if unscanned:
        raise GateError(
            f"{unscanned[0]}: checkov does not read {', '.join(UNSCANNED_SUFFIXES)} files, so "
            "the gate cannot judge them; write the configuration as .tf or .tf.json"
        )


def _clean_env(home: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in _ENV_ALLOWLIST if name in os.environ}
    env["HOME"] = home
    env["LOG_LEVEL"] = "WARNING"
    # checkov asks PyPI for a newer release on every start (importing checkov.main does): traffic
    # an offline gate must not send, and up to a second of waiting where the network answers.
    env["CKV_SKIP_PACKAGE_UPDATE_CHECK"] = "true"
    return env


def run_checkov(
    terraform_dir: Path,
    external_checks_dir: Path | None,
    checkov: str = "checkov",
    timeout_s: float = 900.0,
) -> CheckovRun:
    """Run checkov on ``terraform_dir``; its stdout is the JSON report, its stderr the log.

    Exit 0 (no failures) and 1 (failures) are both normal; anything else is a crash.
    """
    executable = shutil.which(checkov)
    if executable is None:
        raise GateError(
            f"checkov not found (looked for {checkov!r} on PATH); run ./dev setup, which "
            "installs the pinned version as .tools/bin/checkov (scripts/setup.d/30-checkov.sh)"
        )
    _refuse_what_checkov_would_miss(terraform_dir)
    executable = str(Path(executable).resolve())  # checkov runs in a scratch directory
    command = [executable, *CHECKOV_ARGS, "-d", str(terraform_dir.resolve())]
    if external_checks_dir is not None:
        command += ["--external-checks-dir", str(external_checks_dir.resolve())]
    with tempfile.TemporaryDirectory(prefix="shipyard-checkov-") as scratch:
        try:
            proc = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                cwd=scratch,
                env=_clean_env(scratch),
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise GateError(
                f"checkov did not finish within {timeout_s:.0f}s on {terraform_dir}; "
                "raise the timeout or scan a smaller tree"
            ) from None
        except OSError as exc:
            raise GateError(
                f"checkov ({executable}) could not be started: {exc.strerror}; run ./dev setup"
            ) from None
    if proc.returncode not in (0, 1):
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:]) or "no stderr"
        raise GateError(
            f"checkov crashed (exit {proc.returncode}) on {terraform_dir}: {tail[:400]}; "
            "run it by hand to see the whole log"
        )
    return CheckovRun(proc.stdout, proc.stderr)
