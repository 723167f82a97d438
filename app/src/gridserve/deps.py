"""FastAPI dependencies: the app's shared objects, injected into the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gridserve.metrics import Metrics
from gridserve.settings import Settings
from gridserve.store import Registry


def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


RegistryDep = Annotated[Registry, Depends(get_registry)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
