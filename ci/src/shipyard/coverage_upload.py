"""Coverage upload to Codecov that never blocks the pipeline.

``await upload_coverage(report, token, commit=..., branch=...)`` speaks Codecov's v4 upload
protocol (the one its bash uploader used): ``POST {base}/upload/v4?commit=...&token=...`` with
``Accept: text/plain`` answers two lines, the report's web URL and a pre-signed storage URL;
the report is then ``PUT`` there in the uploader's envelope (``# path=<file>`` ...
``<<<<<< EOF``). Any failure (no report file, endpoint down, refused, slow, answering
nonsense) is returned as a warning in :class:`UploadResult` and logged; nothing raises, so a
failed upload never changes the pipeline's verdict (the seed used ``continue-on-error`` for the
same reason).

The upload token is a secret: it is sent only in the query string Codecov expects and
scrubbed from every log line and warning (httpx logs request URLs at INFO).

Pure: :func:`upload_params`, :func:`envelope`, :func:`parse_upload_answer`.
I/O: :func:`upload_coverage`.
CLI: ``CODECOV_TOKEN=... python -m shipyard.coverage_upload coverage.xml --commit SHA``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import httpx

from shipyard.notify import scrub, scrubbed_http_logs

log = logging.getLogger(__name__)
DEFAULT_BASE_URL = "https://codecov.io"
CODECOV_ENV_VARIABLE = "CODECOV_TOKEN"


@dataclass(frozen=True)
class UploadResult:
    uploaded: bool
    report_url: str | None = None
    warning: str | None = None


def upload_params(
    token: str | None, commit: str, branch: str | None, build: str | None, slug: str | None
) -> dict[str, str]:
    params = {"commit": commit, "package": "shipyard", "service": "custom"}
    optional = {"token": token, "branch": branch, "build": build, "slug": slug}
    params.update({key: value for key, value in optional.items() if value})
    return params


def envelope(report_name: str, report: str) -> bytes:
    """The uploader's upload body: the file list, then each file after a ``# path=`` line."""
    return (
        f"{report_name}\n<<<<<< network\n# path={report_name}\n{report.rstrip()}\n<<<<<< EOF\n"
    ).encode()


def parse_upload_answer(text: str) -> tuple[str, str] | None:
    """(report URL, storage URL) from the endpoint's two-line answer, or None if it is not one."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) != 2:
        return None
    if not all(urlsplit(line).scheme in ("http", "https") for line in lines):
        return None
    return lines[0], lines[1]


def _warn(message: str, *secrets: str) -> UploadResult:
    warning = scrub(
        f"coverage upload skipped: {message}; the pipeline verdict is unchanged", *secrets
    )
    log.warning(warning)
    return UploadResult(uploaded=False, warning=warning)


async def upload_coverage(
    report: Path,
    token: str | None,
    commit: str,
    branch: str | None = None,
    build: str | None = None,
    slug: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
    timeout_s: float = 30.0,
) -> UploadResult:
    """Upload ``report`` (e.g. coverage.xml); returns a warning instead of raising."""
    secrets = [token] if token else []
    try:
        content = report.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return _warn(f"cannot read {report} ({exc}); run the tests with --cov-report=xml first")
    if not content.strip():
        return _warn(f"{report} is empty; run the tests with --cov-report=xml first")
    params = upload_params(token, commit, branch, build, slug)
    endpoint = f"{base_url.rstrip('/')}/upload/v4"
    try:
        with scrubbed_http_logs(*secrets):
            async with httpx.AsyncClient(timeout=timeout_s) as client:
                answer = await client.post(
                    endpoint, params=params, headers={"Accept": "text/plain"}
                )
                if answer.status_code != 200:
                    return _warn(
                        f"{endpoint} answered HTTP {answer.status_code} ({answer.text[:200]!r})",
                        *secrets,
                    )
                urls = parse_upload_answer(answer.text)
                if urls is None:
                    return _warn(
                        f"{endpoint} did not answer two URLs ({answer.text[:200]!r})", *secrets
                    )
                report_url, storage_url = urls
                stored = await client.put(
                    storage_url,
                    content=envelope(report.name, content),
                    headers={"Content-Type": "text/plain"},
                )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return _warn(f"{endpoint} unreachable ({type(exc).__name__}: {exc})", *secrets)
    if stored.status_code >= 300:
        return _warn(f"storage answered HTTP {stored.status_code} to the report upload", *secrets)
    log.info("coverage uploaded: %s", scrub(report_url, *secrets))
    return UploadResult(uploaded=True, report_url=scrub(report_url, *secrets))


def main(argv: Sequence[str] | None = None) -> int:
    """Exits 0 whatever happens to the upload (2 only for wrong arguments)."""
    parser = argparse.ArgumentParser(prog="python -m shipyard.coverage_upload", description=__doc__)
    parser.add_argument("report", type=Path)
    parser.add_argument("--commit", required=True)
    parser.add_argument("--branch")
    parser.add_argument("--build")
    parser.add_argument("--slug")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    result = anyio.run(
        lambda: upload_coverage(
            args.report,
            os.environ.get(CODECOV_ENV_VARIABLE) or None,
            args.commit,
            args.branch,
            args.build,
            args.slug,
            args.base_url,
        )
    )
    print(result.report_url if result.uploaded else result.warning)
    return 0


if __name__ == "__main__":
    sys.exit(main())
