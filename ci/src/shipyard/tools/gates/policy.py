"""The severity policy and the waivers: the repository's own answer to "how bad is this check?".

Open-source checkov reports ``severity: null`` for its built-in checks when it runs offline, so
a gate that reads checkov's severities can never block. The severity of every check we care
about is therefore kept in ``ci/policies/severity.yml`` (check id -> severity and a one-line
reason); the platform's own custom policies (``ci/policies/custom/*.yaml``) carry theirs in
``metadata.severity``, which checkov does report offline. Waivers live in
``ci/policies/waivers.yml``: a check (optionally one resource), a reason, an optional expiry.

Everything here is pure except :func:`load_policy`, which only reads the three places.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from shipyard.tools.gates.errors import GateError

SEVERITY_FILE = "severity.yml"
WAIVERS_FILE = "waivers.yml"
CUSTOM_DIR = "custom"


class Severity(enum.IntEnum):
    """Ordered so that ``severity >= threshold`` reads as "blocks"."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, value: object, where: str) -> Severity:
        if isinstance(value, str) and value.strip().upper() in cls.__members__:
            return cls[value.strip().upper()]
        names = ", ".join(cls.__members__)
        raise GateError(f"{where}: severity {value!r} is not one of {names}; use one of them")


@dataclass(frozen=True)
class SeverityEntry:
    check_id: str
    severity: Severity
    reason: str
    fix: str | None = None


@dataclass(frozen=True)
class Waiver:
    """Accepts a failing check, for one resource (address) or, when ``resource`` is None, all."""

    check_id: str
    resource: str | None
    reason: str
    expires: dt.date | None

    def covers(self, check_id: str, resource: str) -> bool:
        return self.check_id == check_id and self.resource in (None, resource)

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires


@dataclass(frozen=True)
class Policy:
    severities: Mapping[str, SeverityEntry]
    waivers: tuple[Waiver, ...]
    severity_file: str
    waivers_file: str
    custom_dir: Path | None

    def severity_of(self, check_id: str) -> SeverityEntry | None:
        return self.severities.get(check_id)

    def waiver_for(self, check_id: str, resource: str) -> Waiver | None:
        """The most specific waiver: one naming the resource beats one for the whole check."""
        matching = [w for w in self.waivers if w.covers(check_id, resource)]
        matching.sort(key=lambda w: w.resource is None)
        return matching[0] if matching else None


def severity_line(check_id: str, check_name: str) -> str:
    """The exact YAML line to add under ``checks:`` for an unmapped check."""
    reason = check_name.replace('"', "'") or "why this tier"
    return f'  {check_id}: {{severity: HIGH, reason: "{reason}"}}'


