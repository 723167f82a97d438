"""GET /health and GET /metrics"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gridserve.deps import MetricsDep, RegistryDep, SettingsDep

router = APIRouter(tags=["operations"])


@router.get(
    "/health",
    summary="200 when every collection's stores can be read, 503 otherwise",
    responses={503: {"description": "a data store cannot be read"}},
)
async def health(registry: RegistryDep, settings: SettingsDep) -> JSONResponse:
    datasets = await registry.status()
    healthy = all(state == "ok" for state in datasets.values())
    body = {
        "status": "ok" if healthy else "unavailable",
        "version": settings.version,
        "git_sha": settings.git_sha,
        "role": settings.role.value,
        "datasets": datasets,
    }
    return JSONResponse(body, status_code=200 if healthy else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(metrics: MetricsDep) -> Response:
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
