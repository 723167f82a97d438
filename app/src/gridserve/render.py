"""Pure tile rendering: separable nearest-neighbour sampling, colour palettes and PNG encoding.

A tile is an 8-bit palette PNG: index 0 is transparent (no data or outside the grid), indices
1..255 are the colour ramp. Values are mapped to indices on the (small) source block first and
then sampled with one row-index and one column-index vector, so the per-pixel work is two
``take`` calls on bytes.

Every row is stored with PNG's "Up" filter (the difference to the row above): a nearest-neighbour
tile repeats each grid row over many pixel rows, and those become rows of zeros, which zlib's
run-length strategy packs at once. Measured on 600 mixed z0-10 tiles of the embedded data against
no filter and the default strategy at level 1: the pixels deflate to 1.9 KB instead of 3.5 KB on
average, in less time.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from gridserve.grid import IndexArray

TILE_SIZE = 256
TRANSPARENT = 0
COLOURS = 255
# Run-length matching suits what the Up filter leaves (zero rows, runs of repeated pixels):
# measured, 10 % smaller than the default strategy at level 1 and as fast; level 6 would be
# 10 % smaller again but five times slower.
ZLIB_LEVEL = 1
ZLIB_STRATEGY = zlib.Z_RLE
FILTER_NONE = 0
FILTER_UP = 2

COLORMAP_STOPS: dict[str, tuple[str, ...]] = {
    "viridis": (
        "440154",
        "482878",
        "3e4989",
        "31688e",
        "26828e",
        "1f9e89",
        "35b779",
        "6ece58",
        "b5de2b",
        "fde725",
    ),
    "magma": (
        "000004",
        "180f3d",
        "440f76",
        "721f81",
        "9e2f7f",
        "cd4071",
        "f1605d",
        "fd9668",
        "feca8d",
        "fcfdbf",
    ),
    "rdbu_r": (
        "053061",
        "2166ac",
        "4393c3",
        "92c5de",
        "d1e5f0",
        "f7f7f7",
        "fddbc7",
        "f4a582",
        "d6604d",
        "b2182b",
        "67001f",
    ),
    "gray": ("000000", "ffffff"),
}
DEFAULT_COLORMAP = "viridis"

UInt8Array = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Palette:
    plte: bytes  # 256 RGB triplets
    trns: bytes  # alpha of index 0 only: the rest default to opaque


@lru_cache(maxsize=len(COLORMAP_STOPS))
def palette(name: str) -> Palette:
    """Index 0 transparent, then 255 colours linearly interpolated between the stops."""
    stops = np.array([[int(s[i : i + 2], 16) for i in (0, 2, 4)] for s in COLORMAP_STOPS[name]])
    positions = np.linspace(0.0, 1.0, len(stops))
    samples = np.linspace(0.0, 1.0, COLOURS)
    ramp = np.stack([np.interp(samples, positions, stops[:, c]) for c in range(3)], axis=1)
    rgb = np.vstack([np.zeros((1, 3)), np.rint(ramp)]).astype(np.uint8)
    return Palette(plte=rgb.tobytes(), trns=b"\x00")


def to_colour_indices(values: npt.NDArray[np.floating], vmin: float, vmax: float) -> UInt8Array:
    """Values to palette indices 1..255 (clipped to the range), NaN to transparent.

    One float32 buffer worked in place: a third of the time of a fresh array per step. Only NaN
    stays NaN through the steps (infinities clip), so the mask is taken at the end.
    """
    scale = np.float32((COLOURS - 1) / (vmax - vmin))
    scaled = np.subtract(values, np.float32(vmin), dtype=np.float32)
    scaled *= scale
    np.clip(scaled, 0, COLOURS - 1, out=scaled)
    np.rint(scaled, out=scaled)
    scaled += 1
    scaled[np.isnan(scaled)] = TRANSPARENT
    colour_indices: UInt8Array = scaled.astype(np.uint8)
    return colour_indices


def sample(block: UInt8Array, rows: IndexArray, cols: IndexArray) -> UInt8Array:
    """Nearest-neighbour tile from a block of indices; -1 in rows/cols gives transparent.

    ``rows``/``cols`` index the block. A transparent row and column are appended so that -1
    (numpy's "last") lands on them: no masks, no branches. Columns are taken first, on the small
    block, so the full-size step copies whole rows (a third of the time of rows first).
    """
    padded = np.zeros((block.shape[0] + 1, block.shape[1] + 1), dtype=np.uint8)
    padded[:-1, :-1] = block
    tile: UInt8Array = padded.take(cols, axis=1).take(rows, axis=0)
    return tile


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def up_filtered(indices: UInt8Array) -> UInt8Array:
    """PNG scanlines: each row led by its filter type, Up (the byte-wise difference to the row
    above, modulo 256 as uint8 arithmetic does) on every row but the first."""
    height, width = indices.shape
    scanlines = np.empty((height, width + 1), dtype=np.uint8)
    scanlines[0, 0] = FILTER_NONE
    scanlines[1:, 0] = FILTER_UP
    scanlines[0, 1:] = indices[0]
    np.subtract(indices[1:], indices[:-1], out=scanlines[1:, 1:])
    return scanlines


def compress(scanlines: UInt8Array) -> bytes:
    """zlib stream of the scanlines (zlib reads the contiguous array's buffer, no copy)."""
    deflate = zlib.compressobj(ZLIB_LEVEL, strategy=ZLIB_STRATEGY)
    return deflate.compress(scanlines.data) + deflate.flush()


def encode_png(indices: UInt8Array, colours: Palette) -> bytes:
    """An 8-bit palette PNG."""
    height, width = indices.shape
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"PLTE", colours.plte),
            _chunk(b"tRNS", colours.trns),
            _chunk(b"IDAT", compress(up_filtered(indices))),
            _chunk(b"IEND", b""),
        )
    )


@lru_cache(maxsize=1)
def empty_tile() -> bytes:
    """The documented answer for a tile outside the data: fully transparent."""
    return encode_png(np.zeros((TILE_SIZE, TILE_SIZE), dtype=np.uint8), palette(DEFAULT_COLORMAP))
