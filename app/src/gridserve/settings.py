"""Runtime settings, all read from the environment with the ``GRIDSERVE_`` prefix."""

from __future__ import annotations

import tempfile
from enum import StrEnum
from importlib import metadata
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from gridserve.data import COLLECTION_ID


def package_version() -> str:
    try:
        return metadata.version("gridserve")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


class Role(StrEnum):
    """Which routes this process serves: one image runs as both ECS services."""

    TILES = "tiles"
    TIMESERIES = "timeseries"
    ALL = "all"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDSERVE_", frozen=True)

    role: Role = Role.ALL
    # Where the embedded collection lives (generated there at first start when missing).
    # The image generates it at build time; the default under /tmp is for read-only rootfs.
    data_dir: Path = Path(tempfile.gettempdir()) / "gridserve-data"
    # Collection id -> a local directory or s3://bucket/prefix holding map.zarr and
    # timeseries.zarr, as JSON: GRIDSERVE_COLLECTIONS='{"era5": "s3://bucket/era5"}'.
    # Empty means the embedded test collection in data_dir.
    collections: dict[str, str] = Field(default_factory=dict)
    generate_embedded: bool = True
    version: str = Field(default_factory=package_version)
    git_sha: str = "unknown"
    max_timeseries_days: int = Field(default=366, ge=1)
    # Browser apps on other origins read the JSON APIs (tiles as <img> need no CORS);
    # GRIDSERVE_CORS_ORIGINS='["https://maps.example.org"]' narrows it, '[]' turns it off.
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])

    def collection_locations(self) -> dict[str, str]:
        return dict(self.collections) or {COLLECTION_ID: str(self.data_dir)}
