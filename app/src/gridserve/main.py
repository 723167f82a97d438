"""The application: ``uvicorn gridserve.main:app`` (settings from GRIDSERVE_* variables)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware

from gridserve import data
from gridserve.errors import GridserveError, gridserve_error_handler, validation_error_handler
from gridserve.executor import InlineExecutor
from gridserve.metrics import Metrics, MetricsMiddleware
from gridserve.routers import collections, ops, tiles, timeseries
from gridserve.settings import Role, Settings
from gridserve.store import Registry

log = logging.getLogger(__name__)


def routers_for(role: Role) -> list[APIRouter]:
    """One image, two ECS services: the role decides which API a process answers."""
    chosen = [ops.router]
    if role in (Role.TILES, Role.ALL):
        chosen.append(tiles.router)
    if role in (Role.TIMESERIES, Role.ALL):
        chosen.append(timeseries.router)
    chosen.append(collections.router)
    return chosen


def embedded_data_to_generate(settings: Settings) -> Path | None:
    if settings.collections or not settings.generate_embedded:
        return None
    return None if data.is_generated(settings.data_dir) else settings.data_dir


def create_app(settings: Settings | None = None) -> FastAPI:
    # uvicorn configures only its own loggers; without this our start-up lines are lost.
    # (A no-op when logging is already set up, as under pytest.)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    settings = settings or Settings()
    metrics = Metrics()
    metrics.build_info.labels(settings.version, settings.git_sha, settings.role.value).set(1)
    registry = Registry(settings.collection_locations(), metrics.record_open)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        asyncio.get_running_loop().set_default_executor(InlineExecutor())
        target = embedded_data_to_generate(settings)
        if target is not None:
            # In the loop's thread: the server accepts no request before the lifespan has started.
            log.info("generating the embedded dataset into %s", target)
            data.generate(target)
        await registry.open_all()
        yield

    app = FastAPI(
        title="gridserve",
        version=settings.version,
        description="Map tiles and point timeseries over gridded climate data.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.registry = registry
    app.add_exception_handler(GridserveError, gridserve_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET"]
        )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    for router in routers_for(settings.role):
        app.include_router(router)
    return app


app = create_app()
