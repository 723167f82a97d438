"""pytest loads the plugins pyproject.toml names and no others: every auto-loaded entry point
(zarr's, schemathesis's, platformdirs') cost each pytest process, every xdist worker and every
test shard, about 2 s of imports for plugins no test uses."""

from __future__ import annotations

import sys

import pytest

NAMED = ("xdist.plugin", "pytest_cov.plugin", "anyio.pytest_plugin", "_hypothesis_pytestplugin")


def test_no_plugin_is_loaded_from_an_entry_point(pytestconfig: pytest.Config) -> None:
    loaded = [dist.project_name for _, dist in pytestconfig.pluginmanager.list_plugin_distinfo()]
    assert loaded == []
    assert "zarr.testing" not in sys.modules
    assert "schemathesis.pytest.plugin" not in sys.modules


@pytest.mark.parametrize("name", NAMED)
def test_the_named_plugins_are_active(pytestconfig: pytest.Config, name: str) -> None:
    assert pytestconfig.pluginmanager.has_plugin(name)
