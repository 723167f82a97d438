#!/usr/bin/env bash
# terraform-docs, pinned, built from its Go module into .tools/bin (no prebuilt binary can be
# fetched here). `go install module@version` is refused when the proxy will not list the
# module's versions (it checks for deprecation first), so the pinned module is downloaded by
# exact version and built from its own go.mod/go.sum. Skips when the right version is present.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=v0.20.0
COMMIT=cf462c5d  # the release tag's commit, as the upstream Makefile stamps it
MODULE=github.com/terraform-docs/terraform-docs
BIN=.tools/bin/terraform-docs

if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "version $VERSION "; then
  echo "terraform-docs: up to date ($VERSION)"
  exit 0
fi
command -v go >/dev/null || { echo "terraform-docs: Go toolchain not found; install Go >= 1.23" >&2; exit 1; }
echo "terraform-docs: building $MODULE@$VERSION"
# From an empty folder, so that no go.mod nearby is read or edited.
SRC=$(cd "$(mktemp -d)" && GOWORK=off go mod download -json "$MODULE@$VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
mkdir -p .tools/bin
OUT=$PWD/$BIN
(cd "$SRC" && CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X $MODULE/internal/version.commit=$COMMIT" -o "$OUT.tmp" .)
mv "$OUT.tmp" "$OUT"
"$BIN" --version
