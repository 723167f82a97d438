"""Pure index arithmetic on regular lat/lon grids: which cell holds a coordinate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IndexArray = npt.NDArray[np.int64]

# Coordinates written as float text drift by ~1e-12 of a step; more than this is not regular.
REGULARITY_TOLERANCE = 1e-6


class IrregularAxisError(ValueError):
    pass


@dataclass(frozen=True)
class RegularAxis:
    """Cell centres ``first + i * step``; a coordinate belongs to the cell whose half-open
    interval ``[edge_i, edge_i + step)`` holds it (edges at ``first - step / 2 + i * step``)."""

    first: float
    step: float
    size: int

    @property
    def edge(self) -> float:
        return self.first - self.step / 2

    @property
    def last(self) -> float:
        return self.first + self.step * (self.size - 1)

    def centre(self, index: int) -> float:
        return self.first + self.step * index

    def bounds(self) -> tuple[float, float]:
        """(low, high) outer edges, whatever the direction of the axis."""
        far_edge = self.edge + self.step * self.size
        return (min(self.edge, far_edge), max(self.edge, far_edge))


def regular_axis(name: str, centres: npt.NDArray[np.floating]) -> RegularAxis:
    if centres.ndim != 1 or centres.size < 2:
        raise IrregularAxisError(f"coordinate '{name}' needs at least two values in one dimension")
    steps = np.diff(centres.astype(np.float64))
    step = float(steps.mean())
    if step == 0 or np.abs(steps - step).max() > REGULARITY_TOLERANCE * abs(step):
        raise IrregularAxisError(
            f"coordinate '{name}' is not evenly spaced; regrid the store to a regular grid"
        )
    return RegularAxis(first=float(centres[0]), step=step, size=int(centres.size))


def cell_indices(axis: RegularAxis, coords: npt.NDArray[np.floating]) -> IndexArray:
    """Index of the cell holding each coordinate, -1 where it falls outside the axis."""
    position = np.floor((coords - axis.edge) / axis.step).astype(np.int64)
    return np.where((position >= 0) & (position < axis.size), position, -1)


def cell_index(axis: RegularAxis, coord: float) -> int:
    return int(cell_indices(axis, np.array([coord], dtype=np.float64))[0])
