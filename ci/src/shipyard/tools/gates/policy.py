"""The severity policy and the waivers: the repository's own answer to "how bad is this check?".

Open-source checkov reports ``severity: null`` for its built-in checks when it runs offline, so
a gate that reads checkov's severities can never block. The severity of every check we care
about is therefore kept in ``ci/policies/severity.yml`` (check id -> severity and a one-line
reason); the platform's own custom policies (``ci/policies/custom/``) carry theirs in
``metadata.severity``, which checkov does report offline. Waivers live in
``ci/policies/waivers.yml``: a check, the resource or module address it covers, a reason and an
expiry at most :data:`MAX_WAIVER_DAYS` ahead.

Every file is read strictly: a key written twice (YAML keeps the last one silently) or a field
the gate does not know is refused with the field named, because a misspelt field is a rule that
silently does not apply. Every file checkov would load as a custom policy is read here too.

Everything here is pure except :func:`load_policy`, which only reads the three places.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
from collections.abc import Collection, Hashable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from shipyard.tools.gates.errors import GateError

SEVERITY_FILE = "severity.yml"
WAIVERS_FILE = "waivers.yml"
CUSTOM_DIR = "custom"
MAX_WAIVER_DAYS = 180
# The extensions checkov loads as YAML/JSON policies from --external-checks-dir, at any depth
# (checkov.common.checks_infra.registry.CHECKS_POSSIBLE_ENDING).
POLICY_SUFFIXES = (".yaml", ".yml", ".json")
_SEVERITY_FIELDS = frozenset({"schema_version", "checks"})
_SEVERITY_ENTRY_FIELDS = frozenset({"severity", "reason", "fix"})
_WAIVERS_FIELDS = frozenset({"schema_version", "waivers"})
_WAIVER_FIELDS = frozenset({"check", "resource", "reason", "expires"})
_CUSTOM_FIELDS = frozenset({"metadata", "scope", "definition"})
_CUSTOM_METADATA_FIELDS = frozenset(
    {"id", "name", "category", "severity", "guideline", "frameworks"}
)
# One address step: `module.name`, or `type.name`, each with an optional [index] / ["key"].
_INDEX = r'(\[(?:\d+|"[^"\]]*")\])?'
_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_MODULE_ADDRESS = re.compile(rf"module\.{_NAME}{_INDEX}(\.module\.{_NAME}{_INDEX})*")
_RESOURCE_ADDRESS = re.compile(rf"(module\.{_NAME}{_INDEX}\.)*(data\.)?{_NAME}\.{_NAME}{_INDEX}")


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
    """Accepts a failing check on one resource address, or on every resource inside one module
    address (``module.alb`` covers ``module.alb.aws_lb.this`` and ``module.alb["a"].x.y``)."""

    check_id: str
    resource: str
    reason: str
    expires: dt.date

    def covers(self, check_id: str, resource: str) -> bool:
        if self.check_id != check_id:
            return False
        if resource == self.resource:
            return True
        return self.is_module and resource.startswith((f"{self.resource}.", f"{self.resource}["))

    @property
    def is_module(self) -> bool:
        return _MODULE_ADDRESS.fullmatch(self.resource) is not None

    def expired(self, today: dt.date) -> bool:
        return today > self.expires


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
        """The most specific waiver: the longest address that covers the resource."""
        matching = [w for w in self.waivers if w.covers(check_id, resource)]
        matching.sort(key=lambda w: -len(w.resource))
        return matching[0] if matching else None


def severity_line(check_id: str, check_name: str) -> str:
    """The exact YAML line to add under ``checks:`` for an unmapped check."""
    reason = check_name.replace('"', "'") or "why this tier"
    return f'  {check_id}: {{severity: HIGH, reason: "{reason}"}}'


def _mapping(value: object, where: str, fix: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise GateError(f"{where}: expected a mapping, got {type(value).__name__}; {fix}")
    return value


def _known_fields(fields: Mapping[str, object], allowed: Collection[str], where: str) -> None:
    unknown = sorted(str(name) for name in fields if name not in allowed)
    if unknown:
        known = ", ".join(sorted(allowed))
        raise GateError(
            f"{where}: unknown field `{unknown[0]}` (the fields are: {known}); fix its spelling "
            "or remove it: the gate does not guess what an unknown field means"
        )


def _schema_version(top: Mapping[str, object], where: str) -> None:
    version = top.get("schema_version", 1)
    if version != 1 or isinstance(version, bool):
        raise GateError(f"{where} `schema_version`: {version!r} is not supported; write 1")


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
    _known_fields(top, _SEVERITY_FIELDS, source)
    _schema_version(top, source)
    checks = _mapping(top.get("checks"), f"{source} `checks`", "list checks under `checks:`")
    entries: dict[str, SeverityEntry] = {}
    for check_id, body in checks.items():
        where = f"{source} `{check_id}`"
        fields = _mapping(body, where, 'write `{severity: HIGH, reason: "..."}`')
        _known_fields(fields, _SEVERITY_ENTRY_FIELDS, where)
        entries[str(check_id)] = SeverityEntry(
            check_id=str(check_id),
            severity=Severity.parse(fields.get("severity"), where),
            reason=_text(fields.get("reason"), where),
            fix=_optional_text(fields.get("fix"), f"{where} fix"),
        )
    return entries


def _expiry(value: object, where: str, today: dt.date) -> dt.date:
    """A required date at most MAX_WAIVER_DAYS ahead (a past date loads, and then blocks)."""
    if value is None:
        raise GateError(
            f"{where}: `expires` is required (YYYY-MM-DD, at most {MAX_WAIVER_DAYS} days ahead); "
            "a waiver that never ends is never looked at again"
        )
    date: dt.date | None = None
    if isinstance(value, dt.datetime):
        date = value.date()
    elif isinstance(value, dt.date):
        date = value
    elif isinstance(value, str):
        try:
            date = dt.date.fromisoformat(value)
        except ValueError:
            date = None
    if date is None:
        raise GateError(f"{where}: expires {value!r} is not a date; write it as YYYY-MM-DD")
    latest = today + dt.timedelta(days=MAX_WAIVER_DAYS)
    if date > latest:
        raise GateError(
            f"{where}: expires {date.isoformat()} is more than {MAX_WAIVER_DAYS} days ahead; "
            f"write {latest.isoformat()} or earlier and renew it when it runs out"
        )
    return date


def _address(value: object, where: str) -> str:
    """The resource or module address a waiver covers; a pattern that matches all is refused."""
    if value is None:
        raise GateError(
            f"{where}: `resource` is required: the resource address (aws_s3_bucket.logs, "
            "module.alb.aws_lb.this) or module address (module.alb) the waiver covers"
        )
    if not isinstance(value, str) or not value.strip():
        raise GateError(f"{where}: `resource` must be a resource or module address, got {value!r}")
    address = value.strip()
    if address.strip("*.?[] ") == "" or any(char in address for char in "*?"):
        raise GateError(
            f"{where}: `resource` {address!r} would match every resource; name one resource "
            "address (aws_x.name) or one module (module.name)"
        )
    if not (_RESOURCE_ADDRESS.fullmatch(address) or _MODULE_ADDRESS.fullmatch(address)):
        raise GateError(
            f"{where}: `resource` {address!r} is not a resource address (type.name, "
            'module.m.type.name, with [index] or ["key"]) or a module address (module.m); '
            "copy the address from the gate's report"
        )
    return address


def _check_id(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise GateError(f"{where}: `check` (the check id) is required")
    if re.fullmatch(r"[A-Za-z0-9_]+", value) is None:
        raise GateError(f"{where}: `check` {value!r} is not one check id like CKV_AWS_20")
    return value


def parse_waivers(document: object, source: str, today: dt.date) -> tuple[Waiver, ...]:
    """``{schema_version: 1, waivers: [{check, resource, reason, expires}]}`` -> waivers.

    Every field is required; ``expires`` is at most MAX_WAIVER_DAYS after ``today``.
    """
    if document is None:
        return ()
    top = _mapping(document, source, "the file starts with `waivers:`")
    _known_fields(top, _WAIVERS_FIELDS, source)
    _schema_version(top, source)
    items = top.get("waivers") or []
    if not isinstance(items, list):
        raise GateError(f"{source} `waivers`: expected a list; write each waiver as `- check: ...`")
    waivers: list[Waiver] = []
    for index, item in enumerate(items):
        where = f"{source} waiver #{index + 1}"
        fields = _mapping(item, where, "write `- {check: CKV_..., resource: ..., reason: ...}`")
        _known_fields(fields, _WAIVER_FIELDS, where)
        check_id = _check_id(fields.get("check"), where)
        waiver = Waiver(
            check_id=check_id,
            resource=_address(fields.get("resource"), where),
            reason=_text(fields.get("reason"), f"{where} reason"),
            expires=_expiry(fields.get("expires"), where, today),
        )
        for number, earlier in enumerate(waivers, start=1):
            if (earlier.check_id, earlier.resource) == (waiver.check_id, waiver.resource):
                raise GateError(f"{where}: repeats waiver #{number} (same check and resource)")
        waivers.append(waiver)
    return tuple(waivers)


def parse_custom_policy(document: object, source: str) -> SeverityEntry:
    """A custom checkov policy must carry everything checkov needs to load it (or checkov skips
    it with a warning and the rule silently never runs) and a valid ``metadata.severity``."""
    top = _mapping(document, source, "a checkov YAML policy has `metadata:` and `definition:`")
    _known_fields(top, _CUSTOM_FIELDS, source)
    meta = _mapping(top.get("metadata"), f"{source} `metadata`", "add `metadata:`")
    _known_fields(meta, _CUSTOM_METADATA_FIELDS, f"{source} `metadata`")
    check_id = meta.get("id")
    if not isinstance(check_id, str) or not check_id:
        raise GateError(f"{source}: `metadata.id` is required (e.g. CKV2_SHIPYARD_9)")
    where = f"{source} `{check_id}`"
    if not isinstance(top.get("definition"), Mapping | list):
        raise GateError(f"{where}: `definition:` is missing; checkov would ignore this policy")
    _text(meta.get("category"), f"{where} metadata.category (checkov skips a policy without it)")
    frameworks = meta.get("frameworks")
    if frameworks is not None and not (isinstance(frameworks, list) and "terraform" in frameworks):
        raise GateError(
            f"{where} metadata.frameworks: {frameworks!r} leaves out terraform, so the gate "
            "would never run it; remove `frameworks` or list terraform"
        )
    _check_regexes(top.get("definition"), where)
    return SeverityEntry(
        check_id=check_id,
        severity=Severity.parse(meta.get("severity"), f"{where} metadata.severity"),
        reason=_text(meta.get("name"), f"{where} metadata.name"),
        fix=_optional_text(meta.get("guideline"), f"{where} metadata.guideline"),
    )


def _check_regexes(definition: object, where: str) -> None:
    """Every regex a policy matches with must compile: checkov logs a warning for one that does
    not and treats the condition as unmet, which passes every resource under not_regex_match."""
    pending = [definition]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending += node
        elif isinstance(node, Mapping):
            pending += list(node.values())
            operator = node.get("operator")
            if isinstance(operator, str) and "regex" in operator:
                try:
                    re.compile(str(node.get("value")))
                except re.error as exc:
                    raise GateError(
                        f"{where}: {operator} value {node.get('value')!r} is not a valid regex "
                        f"({exc}); checkov would skip the condition silently"
                    ) from None


class DuplicateKeyError(yaml.YAMLError):
    """One mapping names the same key twice (YAML and JSON loaders keep the last silently)."""

    def __init__(self, key: object, first_line: int | None, second_line: int | None) -> None:
        where = f" (lines {first_line} and {second_line})" if first_line and second_line else ""
        super().__init__(f"key {key!r} appears twice in one mapping{where}")


class _StrictLoader(yaml.SafeLoader):
    pass


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> object:
    seen: dict[object, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if isinstance(key, Hashable):
            if key in seen:
                raise DuplicateKeyError(key, seen[key], line)
            seen[key] = line
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def _unique_json_object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    document: dict[str, object] = {}
    for key, value in pairs:
        if key in document:
            raise DuplicateKeyError(key, None, None)
        document[key] = value
    return document


def _read_policy_file(path: Path) -> object:
    """YAML (or JSON for ``.json``, as checkov reads it), refusing keys written twice."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GateError(f"{path}: cannot be read ({exc}); restore it from git") from None
    try:
        if path.suffix == ".json":
            return json.loads(text, object_pairs_hook=_unique_json_object)
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except DuplicateKeyError as exc:
        raise GateError(f"{path}: {exc}; keep one (the gate does not pick one for you)") from None
    except (yaml.YAMLError, ValueError) as exc:
        raise GateError(f"{path}: is not valid YAML/JSON ({exc}); fix the syntax") from None