def _mapping(value: object, where: str, fix: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise GateError(f"{where}: expected a mapping, got {type(value).__name__}; {fix}")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise GateError(f"{where}: a non-empty one-line text is required here; add it")
    return value.strip()


def _optional_text(value: object, where: str) -> str | None:
    if value is None:
        return None
    return _text(value, where)


def parse_severities(document: object, source: str) -> dict[str, SeverityEntry]:
    """``{schema_version: 1, checks: {CHECK_ID: {severity: X, reason: Y}}}`` -> entries."""
    top = _mapping(document, source, "the file starts with `checks:`")
    checks = _mapping(top.get("checks"), f"{source} `checks`", "list checks under `checks:`")
    entries: dict[str, SeverityEntry] = {}
    for check_id, body in checks.items():
        where = f"{source} `{check_id}`"
        fields = _mapping(body, where, 'write `{severity: HIGH, reason: "..."}`')
        entries[str(check_id)] = SeverityEntry(
            check_id=str(check_id),
            severity=Severity.parse(fields.get("severity"), where),
            reason=_text(fields.get("reason"), where),
            fix=_optional_text(fields.get("fix"), f"{where} fix"),
        )
    return entries


def _date(value: object, where: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise GateError(f"{where}: expires {value!r} is not a date; write it as YYYY-MM-DD")


def parse_waivers(document: object, source: str) -> tuple[Waiver, ...]:
    """``{schema_version: 1, waivers: [{check, resource?, reason, expires?}]}`` -> waivers."""
    if document is None:
        return ()
    top = _mapping(document, source, "the file starts with `waivers:`")
    items = top.get("waivers") or []
    if not isinstance(items, list):
        raise GateError(f"{source} `waivers`: expected a list; write each waiver as `- check: ...`")
    waivers: list[Waiver] = []
    for index, item in enumerate(items):
        where = f"{source} waiver #{index + 1}"
        fields = _mapping(item, where, "write `- {check: CKV_..., reason: ...}`")
        check_id = fields.get("check")
        if not isinstance(check_id, str) or not check_id:
            raise GateError(f"{where}: `check` (the check id) is required")
        resource = fields.get("resource")
        if resource is not None and not isinstance(resource, str):
            raise GateError(f"{where}: `resource` must be a resource address like aws_x.name")
        waivers.append(
            Waiver(
                check_id=check_id,
                resource=resource,
                reason=_text(fields.get("reason"), where),
                expires=_date(fields.get("expires"), where),
            )
        )
    return tuple(waivers)


def parse_custom_policy(document: object, source: str) -> SeverityEntry:
    """A custom checkov YAML policy must declare id, name and a valid ``metadata.severity``."""
    top = _mapping(document, source, "a checkov YAML policy has `metadata:` and `definition:`")
    meta = _mapping(top.get("metadata"), f"{source} `metadata`", "add `metadata:`")
    check_id = meta.get("id")
    if not isinstance(check_id, str) or not check_id:
        raise GateError(f"{source}: `metadata.id` is required (e.g. CKV2_SHIPYARD_9)")
    where = f"{source} `{check_id}`"
    if "definition" not in top:
        raise GateError(f"{where}: `definition:` is missing; checkov would ignore this policy")
    return SeverityEntry(
        check_id=check_id,
        severity=Severity.parse(meta.get("severity"), f"{where} metadata.severity"),
        reason=_text(meta.get("name"), f"{where} metadata.name"),
        fix=_optional_text(meta.get("guideline"), f"{where} metadata.guideline"),
    )


def _read_yaml(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GateError(f"{path}: cannot be read ({exc.strerror}); restore it from git") from None
    except yaml.YAMLError as exc:
        raise GateError(f"{path}: is not valid YAML ({exc}); fix the syntax") from None


def load_policy(policy_dir: Path) -> Policy:
    """Read ``severity.yml``, ``waivers.yml`` (optional) and ``custom/*.yaml`` from one folder.

    A check id that is both a custom policy and in severity.yml is an error: one source each.
    """
    severity_path = policy_dir / SEVERITY_FILE
    if not severity_path.is_file():
        raise GateError(
            f"{severity_path}: the severity policy is missing; create it with a `checks:` mapping"
        )
    severities = parse_severities(_read_yaml(severity_path), str(severity_path))
    waivers_path = policy_dir / WAIVERS_FILE
    waivers = (
        parse_waivers(_read_yaml(waivers_path), str(waivers_path))
        if (waivers_path.is_file())
        else ()
    )
    custom_dir = policy_dir / CUSTOM_DIR
    if custom_dir.is_dir():
        for path in sorted(custom_dir.glob("*.yaml")) + sorted(custom_dir.glob("*.yml")):
            entry = parse_custom_policy(_read_yaml(path), str(path))
            if entry.check_id in severities:
                raise GateError(
                    f"{entry.check_id} is defined both in {path} and in {severity_path}; "
                    f"keep its severity in the custom policy only and remove it from "
                    f"{severity_path}"
                )
            severities[entry.check_id] = entry
    return Policy(
        severities=severities,
        waivers=waivers,
        severity_file=str(severity_path),
        waivers_file=str(waivers_path),
        custom_dir=custom_dir if custom_dir.is_dir() else None,
    )
