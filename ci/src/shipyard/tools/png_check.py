"""Pure PNG check: enough of a decoder to say whether a tile is a real image of the right shape.

:func:`png_problem` walks every chunk (length, CRC, order: IHDR first, PLTE before the image
data of a palette image, IDAT chunks consecutive, IEND last, no unknown critical chunk), reads
the header's size and colour model, and inflates the IDAT data (zlib) to check that it holds
exactly the scanlines the header promises, each starting with a valid filter type. Pixels are
not unfiltered: any byte string of the right length is some image, so a wrong picture passes,
a broken or empty one does not.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# colour type -> (name, samples per pixel, allowed bit depths), from the PNG specification.
COLOUR_TYPES: dict[int, tuple[str, int, tuple[int, ...]]] = {
    0: ("greyscale", 1, (1, 2, 4, 8, 16)),
    2: ("RGB", 3, (8, 16)),
    3: ("palette", 1, (1, 2, 4, 8)),
    4: ("greyscale+alpha", 2, (8, 16)),
    6: ("RGBA", 4, (8, 16)),
}
# The colour models a tile may be asked to have: name -> (colour type, bit depth).
COLOUR_MODELS: dict[str, tuple[int, int]] = {
    "palette8": (3, 8),
    "grey8": (0, 8),
    "rgb8": (2, 8),
    "rgba8": (6, 8),
}
_CRITICAL = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND"})
_MAX_CHUNK = 2**31 - 1
# Adam7 passes: (first column, first row, column step, row step).
_ADAM7: tuple[tuple[int, int, int, int], ...] = (
    (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
    (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2),
)  # fmt: skip
_MAX_FILTER_TYPE = 4


class PngError(ValueError):
    """What is wrong with the file, as one phrase for a report."""


@dataclass(frozen=True)
class Header:
    width: int
    height: int
    bit_depth: int
    colour_type: int
    interlace: int

    @property
    def model(self) -> str:
        return f"{self.bit_depth}-bit {COLOUR_TYPES[self.colour_type][0]}"

    def scanlines(self) -> list[tuple[int, int]]:
        """(rows, bytes per row without its filter byte) of each pass that has pixels."""
        bits_per_pixel = COLOUR_TYPES[self.colour_type][1] * self.bit_depth
        passes = _ADAM7 if self.interlace else ((0, 0, 1, 1),)
        layout = []
        for x0, y0, dx, dy in passes:
            columns = max(0, (self.width - x0 + dx - 1) // dx)
            rows = max(0, (self.height - y0 + dy - 1) // dy)
            if columns and rows:
                layout.append((rows, (columns * bits_per_pixel + 7) // 8))
        return layout


def chunks(body: bytes) -> Iterator[tuple[int, bytes, bytes]]:
    """(offset, type, data) of every chunk up to IEND, each CRC-checked."""
    if not body.startswith(SIGNATURE):
        raise PngError(f"not a PNG (starts with {body[:8]!r})")
    offset = len(SIGNATURE)
    while True:
        if offset + 8 > len(body):
            raise PngError(f"truncated PNG: no IEND chunk (file ends at byte {len(body)})")
        length, kind = struct.unpack(">I4s", body[offset : offset + 8])
        end = offset + 12 + length
        if length > _MAX_CHUNK or end > len(body):
            raise PngError(
                f"truncated PNG: chunk {kind!r} needs {length} bytes, file ends at {len(body)}"
            )
        data = body[offset + 8 : end - 4]
        (crc,) = struct.unpack(">I", body[end - 4 : end])
        if zlib.crc32(kind + data) != crc:
            raise PngError(f"corrupt PNG: chunk {kind!r} at byte {offset} fails its CRC")
        yield offset, kind, data
        if kind == b"IEND":
            return
        offset = end


def parse_header(kind: bytes, data: bytes) -> Header:
    if kind != b"IHDR" or len(data) != 13:
        raise PngError(f"corrupt PNG: first chunk is {kind!r}, not a 13-byte IHDR")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", data
    )
    if colour not in COLOUR_TYPES or depth not in COLOUR_TYPES[colour][2]:
        raise PngError(f"corrupt PNG: bit depth {depth} with colour type {colour} is not allowed")
    if compression or filtering or interlace > 1:
        raise PngError(
            f"corrupt PNG: compression {compression}, filter method {filtering}, interlace "
            f"{interlace} (only 0, 0 and 0/1 exist)"
        )
    return Header(width, height, depth, colour, interlace)


def _check_order(kind: bytes, seen: list[bytes], header: Header) -> None:
    if kind[0:1].isupper() and kind not in _CRITICAL:
        raise PngError(f"corrupt PNG: unknown critical chunk {kind!r} (no decoder can show it)")
    if kind == b"IHDR" and seen:
        raise PngError("corrupt PNG: a second IHDR chunk")
    if kind == b"PLTE" and (b"PLTE" in seen or b"IDAT" in seen):
        raise PngError("corrupt PNG: PLTE after the image data, or twice")
    if kind == b"IDAT" and b"IDAT" in seen and seen[-1] != b"IDAT":
        raise PngError("corrupt PNG: IDAT chunks are not consecutive")
    if kind == b"IDAT" and header.colour_type == 3 and b"PLTE" not in seen:
        raise PngError("corrupt PNG: palette image without a PLTE chunk before its data")


def _check_palette(data: bytes, header: Header) -> None:
    entries, rest = divmod(len(data), 3)
    if rest or not 1 <= entries <= min(256, 2**header.bit_depth):
        raise PngError(f"corrupt PNG: PLTE of {len(data)} bytes is not 1..256 RGB entries")


def check_image_data(compressed: bytes, header: Header) -> None:
    """The IDAT stream inflates to exactly the header's scanlines, each with a valid filter."""
    if not compressed:
        raise PngError("PNG has no image data (no IDAT chunk)")
    layout = header.scanlines()
    expected = sum(rows * (1 + row_bytes) for rows, row_bytes in layout)
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(compressed, expected + 1)
    except zlib.error as exc:
        raise PngError(f"corrupt PNG: image data does not inflate ({exc})") from None
    if len(raw) != expected or not inflater.eof:
        state = "more" if len(raw) > expected else "less"
        ended = "" if inflater.eof else ", zlib stream unfinished"
        raise PngError(
            f"corrupt PNG: image data holds {state} than the {expected} bytes of "
            f"{header.width}x{header.height} {header.model}{ended}"
        )
    offset = 0
    for rows, row_bytes in layout:
        for _ in range(rows):
            if raw[offset] > _MAX_FILTER_TYPE:
                raise PngError(f"corrupt PNG: scanline filter type {raw[offset]} at byte {offset}")
            offset += 1 + row_bytes


def png_problem(body: bytes, width: int, height: int, colour_model: str) -> str | None:
    """What is wrong with ``body`` as a ``width`` x ``height`` PNG of ``colour_model``, or None."""
    colour_type, bit_depth = COLOUR_MODELS[colour_model]
    try:
        walk = chunks(body)
        _, kind, data = next(walk)
        header = parse_header(kind, data)
        if (header.width, header.height) != (width, height):
            return f"tile is {header.width}x{header.height}, expected {width}x{height}"
        if (header.colour_type, header.bit_depth) != (colour_type, bit_depth):
            expected = Header(width, height, bit_depth, colour_type, 0).model
            return f"tile is {header.model}, expected {expected} ({colour_model})"
        seen = [kind]
        image = bytearray()
        for _, kind, data in walk:
            _check_order(kind, seen, header)
            if kind == b"PLTE":
                _check_palette(data, header)
            if kind == b"IDAT":
                image += data
            seen.append(kind)
        check_image_data(bytes(image), header)
    except PngError as exc:
        return str(exc)
    return None
