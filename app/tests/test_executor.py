from __future__ import annotations

import asyncio
import threading

import pytest
from gridserve.executor import InlineExecutor
from gridserve.main import create_app
from gridserve.settings import Settings


class BrokenStoreError(OSError):
    pass


def fail() -> None:
    raise BrokenStoreError("chunk file vanished")


async def on_inline_loop() -> tuple[int, int]:
    asyncio.get_running_loop().set_default_executor(InlineExecutor())
    worker = await asyncio.to_thread(threading.get_ident)
    with pytest.raises(BrokenStoreError, match="vanished"):
        await asyncio.to_thread(fail)
    return worker, threading.get_ident()


def test_jobs_run_in_the_loop_thread_and_their_errors_reach_the_caller() -> None:
    worker, loop_thread = asyncio.run(on_inline_loop())
    assert worker == loop_thread


def test_the_app_runs_zarr_thread_hand_offs_inline(settings: Settings) -> None:
    app = create_app(settings)

    async def serve() -> bool:
        async with app.router.lifespan_context(app):
            return await asyncio.to_thread(threading.get_ident) == threading.get_ident()

    assert asyncio.run(serve())
