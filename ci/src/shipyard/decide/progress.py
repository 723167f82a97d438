"""What a person watching a run sees: a line when a stage starts, a line when it ends (verdict,
seconds), and a live line while a stage waits on the world (a rollout, a smoke run).

The compositions announce stages here; whoever watches (the client CLI) subscribes with
:func:`watching`. Nobody watching costs nothing. :class:`ProgressView` turns the announcements
into lines; it decides, the caller prints.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Final

# Stages that wait on something outside the engine, and so earn a live line on a terminal.
WAITING: Final = frozenset({"deploy", "smoke", "rollback"})
MARKS: Final = {"passed": "✔", "failed": "✖", "skipped": "·", "warned": "!"}
SUMMARY_WIDTH: Final = 90


@dataclass(frozen=True)
class StageEvent:
    """A stage started (no verdict yet) or ended."""

    stage: str
    verdict: str = ""
    seconds: float = 0.0
    summary: str = ""

    @property
    def ended(self) -> bool:
        return bool(self.verdict)


Observer = Callable[[StageEvent], None]
_observer: ContextVar[Observer | None] = ContextVar("shipyard_stage_observer", default=None)
_scope: ContextVar[str] = ContextVar("shipyard_stage_scope", default="")


@contextlib.contextmanager
def watching(observer: Observer) -> Iterator[None]:
    """Send every stage announcement made in this context (and the tasks it starts) to
    `observer`."""
    token = _observer.set(observer)
    try:
        yield
    finally:
        _observer.reset(token)


@contextlib.contextmanager
def scope(prefix: str) -> Iterator[None]:
    """Name the stages announced inside as `prefix/stage` (a rehearsal's environments)."""
    token = _scope.set(prefix)
    try:
        yield
    finally:
        _scope.reset(token)


def announce(stage: str, verdict: str = "", seconds: float = 0.0, summary: str = "") -> None:
    observer = _observer.get()
    if observer is None:
        return
    prefix = _scope.get()
    name = f"{prefix}/{stage}" if prefix else stage
    observer(StageEvent(name, verdict, seconds, summary))


def cut(text: str, width: int) -> str:
    """One line at most `width` characters, cut at a word unless that word is most of the line
    (an image address)."""
    if len(text) <= width:
        return text
    head = text[: width - 2]
    at_word = head.rsplit(" ", 1)[0].rstrip(",;:")
    return (at_word if len(at_word) >= width // 2 else head) + " …"


def waits(stage: str) -> bool:
    return stage.rpartition("/")[2] in WAITING


def started_line(stage: str) -> str:
    return f"▶ {stage}"


def ended_line(event: StageEvent, width: int = SUMMARY_WIDTH) -> str:
    """`✔ staging/deploy passed in 41.2 s: tiles, timeseries rolled out` on one line."""
    mark = MARKS.get(event.verdict, "•")
    head = f"{mark} {event.stage} {event.verdict}"
    if event.verdict != "skipped":
        head += f" in {event.seconds:.1f} s"
    first = next((line.strip() for line in event.summary.splitlines() if line.strip()), "")
    # An informational stage's summary starts with its verdict ("skipped: no token"): once.
    first = first.removeprefix(f"{event.verdict}: ")
    return f"{head}: {cut(first, width)}" if first else head


def waiting_line(stages: list[str], elapsed: dict[str, float]) -> str:
    """The live line: what is waiting, and for how long."""
    return "  … " + ", ".join(f"{stage} waiting {elapsed[stage]:.0f} s" for stage in stages)


@dataclass
class ProgressView:
    """Announcements in, lines out: each stage's start once, its end once (a stage can be
    announced as ended twice: by the step that ran it and by the ledger that records it)."""

    started: dict[str, float] = field(default_factory=dict)
    ended: set[str] = field(default_factory=set)

    def lines(self, event: StageEvent, now: float) -> list[str]:
        if not event.ended:
            if event.stage in self.started:
                return []
            self.started[event.stage] = now
            return [started_line(event.stage)]
        if event.stage in self.ended:
            return []
        self.ended.add(event.stage)
        return [ended_line(event)]

    def waiting(self, now: float) -> str:
        """The live line for the stages still waiting, or "" when none is."""
        open_stages = [s for s in self.started if s not in self.ended and waits(s)]
        if not open_stages:
            return ""
        return waiting_line(open_stages, {s: now - self.started[s] for s in open_stages})
