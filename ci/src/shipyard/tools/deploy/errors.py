"""The deploy domain's one exception type, and keeping credentials out of what it says."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

LineLogger = Callable[[str], None]


class DeployError(Exception):
    """A deploy, plan, verify or rollback cannot go on; the message names the thing and the fix."""


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def redacting(log: LineLogger, secrets: tuple[str, ...]) -> LineLogger:
    """A logger that never lets a credential through, whatever a message contains."""

    def write(line: str) -> None:
        log(redact(line, secrets))

    return write


@contextmanager
def redacted_errors(secrets: tuple[str, ...]) -> Iterator[None]:
    """DeployErrors leave without any credential in their text."""
    try:
        yield
    except DeployError as error:
        raise DeployError(redact(str(error), secrets)) from None
