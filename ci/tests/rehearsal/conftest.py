"""moto's server as a real process for the rehearsal front's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from shipyard.tools.rehearsal.local import moto_server


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url
