from __future__ import annotations

import numpy as np
import pytest
from gridserve.grid import IrregularAxisError, cell_index, cell_indices, regular_axis


def test_descending_axis_maps_coordinates_to_cells() -> None:
    axis = regular_axis("lat", np.arange(89.5, -90, -1.0))
    assert (axis.first, axis.step, axis.size) == (89.5, -1.0, 180)
    assert axis.bounds() == (-90.0, 90.0)
    assert cell_index(axis, 89.9) == 0
    assert cell_index(axis, -89.9) == 179
    assert axis.centre(cell_index(axis, -33.2)) == -33.5
    np.testing.assert_array_equal(cell_indices(axis, np.array([91.0, -90.5])), [-1, -1])


def test_ascending_axis() -> None:
    axis = regular_axis("lon", np.arange(0.5, 30, 1.0))
    assert axis.last == 29.5
    np.testing.assert_array_equal(
        cell_indices(axis, np.array([-0.1, 0.0, 29.9, 30.0])), [-1, 0, 29, -1]
    )


@pytest.mark.parametrize(
    ("centres", "fix"),
    [(np.array([1.0, 2.0, 4.0]), "not evenly spaced"), (np.array([1.0]), "at least two")],
)
def test_irregular_axes_are_refused(centres: np.ndarray, fix: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(IrregularAxisError, match=fix):
        regular_axis("lon", centres)
