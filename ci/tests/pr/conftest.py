"""The real pinned tools from .tools/bin (installed by ./dev setup)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
TOOLS = REPO / ".tools" / "bin"


@pytest.fixture(scope="session")
def codecovcli() -> str:
    path = TOOLS / "codecovcli"
    assert path.exists(), f"{path} missing: run ./dev setup (scripts/setup.d/35-codecov.sh)"
    return str(path)
