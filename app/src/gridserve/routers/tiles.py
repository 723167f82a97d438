"""GET /tiles/{collection}/{z}/{x}/{y}.png"""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Path, Query, Response

from gridserve import render, tiling
from gridserve.deps import MetricsDep, RegistryDep
from gridserve.errors import invalid
from gridserve.selection import Moment, choose_variable, time_index
from gridserve.store import Collection

Colormap = StrEnum("Colormap", {name: name for name in render.COLORMAP_STOPS})  # type: ignore[misc]

PNG = "image/png"
TILE_DOC = """A 256x256 palette PNG of one variable at one time step, nearest-neighbour sampled
from the collection's regular lat/lon grid. Pixels without data are transparent; a tile
entirely outside the collection's bounding box is a fully transparent tile (200), never an
error."""

router = APIRouter(tags=["tiles"])


def value_range(
    default: tuple[float, float], vmin: float | None, vmax: float | None
) -> tuple[float, float]:
    low = default[0] if vmin is None else vmin
    high = default[1] if vmax is None else vmax
    if not low < high:
        raise invalid(f"vmin ({low}) must be below vmax ({high}): give vmin < vmax")
    return low, high


async def render_tile(
    collection: Collection,
    variable: str,
    step: int,
    tile: tuple[int, int, int],
    colours: render.Palette,
    scale: tuple[float, float],
) -> bytes:
    area = tiling.window(collection.lat, collection.lon, *tile)
    if area is None:
        return render.empty_tile()
    block = await collection.maps[variable].getitem(
        (step, slice(area.row_start, area.row_stop), slice(area.col_start, area.col_stop))
    )
    indices = render.to_colour_indices(np.asarray(block), *scale)
    return render.encode_png(render.sample(indices, area.rows, area.cols), colours)


@router.get(
    "/tiles/{collection_id}/{z}/{x}/{y}.png",
    response_class=Response,
    responses={200: {"content": {PNG: {}}, "description": TILE_DOC}},
    summary="A map tile (WebMercatorQuad)",
)
async def tile(
    collection_id: str,
    z: Annotated[int, Path(ge=0, le=tiling.MAX_ZOOM, description="zoom level")],
    x: Annotated[int, Path(ge=0, description="column, 0..2^z-1")],
    y: Annotated[int, Path(ge=0, description="row from the top, 0..2^z-1")],
    registry: RegistryDep,
    metrics: MetricsDep,
    variable: Annotated[str | None, Query(description="default: the first one")] = None,
    time_: Annotated[
        Moment | None, Query(alias="time", description="ISO 8601; default: the latest step")
    ] = None,
    colormap: Annotated[Colormap, Query()] = Colormap[render.DEFAULT_COLORMAP],
    vmin: Annotated[
        float | None, Query(allow_inf_nan=False, description="value of the first colour")
    ] = None,
    vmax: Annotated[
        float | None, Query(allow_inf_nan=False, description="value of the last colour")
    ] = None,
) -> Response:
    try:
        tiling.check_tile(z, x, y)
    except tiling.TileRangeError as exc:
        raise invalid(str(exc)) from exc
    collection = await registry.get(collection_id)
    chosen = choose_variable(collection, variable)
    step = time_index(collection.times, time_)
    scale = value_range(chosen.display_range, vmin, vmax)
    started = time.perf_counter()
    colours = render.palette(str(colormap.value))
    png = await render_tile(collection, chosen.name, step, (z, x, y), colours, scale)
    metrics.tile_render.labels(collection.id).observe(time.perf_counter() - started)
    # A tile for a given time never changes; without a time it follows the latest step.
    max_age = 86400 if time_ is not None else 300
    return Response(png, media_type=PNG, headers={"Cache-Control": f"public, max-age={max_age}"})
