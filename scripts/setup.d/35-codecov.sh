#!/usr/bin/env bash
# codecov-cli in its own venv (.tools/codecov) from the hash-pinned scripts/tools/codecov.lock,
# linked as .tools/bin/codecovcli: the coverage upload tests run the real uploader against a
# local server. The pipeline installs the same lock into /opt/codecov inside its container.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
LOCK=scripts/tools/codecov.lock
VENV=.tools/codecov
STAMP=$VENV/.lock.sha256
WANT=$(sha256sum "$LOCK" | cut -d' ' -f1)

if [ -x "$VENV/bin/codecovcli" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
  echo "codecov-cli: up to date ($("$VENV/bin/codecovcli" --version))"
else
  echo "codecov-cli: installing into $VENV from $LOCK"
  rm -f "$STAMP"
  [ -x "$VENV/bin/python" ] || uv venv --quiet --python python3.11 "$VENV"
  VIRTUAL_ENV="$ROOT/$VENV" uv pip sync --quiet --require-hashes "$LOCK"
  echo "$WANT" > "$STAMP"
fi
mkdir -p .tools/bin
ln -sfn "$ROOT/$VENV/bin/codecovcli" .tools/bin/codecovcli
