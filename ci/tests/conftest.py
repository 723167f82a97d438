"""moto's server as a real process, one per session for every suite that needs one (the deploy
engine's and the rehearsal front's): each start costs seconds of imports, and the suites seed
accounts under names of their own (scidata-N, front-test-N), so they never meet."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    # Imported here: the engine suite's conftest must see the session's first imports.
    from shipyard.tools.rehearsal.local import moto_server

    with moto_server() as url:
        yield url