def custom_policy_files(custom_dir: Path) -> Iterator[Path]:
    """Every file checkov would load from ``custom_dir`` as a policy, at any depth.

    A Python check is refused: it runs code inside checkov (it can change what the report says)
    and declares no severity the gate can validate.
    """
    for path in sorted(custom_dir.rglob("*")):
        if path.is_file() and path.suffix == ".py":
            raise GateError(
                f"{path}: Python checks are not allowed in the policy folder (checkov would run "
                "its code); write the rule as a YAML policy with metadata.severity"
            )
        if path.is_file() and path.suffix in POLICY_SUFFIXES:
            yield path


def load_policy(policy_dir: Path, today: dt.date | None = None) -> Policy:
    """Read ``severity.yml``, ``waivers.yml`` (optional) and every policy under ``custom/``.

    A check id that is both a custom policy and in severity.yml, or in two custom policies
    (checkov keeps the first it meets), is an error: one source each.
    """
    today = today or dt.date.today()
    severity_path = policy_dir / SEVERITY_FILE
    if not severity_path.is_file():
        raise GateError(
            f"{severity_path}: the severity policy is missing; create it with a `checks:` mapping"
        )
    severities = parse_severities(_read_policy_file(severity_path), str(severity_path))
    waivers_path = policy_dir / WAIVERS_FILE
    waivers = (
        parse_waivers(_read_policy_file(waivers_path), str(waivers_path), today)
        if waivers_path.is_file()
        else ()
    )
    custom_dir = policy_dir / CUSTOM_DIR
    custom_sources: dict[str, Path] = {}
    for path in custom_policy_files(custom_dir) if custom_dir.is_dir() else ():
        entry = parse_custom_policy(_read_policy_file(path), str(path))
        if entry.check_id in custom_sources:
            raise GateError(
                f"{entry.check_id} is defined both in {custom_sources[entry.check_id]} and in "
                f"{path}; checkov runs only one of them: give each policy its own id"
            )
        if entry.check_id in severities:
            raise GateError(
                f"{entry.check_id} is defined both in {path} and in {severity_path}; "
                f"keep its severity in the custom policy only and remove it from "
                f"{severity_path}"
            )
        custom_sources[entry.check_id] = path
        severities[entry.check_id] = entry
    return Policy(
        severities=severities,
        waivers=waivers,
        severity_file=str(severity_path),
        waivers_file=str(waivers_path),
        custom_dir=custom_dir if custom_dir.is_dir() else None,
    )
