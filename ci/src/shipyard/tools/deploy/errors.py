"""The deploy domain's one exception type, and keeping credentials out of what it says."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

LineLogger = Callable[[str], None]
T = TypeVar("T")


class DeployError(Exception):
    """A deploy, plan, verify or rollback cannot go on; the message names the thing and the fix.

    `transient` marks throttling and 5xx answers that outlasted botocore's retries: a watch
    polls again instead of deciding anything from them.
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


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


def scrubbed(value: T, secrets: tuple[str, ...]) -> T:
    """`value` (a report, an outcome, a dossier, ...) with every credential in its text hidden."""
    if not secrets:
        return value
    if isinstance(value, str):
        return redact(value, secrets)  # type: ignore[return-value]
    if isinstance(value, list | tuple):
        return type(value)(scrubbed(item, secrets) for item in value)
    if isinstance(value, dict):
        return {k: scrubbed(v, secrets) for k, v in value.items()}  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: scrubbed(getattr(value, f.name), secrets) for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    return value
