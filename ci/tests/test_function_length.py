"""No function in ci/src is over 60 lines (the developer guide's limit), measured the way `ast`
measures it: from the `def` line to the last line of the body, decorators left out."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
LIMIT = 60
# A function that must be longer names itself here, with the reason; none does today.
EXCEPTIONS: set[str] = set()


def function_lengths(root: Path) -> dict[str, int]:
    """`path::Qualified.name` → lines, for every function and method below `root`."""
    lengths: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str, path: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    assert child.end_lineno is not None
                    lengths[f"{path}::{name}"] = child.end_lineno - child.lineno + 1
                visit(child, f"{name}.", path)
            else:
                visit(child, prefix, path)

    for file in sorted(root.rglob("*.py")):
        visit(ast.parse(file.read_text(encoding="utf-8")), "", file.relative_to(root).as_posix())
    return lengths


def test_no_function_in_ci_src_is_over_60_lines() -> None:
    lengths = function_lengths(SRC)
    assert len(lengths) > 100, "the walk found the sources"
    too_long = {
        name: lines for name, lines in lengths.items() if lines > LIMIT and name not in EXCEPTIONS
    }
    assert not too_long, (
        f"over {LIMIT} lines: {too_long}; split each along its steps into named helpers"
    )


def test_every_exception_is_still_needed() -> None:
    lengths = function_lengths(SRC)
    for name in EXCEPTIONS:
        assert name in lengths, f"{name} is gone: remove it from EXCEPTIONS"
        assert lengths[name] > LIMIT, (
            f"{name} is {lengths[name]} lines now: remove it from EXCEPTIONS"
        )


def test_the_walk_counts_nested_functions_and_methods(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    body = "\n".join(f"            x{i} = {i}" for i in range(LIMIT))
    (tmp_path / "pkg" / "m.py").write_text(
        f"class C:\n    def m(self):\n        def inner():\n{body}\n        return 1\n",
        encoding="utf-8",
    )
    assert function_lengths(tmp_path) == {
        "pkg/m.py::C.m": LIMIT + 3,
        "pkg/m.py::C.m.inner": LIMIT + 1,
    }
