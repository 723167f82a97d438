"""Semantic smoke suite: does a live deployment answer like the platform service should?

``await run_smoke(base_url, SmokeConfig())`` checks, concurrently:

- ``/health``: 200, ``application/json`` and ``{"status": "ok"}``;
- a tile: 200, ``image/png``, a PNG that decodes (every chunk and CRC intact, the image data
  inflates to exactly the scanlines of a 256x256 8-bit palette image; see
  :mod:`shipyard.tools.png_check`);
- the timeseries: 200, ``application/json``, equal-length ``times``/``values``, ISO-8601
  timestamps and values that are finite numbers or null (the service's "no value");
- ``/metrics``: ``text/plain``, parses with prometheus-client's text parser and holds the
  required names.

JSON is read strictly (RFC 8259): ``NaN``/``Infinity`` tokens, numbers that overflow to infinity
and nesting too deep to parse are invalid JSON, as they are for every browser.

One deadline bounds the whole run: every request, body included, is cancelled when the run's
time is up (httpx's own timeout is per read, so a server trickling a byte a second would never
trip it), retries stop, and the report is written with what was seen; the run ends within the
deadline plus the time to judge the last bodies. The CLI resolves names in daemon threads, so a
DNS lookup that never returns cannot hold the process past the deadline either. A body larger
than ``max_body_bytes`` is not read further (a fail). Each check retries with exponential
backoff while the answer is one that can change on its own (connection refused, timeout, 5xx,
429), and gives up at once on an answer that will not (wrong content type, a broken PNG, invalid
JSON, a TLS certificate that does not verify). Verdicts: ``pass``, ``fail`` and ``no-data``: an
unknown collection (404 from the service) or an empty series means the service works but holds
no data yet, which is not the same as a broken service. The report has per-check timing and
renders as JSON (``schema_version``) and Markdown.

The judgements (``judge``: ``judge_*``, :func:`png_problem`) are pure functions of status,
headers and bytes, as is the backoff (``config``: :func:`next_delay`); :func:`run_smoke`
(``probe``) is the httpx/anyio edge; ``report`` renders the result. Bad configuration raises
:class:`SmokeError`; a failing service never raises, it yields a ``fail`` verdict.

CLI (``__main__``): ``python -m shipyard.tools.smoke BASE_URL [--deadline 60] [--json-out F]
[--markdown-out F]``.
"""

from shipyard.tools.smoke.config import (
    DEFAULT_REQUIRED_METRICS,
    DEFAULT_TIMESERIES_PARAMS,
    MAX_BODY_BYTES,
    SmokeConfig,
    SmokeError,
    next_delay,
)
from shipyard.tools.smoke.judge import (
    Judgement,
    Verdict,
    judge_health,
    judge_metrics,
    judge_tile,
    judge_timeseries,
    missing_data,
    png_problem,
    transient_or_final,
)
from shipyard.tools.smoke.probe import run_smoke
from shipyard.tools.smoke.report import SCHEMA_VERSION, CheckResult, SmokeReport

__all__ = [
    "DEFAULT_REQUIRED_METRICS",
    "DEFAULT_TIMESERIES_PARAMS",
    "MAX_BODY_BYTES",
    "SCHEMA_VERSION",
    "CheckResult",
    "Judgement",
    "SmokeConfig",
    "SmokeError",
    "SmokeReport",
    "Verdict",
    "judge_health",
    "judge_metrics",
    "judge_tile",
    "judge_timeseries",
    "missing_data",
    "next_delay",
    "png_problem",
    "run_smoke",
    "transient_or_final",
]
