#!/usr/bin/env bash
# A terraform CLI for the terraform/ checks (fmt, validate). Uses the machine's terraform when it
# has one. Otherwise builds OpenTofu, the CLI-compatible open-source fork, from its Go module
# into .tools/bin/tofu and links it as .tools/bin/terraform: no prebuilt binary can be fetched
# here, and hashicorp/terraform cannot be built from the Go module proxy (its go.mod replaces
# the backend packages with nested modules that are not published). OpenTofu's go.mod carries
# one non-local replace (its hcl fork), which the wrapper module in scripts/tools/opentofu
# repeats; go.sum there pins every dependency. Fast no-op when the right binary is present.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VERSION=1.10.10
WRAPPER=scripts/tools/opentofu
BIN=.tools/bin

own_terraform_is_tofu() { [ -L "$BIN/terraform" ] && [ "$(readlink "$BIN/terraform")" = "tofu" ]; }

# A terraform on PATH that is not our own link: the machine has one, use it.
SYSTEM_TERRAFORM=$(PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vx "$ROOT/$BIN" | paste -sd: -) command -v terraform || true)
if [ -n "$SYSTEM_TERRAFORM" ]; then
  if own_terraform_is_tofu; then rm -f "$BIN/terraform"; fi
  echo "terraform: using $SYSTEM_TERRAFORM ($("$SYSTEM_TERRAFORM" version 2>/dev/null | head -1))"
  exit 0
fi

if [ -x "$BIN/tofu" ] && "$BIN/tofu" version 2>/dev/null | head -1 | grep -qx "OpenTofu v$VERSION"; then
  ln -sfn tofu "$BIN/terraform"
  echo "terraform: up to date (OpenTofu v$VERSION as $BIN/terraform)"
  exit 0
fi

command -v go >/dev/null || { echo "terraform: no terraform on PATH and no Go toolchain to build OpenTofu; install Go >= 1.24" >&2; exit 1; }
echo "terraform: none on PATH; building OpenTofu v$VERSION from its Go module (several minutes on 2 cores, once)"
mkdir -p "$BIN"
(cd "$WRAPPER" && GOWORK=off CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath \
  -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
  -o "$ROOT/$BIN/tofu.tmp" github.com/opentofu/opentofu/cmd/tofu)
mv "$BIN/tofu.tmp" "$BIN/tofu"
ln -sfn tofu "$BIN/terraform"
"$BIN/terraform" version | head -1
