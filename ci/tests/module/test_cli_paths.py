"""The client-session CLI reads the repository the module's DefaultPaths name: its root."""

from pathlib import Path

from shipyard.module import cli


def test_default_paths_resolve_against_the_repository_root() -> None:
    assert (cli.REPO / "dagger.json").is_file()
    assert Path(__file__).resolve().parents[3] == cli.REPO
