"""The Python processes `./dev` starts keep their byte code in one cache under .tools, even where
the environment sets PYTHONDONTWRITEBYTECODE (every process would compile each import anew)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CACHE = REPO / ".tools" / "pycache"

# A `dagger` that imports a module of its own before answering `dagger version`: `./dev
# which-engine` starts it as it starts every program, with ./dev's environment.
FAKE_DAGGER = f"""#!{sys.executable}
import sys
sys.path.insert(0, {{folder!r}})
import answer
print(answer.VERSION)
"""


def test_byte_code_goes_to_the_cache_not_beside_the_sources(tmp_path: Path) -> None:
    (tmp_path / "answer.py").write_text('VERSION = "dagger v0.0.1 (fake) linux/amd64"\n')
    dagger = tmp_path / "dagger"
    dagger.write_text(FAKE_DAGGER.format(folder=str(tmp_path)))
    dagger.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"}
    done = subprocess.run(
        [str(REPO / "dev"), "which-engine"],
        env={
            **env,
            "PATH": f"{tmp_path}:/usr/local/bin:/usr/bin:/bin",
            "PYTHONDONTWRITEBYTECODE": "1",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "is v0.0.1" in done.stdout, done.stdout  # the fake ran and answered
    cached = list((CACHE / tmp_path.relative_to("/")).glob("answer.*.pyc"))
    assert len(cached) == 1, f"no byte code for answer.py under {CACHE}"
    assert not (tmp_path / "__pycache__").exists()
