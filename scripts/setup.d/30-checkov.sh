#!/usr/bin/env bash
# checkov in its own venv (.tools/checkov) from the hash-pinned scripts/tools/checkov.lock,
# linked as .tools/bin/checkov. Its dependency tree is large and pinned tightly, so it must not
# share the project's .venv. Fast no-op when the venv already matches the lock.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
LOCK=scripts/tools/checkov.lock
VENV=.tools/checkov
STAMP=$VENV/.lock.sha256
WANT=$(sha256sum "$LOCK" | cut -d' ' -f1)

if [ -x "$VENV/bin/checkov" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
  echo "checkov: up to date ($("$VENV/bin/python" -c 'import checkov.version as v; print(v.version)'))"
else
  echo "checkov: installing into $VENV from $LOCK"
  rm -f "$STAMP"
  [ -x "$VENV/bin/python" ] || uv venv --quiet --python python3.11 "$VENV"
  VIRTUAL_ENV="$ROOT/$VENV" uv pip sync --quiet --require-hashes "$LOCK"
  echo "$WANT" > "$STAMP"
fi
mkdir -p .tools/bin
ln -sfn "$ROOT/$VENV/bin/checkov" .tools/bin/checkov
