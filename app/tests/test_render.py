from __future__ import annotations

import io

import numpy as np
import pytest
from gridserve import render
from PIL import Image


@pytest.mark.parametrize("name", sorted(render.COLORMAP_STOPS))
def test_palettes_have_256_entries_with_a_transparent_first(name: str) -> None:
    colours = render.palette(name)
    assert len(colours.plte) == 256 * 3
    assert colours.trns == b"\x00"


def test_colour_indices_clip_and_mark_missing_values() -> None:
    values = np.array([-100.0, -40.0, 0.0, 40.0, 100.0, np.nan], dtype=np.float32)
    np.testing.assert_array_equal(
        render.to_colour_indices(values, -40, 40), [1, 1, 128, 255, 255, 0]
    )


def test_infinities_clip_to_the_ends_and_float64_values_are_accepted() -> None:
    values = np.array([-np.inf, np.inf, np.nan, 20.0], dtype=np.float64)
    np.testing.assert_array_equal(render.to_colour_indices(values, -40, 40), [1, 255, 0, 191])


def test_sample_uses_the_index_vectors_and_makes_minus_one_transparent() -> None:
    block = np.array([[1, 2], [3, 4]], dtype=np.uint8)
    tile = render.sample(block, np.array([0, 1, -1]), np.array([1, -1, 0]))
    np.testing.assert_array_equal(tile, [[2, 0, 1], [4, 0, 3], [0, 0, 0]])


def test_encoded_png_round_trips_through_pillow() -> None:
    indices = np.arange(256 * 256, dtype=np.uint32).reshape(256, 256).astype(np.uint8)
    png = render.encode_png(indices, render.palette("gray"))
    image = Image.open(io.BytesIO(png))
    assert (image.format, image.mode, image.size) == ("PNG", "P", (256, 256))
    np.testing.assert_array_equal(np.array(image), indices)
    assert image.convert("RGBA").getpixel((0, 0))[3] == 0  # index 0 is transparent
    assert image.convert("RGBA").getpixel((255, 0)) == (255, 255, 255, 255)


def test_up_filtered_rows_decode_exactly_even_when_differences_wrap() -> None:
    """Random rows make every byte-wise difference to the row above occur, negative ones too."""
    indices = np.random.default_rng(3).integers(0, 256, (256, 256), dtype=np.uint8)
    image = Image.open(io.BytesIO(render.encode_png(indices, render.palette("viridis"))))
    np.testing.assert_array_equal(np.array(image), indices)


def test_empty_tile_is_fully_transparent() -> None:
    image = Image.open(io.BytesIO(render.empty_tile())).convert("RGBA")
    assert image.size == (256, 256)
    assert np.array(image)[:, :, 3].max() == 0
