"""The run's own record on disk: an append-only journal and the report, both written as it goes.

`<operation>-journal.jsonl` gets one JSON line per step (restore point, marker, registration,
update, verdict, rollback, signal), flushed and synced before the next step, so a run killed at
any moment leaves every step it took. The report files are replaced atomically at each
checkpoint, so a reader never sees half a report. Credentials are hidden in both.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shipyard.tools.deploy.errors import scrubbed
from shipyard.tools.deploy.report import DeployReport


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Journal:
    """Steps and report checkpoints of one run; with no directory they are only kept in memory."""

    def __init__(self, directory: Path | None = None, operation: str = "deploy") -> None:
        self.directory = directory
        self.operation = operation
        self.entries: list[dict[str, Any]] = []
        self.secrets: tuple[str, ...] = ()

    @property
    def path(self) -> Path | None:
        return self.directory / f"{self.operation}-journal.jsonl" if self.directory else None

    def hide(self, secrets: tuple[str, ...]) -> None:
        self.secrets = tuple(dict.fromkeys((*self.secrets, *secrets)))

    def record(self, event: str, **fields: Any) -> None:
        entry = scrubbed({"at": now_iso(), "event": event, **fields}, self.secrets)
        self.entries.append(entry)
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as journal:
            journal.write(json.dumps(entry, sort_keys=True) + "\n")
            journal.flush()
            os.fsync(journal.fileno())

    def checkpoint(self, report: DeployReport) -> tuple[Path, Path] | None:
        """Write the report as it stands (verdict `in_progress` until the run has one)."""
        if self.directory is None:
            return None
        return scrubbed(report, self.secrets).write(self.directory)
