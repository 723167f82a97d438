#!/usr/bin/env bash
# Fills a local filesystem mirror with the hashicorp/aws provider, so that `terraform validate`
# can run against the real provider without reaching a provider registry at validate time:
#   scripts/terraform-provider-mirror.sh [MIRROR_DIR]      (default .tools/terraform-providers)
# The terraform/tests validate test uses the mirror when it holds the provider.
#
# Two sources, in order:
#  1. `terraform providers mirror` (needs the provider registry; works on a developer machine).
#  2. A build from the Go module proxy. On this project's machines the registry is unreachable
#     and the proxy serves github.com/hashicorp/terraform-provider-aws only at v1.60.0 (2019:
#     module path github.com/terraform-providers/..., plugin protocol 4, which Terraform >= 0.12
#     refuses); every 5.x/6.x version answers 403. The script says so and exits 1 rather than
#     leave a mirror that validate would trust.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MIRROR=${1:-$ROOT/.tools/terraform-providers}
MIN_VERSION=5.81.0  # terraform/versions.tf requires >= 5.81, < 7.0
PROVIDER_MODULE=github.com/hashicorp/terraform-provider-aws
export PATH="$ROOT/.tools/bin:$PATH"

has_provider() { compgen -G "$MIRROR/registry.terraform.io/hashicorp/aws/*/*/terraform-provider-aws*" >/dev/null; }

if has_provider; then
  echo "provider mirror: hashicorp/aws already in $MIRROR"
  exit 0
fi
mkdir -p "$MIRROR"

echo "provider mirror: trying the provider registry (terraform providers mirror)"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp -r terraform/*.tf terraform/modules "$WORK/"
if (cd "$WORK" && terraform get -no-color && timeout 600 terraform providers mirror -platform=linux_amd64 "$MIRROR") >"$WORK/log" 2>&1 && has_provider; then
  echo "provider mirror: hashicorp/aws mirrored into $MIRROR"
  exit 0
fi
echo "provider mirror: registry unavailable: $(grep -m1 -iE 'error|fail' "$WORK/log" | sed 's/\x1b\[[0-9;]*m//g' || echo 'no detail')"

echo "provider mirror: looking for a buildable $PROVIDER_MODULE on the Go module proxy"
command -v go >/dev/null || { echo "provider mirror: no Go toolchain; install Go or run this where the provider registry is reachable" >&2; exit 1; }
VERSIONS=$(cd "$(mktemp -d)" && GOWORK=off GOFLAGS=-mod=mod go list -m -versions "$PROVIDER_MODULE" 2>/dev/null | cut -d' ' -f2- || true)
USABLE=$(printf '%s\n' $VERSIONS "v$MIN_VERSION-" | sort -V | sed -n "/^v$MIN_VERSION-\$/,\$p" | sed 1d | grep -E "^v[56]\\." | tail -1 || true)
if [ -z "$USABLE" ]; then
  echo "provider mirror: the Go module proxy serves $PROVIDER_MODULE only at: ${VERSIONS:-nothing}." >&2
  echo "provider mirror: none satisfies the modules' constraint (>= $MIN_VERSION); v1.x also speaks plugin protocol 4, which Terraform >= 0.12 refuses." >&2
  echo "provider mirror: run this script on a machine that reaches the provider registry and copy $MIRROR here, or set TF_PROVIDER_MIRROR to such a mirror." >&2
  exit 1
fi

echo "provider mirror: building $PROVIDER_MODULE@$USABLE (large: expect tens of minutes on 2 cores)"
VERSION=${USABLE#v}
VERSION=${VERSION%%+*}
SRC=$(cd "$(mktemp -d)" && GOWORK=off go mod download -json "$PROVIDER_MODULE@$USABLE" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
DEST="$MIRROR/registry.terraform.io/hashicorp/aws/$VERSION/linux_amd64"
mkdir -p "$DEST"
(cd "$SRC" && GOWORK=off CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$DEST/terraform-provider-aws_v$VERSION" .)
echo "provider mirror: hashicorp/aws $VERSION built into $DEST"
