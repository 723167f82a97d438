"""Pipeline notifications to a Slack-compatible incoming webhook.

``await notify(webhook, Notification(...), on_success=False)`` posts one message (stage,
commit, environment, verdict, summary, link) when the stage failed, and on success only when
asked. Delivery is best effort: a webhook that is down, slow, refuses or is misconfigured
produces a warning (logged and returned in :class:`NotifyResult`) and never an exception, so a
notification can never change the pipeline's verdict.

The webhook URL is a secret (anyone holding it can post to the channel): it is wrapped in
:class:`WebhookUrl`, whose ``repr``/``str`` are redacted, and every text we log or return is
scrubbed of it, including httpx's exception messages.

Pure parts: :func:`should_notify`, :func:`build_message`, :func:`scrub`. I/O: :func:`notify`.
CLI: ``SHIPYARD_WEBHOOK_URL=... python -m shipyard.tools.notify --stage deploy --verdict failed``
(the URL is read from the environment, never from the command line).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio
import httpx

log = logging.getLogger(__name__)
WEBHOOK_ENV = "SHIPYARD_WEBHOOK_URL"
_FAILED_VERDICTS = frozenset({"failed", "fail", "blocked", "rolled-back", "error"})


class NotifyError(Exception):
    """A notification was configured wrongly (the message names what and how to fix it)."""


class WebhookUrl:
    """A webhook URL that never shows itself in logs, reprs or exception texts."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("https", "http") or not parts.netloc:
            # Say what is wrong without echoing the value: it may be a real secret pasted wrong.
            raise NotifyError(
                f"webhook URL is not an http(s) URL (scheme {parts.scheme or 'missing'!r}); "
                f"set {WEBHOOK_ENV} to the incoming-webhook URL"
            )
        self._value = value.strip()

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "WebhookUrl('***')"

    __str__ = __repr__


@dataclass(frozen=True)
class Notification:
    stage: str
    commit: str
    environment: str
    verdict: str  # e.g. passed / failed / blocked / rolled-back
    summary: str
    link: str | None = None

    @property
    def failed(self) -> bool:
        return self.verdict.lower() in _FAILED_VERDICTS


@dataclass(frozen=True)
class NotifyResult:
    sent: bool
    status_code: int | None = None
    warning: str | None = None
    skipped: str | None = None


def should_notify(notification: Notification, on_success: bool) -> bool:
    return notification.failed or on_success


def _escape(text: str) -> str:
    """Slack mrkdwn control characters (& < >) would otherwise be read as markup or links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_message(notification: Notification) -> dict[str, object]:
    """The Slack-compatible payload: ``text`` for every client, ``blocks`` for Slack."""
    n = notification
    icon = ":x:" if n.failed else ":white_check_mark:"
    short = n.commit[:12]
    headline = f"{icon} {n.stage} {n.verdict} on {n.environment} at {short}"
    lines = [
        f"{icon} *{_escape(n.stage)}* {_escape(n.verdict)} on *{_escape(n.environment)}*",
        f"commit `{_escape(short)}`",
    ]
    if n.link:
        lines.append(f"<{n.link}|details>")
    blocks: list[dict[str, object]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
    ]
    if n.summary:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _escape(n.summary)[:2900]}}
        )
    text = headline + (f"\n{n.summary}" if n.summary else "") + (f"\n{n.link}" if n.link else "")
    return {"text": text, "blocks": blocks}


def scrub(text: str, *secrets: str) -> str:
    """Remove each secret, and each secret's path (the token part of a webhook URL)."""
    for secret in secrets:
        if not secret:
            continue
        text = text.replace(secret, "***")
        path = urlsplit(secret).path
        if len(path) > 1:
            text = text.replace(path, "/***")
    return text


class _ScrubFilter(logging.Filter):
    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self._secrets = tuple(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message, *self._secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


@contextmanager
def scrubbed_http_logs(*secrets: str) -> Iterator[None]:
    """httpx logs every request's full URL at INFO: scrub the secrets out while we send."""
    loggers = [logging.getLogger(name) for name in ("httpx", "httpcore")]
    scrubber = _ScrubFilter(secrets)
    for logger in loggers:
        logger.addFilter(scrubber)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(scrubber)


async def notify(
    webhook: WebhookUrl | None,
    notification: Notification,
    on_success: bool = False,
    timeout_s: float = 10.0,
) -> NotifyResult:
    """Post ``notification`` if it should be sent; never raises for delivery problems."""
    if not should_notify(notification, on_success):
        return NotifyResult(sent=False, skipped="stage passed and on_success is off")
    if webhook is None:
        warning = f"notification not sent: no webhook configured (set {WEBHOOK_ENV})"
        log.warning(warning)
        return NotifyResult(sent=False, warning=warning)
    secret = webhook.reveal()
    try:
        with scrubbed_http_logs(secret):
            async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False) as client:
                response = await client.post(secret, json=build_message(notification))
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        warning = scrub(
            f"notification not sent: {type(exc).__name__} ({exc}); the pipeline verdict is "
            "unchanged. Check the webhook and that the runner can reach it",
            secret,
        )
        log.warning(warning)
        return NotifyResult(sent=False, warning=warning)
    if response.status_code >= 300:
        body = scrub(response.text[:200], secret)
        warning = (
            f"notification not sent: webhook answered HTTP {response.status_code} ({body!r}); "
            "the pipeline verdict is unchanged. Check that the webhook still exists"
        )
        log.warning(warning)
        return NotifyResult(sent=False, status_code=response.status_code, warning=warning)
    log.info("notification sent for %s %s", notification.stage, notification.verdict)
    return NotifyResult(sent=True, status_code=response.status_code)


def webhook_from_env(environ: dict[str, str] | None = None) -> WebhookUrl | None:
    value = (environ if environ is not None else dict(os.environ)).get(WEBHOOK_ENV, "")
    return WebhookUrl(value) if value.strip() else None


def main(argv: Sequence[str] | None = None) -> int:
    """Exits 0 unless the arguments are wrong (2): notifying never fails a pipeline. With
    --require-delivery (a person sending one message) a message not delivered exits 1."""
    parser = argparse.ArgumentParser(prog="python -m shipyard.tools.notify", description=__doc__)
    for name in ("stage", "commit", "environment", "verdict"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--summary", default="")
    parser.add_argument("--link")
    parser.add_argument("--on-success", action="store_true")
    parser.add_argument(
        "--require-delivery",
        action="store_true",
        help="exit 1 when the webhook is missing, refuses or cannot be reached",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        webhook = webhook_from_env()
    except NotifyError as exc:
        log.warning("notification not sent: %s", exc)
        print(f"notification not sent: {exc}")
        return 1 if args.require_delivery else 0
    notification = Notification(
        args.stage, args.commit, args.environment, args.verdict, args.summary, args.link
    )
    result = anyio.run(notify, webhook, notification, args.on_success)
    print("sent" if result.sent else (result.skipped or result.warning or "not sent"))
    return 1 if args.require_delivery and result.warning else 0


if __name__ == "__main__":
    sys.exit(main())
