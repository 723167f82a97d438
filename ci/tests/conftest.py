"""moto's server as a real process, one per session for every suite that needs one (the deploy
engine's and the rehearsal front's): each start costs seconds of imports, and the suites seed
accounts under names of their own (scidata-N, front-test-N), so they never meet."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    # Imported here: the engine suite's conftest must see the session's first imports.
    from shipyard.tools.rehearsal.local import moto_server

    with moto_server() as url:
        yield url


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port where a connection is refused. The socket stays bound, never listening,
    for the whole test: a released port could be taken by another worker's server meanwhile."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield int(holder.getsockname()[1])
