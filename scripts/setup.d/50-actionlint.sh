#!/usr/bin/env bash
# actionlint (the GitHub Actions workflow linter) built from its Go module at a pinned version,
# into .tools/bin. Fast no-op when that version is already installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=v1.7.12
BIN=.tools/bin/actionlint

if [ -x "$BIN" ] && [ "$("$BIN" -version | head -1)" = "$VERSION" ]; then
  echo "actionlint: up to date ($VERSION)"
  exit 0
fi
echo "actionlint: building $VERSION from the Go module proxy"
mkdir -p .tools/bin
GOBIN="$PWD/.tools/bin" CGO_ENABLED=0 go install \
  -ldflags "-s -w -X github.com/rhysd/actionlint.version=$VERSION" \
  "github.com/rhysd/actionlint/cmd/actionlint@$VERSION"
