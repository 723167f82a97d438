"""Post the pull request's report as one comment, updated in place on every push.

Runs inside the pipeline's container::

    GITHUB_TOKEN=... python -m shipyard.tools.pr_comment --report pr-report.json \\
        --repository owner/name --pull-request 42 [--api-url https://api.github.com] \\
        [--out comment.md]

It lists the pull request's issue comments (every page), updates the one holding the hidden
marker or creates it, and prints one line. It never fails the check (exit 0; 2 only for wrong
arguments): a 403 (the read-only token of a fork's pull request), a 5xx answered again after one
retry, or an unreachable API is a ``warning:`` line, and the rendered comment is written to
``--out`` for the step summary instead. Without a token: ``skipped: no GITHUB_TOKEN``. The token
is sent only in the Authorization header and scrubbed from every line printed.

Pure: :func:`marked_comment`, :func:`next_page`, :func:`refusal`. I/O: :func:`publish`.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx

from shipyard.decide.pipeline_flow import redact
from shipyard.decide.pr_report import MARKER, PrReport, ReportError, render_comment

TOKEN_ENV: Final = "GITHUB_TOKEN"  # noqa: S105 -- the variable's name, not a token
DEFAULT_API_URL: Final = "https://api.github.com"
PER_PAGE: Final = 100
MAX_PAGES: Final = 30
RETRY_DELAY_S: Final = 1.0
FALLBACK: Final = "the report is in the step summary"
_NEXT: Final = re.compile(r'<([^>]+)>;\s*rel="next"')
_REPOSITORY: Final = re.compile(r"^[\w.-]+/[\w.-]+$")


class CommentFailed(Exception):
    """GitHub refused or did not answer; the text says which call and why."""


@dataclass(frozen=True)
class Target:
    api_url: str
    repository: str
    pull_request: int

    @property
    def comments(self) -> str:
        return f"{self.api_url}/repos/{self.repository}/issues/{self.pull_request}/comments"

    def comment(self, comment_id: int) -> str:
        return f"{self.api_url}/repos/{self.repository}/issues/comments/{comment_id}"


def marked_comment(comments: Sequence[Mapping[str, Any]]) -> int | None:
    """The id of the oldest comment holding the marker (the one to keep updating)."""
    for comment in comments:
        if MARKER in str(comment.get("body") or ""):
            return int(comment["id"])
    return None


def next_page(link_header: str | None) -> str | None:
    """The next page's address from GitHub's ``Link`` header, or None on the last page."""
    found = _NEXT.search(link_header or "")
    return found.group(1) if found else None


def refusal(method: str, status: int, message: str) -> str:
    """Why GitHub refused a call, in words a reviewer can act on."""
    if status == 403:
        why = "the token may not write comments; a fork's pull request gets a read-only token"
    elif status == 404:
        why = "no such pull request, or the token cannot see the repository"
    elif status >= 500:
        why = "GitHub had an error, twice"
    else:
        why = message or "refused"
    return f"{method} answered HTTP {status} ({why})"


def _call(client: httpx.Client, method: str, url: str, body: Any = None) -> httpx.Response:
    """One API call, retried once when GitHub answers 5xx or the connection fails."""
    for attempt in (1, 2):
        try:
            response = client.request(method, url, json=body)
        except httpx.HTTPError as error:
            if attempt == 2:
                raise CommentFailed(f"{method} failed ({type(error).__name__})") from None
        else:
            if response.status_code < 500 or attempt == 2:
                break
        time.sleep(RETRY_DELAY_S)
    if response.status_code >= 300:
        message = str(_json(response).get("message") or "")[:200]
        raise CommentFailed(refusal(method, response.status_code, message))
    return response


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {}


def _list_comments(client: httpx.Client, target: Target) -> list[Mapping[str, Any]]:
    comments: list[Mapping[str, Any]] = []
    url: str | None = f"{target.comments}?per_page={PER_PAGE}"
    for _ in range(MAX_PAGES):
        if url is None:
            break
        response = _call(client, "GET", url)
        comments.extend(_json(response))
        url = next_page(response.headers.get("Link"))
    return comments


def publish(target: Target, body: str, token: str, timeout_s: float = 10.0) -> str:
    """Update the marked comment or create it; the line saying which (or CommentFailed)."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": "shipyard-pipeline",
    }
    with httpx.Client(headers=headers, timeout=timeout_s) as client:
        existing = marked_comment(_list_comments(client, target))
        if existing is None:
            created = _call(client, "POST", target.comments, {"body": body})
            return f"posted the report on pull request #{target.pull_request}: " + str(
                _json(created).get("html_url") or "created"
            )
        updated = _call(client, "PATCH", target.comment(existing), {"body": body})
        return f"updated the report on pull request #{target.pull_request}: " + str(
            _json(updated).get("html_url") or f"comment {existing}"
        )


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m shipyard.tools.pr_comment",
        description="Post or update the pull request's report comment; never fails the check.",
    )
    parser.add_argument("--report", type=Path, required=True, help="PrReport JSON")
    parser.add_argument("--repository", required=True, help="owner/name")
    parser.add_argument("--pull-request", type=int, required=True, help="its number")
    parser.add_argument("--api-url", default=DEFAULT_API_URL, help="GitHub's REST API")
    parser.add_argument("--out", type=Path, help="where the rendered comment is written")
    args = parser.parse_args(argv)
    if not _REPOSITORY.match(args.repository):
        parser.error(f"--repository {args.repository!r} must be owner/name, e.g. acme/shipyard")
    return args


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Print one line; exit 0 whatever GitHub answered."""
    args = _arguments(argv)
    env = os.environ if environ is None else environ
    try:
        body = render_comment(PrReport.from_json(args.report.read_text(encoding="utf-8")))
    except (OSError, ReportError) as error:
        print(f"warning: no report to comment ({error}); the checks' verdict is unchanged")
        return 0
    if args.out:
        args.out.write_text(body, encoding="utf-8")
    token = env.get(TOKEN_ENV, "").strip()
    if not token:
        print(f"skipped: no {TOKEN_ENV}; {FALLBACK}")
        return 0
    target = Target(args.api_url.rstrip("/"), args.repository, args.pull_request)
    try:
        line = publish(target, body, token)
    except CommentFailed as error:
        line = f"warning: cannot comment on pull request #{args.pull_request}: {error}; {FALLBACK}"
    print(redact(line, [token]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
