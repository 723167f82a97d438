"""The event loop's default executor in the service: every job runs at once, in the loop's thread.

zarr hands each chunk read (``LocalStore``) and each chunk decode (blosc) to
``asyncio.to_thread``. For this service's chunks (files of ~20 KB in the page cache, ~0.1 ms
to decode) the hand-off to a pool thread and back costs more CPU than the job, and with one
uvicorn worker per core the pool buys no parallelism. Measured side by side (one worker each,
interleaved runs of 1500 mixed z0-10 tiles on the embedded data): a median 1.28 ms of server CPU
per tile with the pool, 1.11 ms inline. S3 reads go through obstore, which is asynchronous and
never uses the pool.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

Params = ParamSpec("Params")
Result = TypeVar("Result")


class InlineExecutor(ThreadPoolExecutor):
    """A ThreadPoolExecutor (the only kind asyncio accepts as default) that starts no thread."""

    def submit(
        self, fn: Callable[Params, Result], /, *args: Params.args, **kwargs: Params.kwargs
    ) -> Future[Result]:
        future: Future[Result] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # the awaiting coroutine gets it, as from a pool thread
            future.set_exception(exc)
        return future
