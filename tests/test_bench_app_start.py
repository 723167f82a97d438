"""bench/app_start.py's alternative is app/Dockerfile as it is, minus its byte-code step only."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]


def bench_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("app_start", REPO / "bench/app_start.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_alternative_drops_the_compile_step_and_nothing_else() -> None:
    dockerfile = (REPO / "app/Dockerfile").read_text()
    before = bench_module().without_byte_code(dockerfile)
    dropped = [line for line in dockerfile.splitlines() if line not in before.splitlines()]
    assert "compileall" in dockerfile
    assert "compileall" not in before
    assert dropped == [line for line in dockerfile.splitlines() if "compileall" in line]
