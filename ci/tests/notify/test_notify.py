"""Webhook notifications against a local receiver; the URL must never leak."""

from __future__ import annotations

import json
import logging
import socket

import anyio
import pytest
from shipyard.tools.notify import (
    Notification,
    NotifyError,
    NotifyResult,
    WebhookUrl,
    build_message,
    main,
    notify,
    should_notify,
)

from .receiver import Received, receiver

TOKEN = "XyZsecretT0ken42"
FAILED = Notification(
    stage="deploy",
    commit="0123456789abcdef0123",
    environment="production",
    verdict="failed",
    summary="tiles: rolled back (circuit breaker); 2 tasks stopped: exit 137 <OOM> & more",
    link="https://ci.example/runs/17",
)
PASSED = Notification("smoke", "0123456789ab", "staging", "passed", "4/4 checks passed")


def hook(base: str) -> WebhookUrl:
    return WebhookUrl(f"{base}/services/T0/B0/{TOKEN}")


def send(webhook: WebhookUrl | None, n: Notification, on_success: bool = False) -> NotifyResult:
    return anyio.run(notify, webhook, n, on_success, 1.0)


def ok(_: Received, __: str) -> tuple[int, bytes]:
    return 200, b"ok"


@pytest.fixture(autouse=True)
def _all_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


def assert_no_secret(caplog: pytest.LogCaptureFixture, *texts: object) -> None:
    assert TOKEN not in caplog.text
    for text in texts:
        assert TOKEN not in repr(text)
        assert TOKEN not in str(text)


def test_failure_is_posted_with_stage_commit_environment_summary_and_link(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with receiver(ok) as server:
        result = send(hook(server.url), FAILED)
    assert result == NotifyResult(sent=True, status_code=200)
    [request] = server.requests
    assert (request.method, request.path) == ("POST", f"/services/T0/B0/{TOKEN}")
    payload = json.loads(request.body)
    assert payload["text"].startswith(":x: deploy failed on production at 0123456789ab")
    section = payload["blocks"][0]["text"]["text"]
    assert "*deploy* failed on *production*" in section
    assert "commit `0123456789ab`" in section
    assert "<https://ci.example/runs/17|details>" in section
    # Slack control characters in free text are escaped, not read as links or markup.
    assert payload["blocks"][1]["text"]["text"].endswith("exit 137 &lt;OOM&gt; &amp; more")
    assert_no_secret(caplog, result)
    assert "httpx" in caplog.text  # httpx did log the request, scrubbed


def test_success_is_sent_only_when_asked() -> None:
    with receiver(ok) as server:
        skipped = send(hook(server.url), PASSED)
        sent = send(hook(server.url), PASSED, on_success=True)
    assert (skipped.sent, skipped.skipped) == (False, "stage passed and on_success is off")
    assert sent.sent
    assert len(server.requests) == 1
    assert json.loads(server.requests[0].body)["text"].startswith(":white_check_mark: smoke")


@pytest.mark.parametrize("status", [404, 500])
def test_refusing_webhook_warns_and_never_raises_or_leaks(
    status: int, caplog: pytest.LogCaptureFixture
) -> None:
    def echo_path(request: Received, _: str) -> tuple[int, bytes]:
        return status, f"no_service at {request.path}".encode()

    with receiver(echo_path) as server:
        result = send(hook(server.url), FAILED)
    assert not result.sent
    assert result.status_code == status
    assert result.warning is not None
    assert f"HTTP {status}" in result.warning
    assert "verdict is unchanged" in result.warning
    assert "no_service at /***" in result.warning
    assert_no_secret(caplog, result)


def test_unreachable_webhook_warns(caplog: pytest.LogCaptureFixture) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    result = send(hook(f"http://127.0.0.1:{port}"), FAILED)
    assert not result.sent
    assert result.warning is not None
    assert result.warning.startswith("notification not sent: ConnectError")
    assert_no_secret(caplog, result)


def test_slow_webhook_times_out_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    with receiver(ok, delay_s=1.5) as server:
        result = send(hook(server.url), FAILED)
    assert not result.sent
    assert result.warning is not None
    assert "Timeout" in result.warning
    assert_no_secret(caplog, result)


def test_no_webhook_configured_warns() -> None:
    result = send(None, FAILED)
    assert (
        result.warning == "notification not sent: no webhook configured (set SHIPYARD_WEBHOOK_URL)"
    )


def test_webhook_url_is_redacted_and_validated() -> None:
    webhook = WebhookUrl(f"https://hooks.example/services/{TOKEN}")
    assert TOKEN not in repr(webhook) + str(webhook) + f"{webhook}"
    with pytest.raises(NotifyError) as raised:
        WebhookUrl(f"hooks.example/services/{TOKEN}")
    assert TOKEN not in str(raised.value)
    assert "SHIPYARD_WEBHOOK_URL" in str(raised.value)


def test_decisions_are_pure() -> None:
    assert should_notify(FAILED, on_success=False)
    assert not should_notify(PASSED, on_success=False)
    assert should_notify(PASSED, on_success=True)
    blocked = Notification("scan", "abc", "pr", "blocked", "")
    assert should_notify(blocked, on_success=False)
    assert len(build_message(blocked)["blocks"]) == 1  # type: ignore[arg-type]


def test_cli_reads_the_url_from_the_environment_and_always_exits_0(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "--stage",
        "deploy",
        "--commit",
        "abc",
        "--environment",
        "staging",
        "--verdict",
        "failed",
    ]
    with receiver(ok) as server:
        monkeypatch.setenv("SHIPYARD_WEBHOOK_URL", f"{server.url}/services/{TOKEN}")
        assert main(args) == 0
        assert len(server.requests) == 1
    monkeypatch.setenv("SHIPYARD_WEBHOOK_URL", f"not a url {TOKEN}")
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert TOKEN not in out + err


@pytest.mark.parametrize(
    ("answer", "exit_code"), [((200, b"ok"), 0), ((404, b"no_service"), 1), ((500, b"x"), 1)]
)
def test_cli_with_require_delivery_exits_1_when_the_message_is_not_delivered(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answer: tuple[int, bytes],
    exit_code: int,
) -> None:
    """`dagger call notify` judges inside its exec: a message not delivered is a failed exec."""
    args = ["--stage", "deploy", "--commit", "abc", "--environment", "staging"]
    args += ["--verdict", "failed", "--require-delivery"]
    with receiver(lambda _, __: answer) as server:
        monkeypatch.setenv("SHIPYARD_WEBHOOK_URL", f"{server.url}/services/{TOKEN}")
        assert main(args) == exit_code
    out = capsys.readouterr().out
    assert out.startswith("sent" if exit_code == 0 else "notification not sent: webhook answered")
    assert TOKEN not in out


def test_cli_with_require_delivery_exits_1_without_a_usable_webhook(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHIPYARD_WEBHOOK_URL", f"not a url {TOKEN}")
    args = ["--stage", "deploy", "--commit", "abc", "--environment", "staging"]
    assert main([*args, "--verdict", "failed", "--require-delivery"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("notification not sent: ")
    assert TOKEN not in out + err
