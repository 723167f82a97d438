"""GET /api/collections and /api/collections/{collection_id}"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gridserve.deps import RegistryDep
from gridserve.errors import GridserveError
from gridserve.selection import iso
from gridserve.store import Collection

router = APIRouter(tags=["collections"])


def describe(collection: Collection) -> dict[str, Any]:
    first, last = iso(collection.times[[0, -1]])
    return {
        "id": collection.id,
        "status": "ok",
        "variables": [
            {"name": v.name, "units": v.units, "long_name": v.long_name}
            for v in collection.variables.values()
        ],
        "time": {"start": first, "end": last, "steps": int(collection.times.size)},
        "bbox": list(collection.bbox()),
        "grid": {"lon_step": collection.lon.step, "lat_step": collection.lat.step},
        "tiles": f"/tiles/{collection.id}/{{z}}/{{x}}/{{y}}.png",
    }


@router.get("/api/collections", summary="Every configured collection")
async def list_collections(registry: RegistryDep) -> dict[str, list[dict[str, Any]]]:
    described: list[dict[str, Any]] = []
    for collection_id in registry.locations:
        try:
            described.append(describe(await registry.get(collection_id)))
        except GridserveError as exc:  # one broken store must not hide the others
            described.append({"id": collection_id, "status": "unavailable", "message": exc.message})
    return {"collections": described}


@router.get("/api/collections/{collection_id}", summary="One collection")
async def get_collection(collection_id: str, registry: RegistryDep) -> dict[str, Any]:
    return describe(await registry.get(collection_id))
