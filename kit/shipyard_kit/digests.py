"""Input digests: what a step was built from, and the stamps that let a warm run skip it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from shipyard_kit.settings import STATE


def digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:16]


def tree_digest(root: Path) -> str:
    parts: list[str | bytes] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not is_bytecode(p)):
        parts += [str(path.relative_to(root)), path.read_bytes()]
    return digest(*parts)


def is_bytecode(path: Path) -> bool:
    """Python's byte-code caches, written beside sources by whatever imported them."""
    return "__pycache__" in path.parts or path.suffix == ".pyc"


def file_digest(path: Path) -> str:
    return content_digest(path).removeprefix("sha256:")[:16]


def bytes_digest(data: bytes) -> str:
    """Bytes' content address as registries name blobs: `sha256:<hex>`."""
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def content_digest(path: Path) -> str:
    """A file's content address, as bytes_digest gives it, read in blocks."""
    h = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            h.update(block)
    return f"sha256:{h.hexdigest()}"


@dataclass
class Stamps:
    """Input digests of finished steps, so a warm run skips them."""

    root: Path = field(default_factory=lambda: STATE / "stamps")

    def matches(self, step: str, inputs: str) -> bool:
        path = self.root / step
        return path.exists() and path.read_text().strip() == inputs

    def record(self, step: str, inputs: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / step).write_text(inputs + "\n")
