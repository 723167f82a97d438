"""SIGINT/SIGTERM turned into a flag and a deadline that the engine's waits look at.

A handler that raised inside the engine could land between an UpdateService and the line that
records its deployment id, so the handler only notes the signal. The engine's sleeps wake up at
once (the signal writes to a wakeup socket), its watches stop, it rolls back what it touched and
watches that until the deadline: `grace` seconds after the first signal, cut to `LAST_WORDS`
seconds by a second one (GitHub sends SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s after that).
"""

from __future__ import annotations

import math
import select
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM)
# After a second signal: enough to write the report before a SIGKILL 2.5 s later.
LAST_WORDS = 1.0


class Interruption:
    """The signals a run received; `install()` routes SIGINT/SIGTERM here."""

    def __init__(self, grace: float = 7.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.grace = grace
        self.clock = clock
        self.signals: list[int] = []
        self._deadline = math.inf
        self._wake_reader: socket.socket | None = None

    @property
    def requested(self) -> bool:
        return bool(self.signals)

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signals[0]).name if self.signals else "no signal"

    def deadline(self) -> float:
        """When watching must stop; infinite until a signal arrives."""
        return self._deadline

    def past_deadline(self) -> bool:
        return self.clock() >= self._deadline

    def note(self, signum: int) -> None:
        """Record a signal: the first starts the grace time, each further one shortens it."""
        now = self.clock()
        budget = self.grace if not self.signals else LAST_WORDS
        self.signals.append(signum)
        self._deadline = min(self._deadline, now + budget)

    def sleep(self, seconds: float) -> None:
        """Sleep, waking up early when a signal arrives (once per signal)."""
        if self._wake_reader is None:
            time.sleep(max(0.0, seconds))
            return
        readable, _, _ = select.select([self._wake_reader], [], [], max(0.0, seconds))
        if readable:
            try:
                while self._wake_reader.recv(64):
                    pass
            except BlockingIOError:
                pass

    def exit_code(self) -> int:
        """The shell's code for death by the first signal: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + self.signals[0] if self.signals else 0

    @contextmanager
    def install(self) -> Iterator[Interruption]:
        """Handle SIGINT/SIGTERM (main thread only) until the block ends."""

        def handler(signum: int, _frame: FrameType | None) -> None:
            self.note(signum)

        reader, writer = socket.socketpair()
        for end in (reader, writer):
            end.setblocking(False)
        self._wake_reader = reader
        previous = {signum: signal.signal(signum, handler) for signum in HANDLED}
        previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        try:
            yield self
        finally:
            signal.set_wakeup_fd(previous_fd)
            for signum, action in previous.items():
                signal.signal(signum, action)
            self._wake_reader = None
            reader.close()
            writer.close()
