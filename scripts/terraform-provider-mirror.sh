#!/usr/bin/env bash
# Fills a local filesystem mirror with a hashicorp/aws provider for `terraform validate`:
#   scripts/terraform-provider-mirror.sh [MIRROR_DIR]      (default .tools/terraform-providers)
# terraform/tests/test_terraform_cli.py validates against it (CLI config: filesystem_mirror).
#
# Sources, best first:
#  1. The real provider via `terraform providers mirror` (needs the provider registry; works on a
#     developer machine, not on this project's machines).
#  2. The real provider built from the Go module proxy. On this project's machines the proxy
#     serves github.com/hashicorp/terraform-provider-aws only at v1.60.0 (2019: module path
#     github.com/terraform-providers/..., plugin protocol 4, which Terraform >= 0.12 refuses);
#     every 5.x/6.x version answers 403.
#  3. A schema stub: the provider schema of hashicorp/aws 6.25.0 rebuilt from HashiCorp's
#     generated CDKTF bindings (a hash-pinned PyPI package) and served by a small plugin built
#     with terraform-plugin-go (scripts/tools/aws-provider-schema-stub). terraform validate then
#     checks every resource type, argument name, type, required argument and block structure
#     against the provider's schema; it does not run the provider's own value checks, and the
#     few subtrees the bindings truncate are listed in MIRROR_DIR.stub.json.
# Idempotent: exits at once when the mirror already holds the provider.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MIRROR=${1:-$ROOT/.tools/terraform-providers}
MIRROR=$(mkdir -p "$MIRROR" && cd "$MIRROR" && pwd)
STUB_INFO="$MIRROR.stub.json"
PROVIDER_MODULE=github.com/hashicorp/terraform-provider-aws
STUB_SRC=scripts/tools/aws-provider-schema-stub
export PATH="$ROOT/.tools/bin:$PATH"

has_provider() { compgen -G "$MIRROR/registry.terraform.io/hashicorp/aws/*/*/terraform-provider-aws*" >/dev/null; }
# OpenTofu resolves `hashicorp/aws` on its own registry host: serve the same package there.
alias_for_opentofu() {
  rm -rf "$MIRROR/registry.opentofu.org"
  cp -al "$MIRROR/registry.terraform.io" "$MIRROR/registry.opentofu.org" 2>/dev/null \
    || cp -r "$MIRROR/registry.terraform.io" "$MIRROR/registry.opentofu.org"
}

if has_provider; then
  alias_for_opentofu
  echo "provider mirror: hashicorp/aws already in $MIRROR$([ -f "$STUB_INFO" ] && echo ' (schema stub)')"
  exit 0
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "provider mirror: 1. trying the provider registry (terraform providers mirror)"
mkdir -p "$WORK/config"
cp -r terraform/*.tf terraform/modules "$WORK/config/"
if (cd "$WORK/config" && terraform get -no-color && timeout 600 terraform providers mirror -platform=linux_amd64 "$MIRROR") >"$WORK/log" 2>&1 && has_provider; then
  rm -f "$STUB_INFO"
  alias_for_opentofu
  echo "provider mirror: real hashicorp/aws mirrored into $MIRROR"
  exit 0
fi
echo "provider mirror:    unavailable: $(grep -m1 -iE 'error|fail' "$WORK/log" | sed 's/\x1b\[[0-9;]*m//g' || echo 'no detail')"

command -v go >/dev/null || { echo "provider mirror: no Go toolchain (needed for 2 and 3); install Go >= 1.24" >&2; exit 1; }
echo "provider mirror: 2. looking for a buildable $PROVIDER_MODULE on the Go module proxy"
VERSIONS=$(cd "$WORK" && GOWORK=off GOFLAGS=-mod=mod go list -m -versions "$PROVIDER_MODULE" 2>/dev/null | cut -d' ' -f2- || true)
USABLE=$(printf '%s\n' $VERSIONS | grep -E '^v6\.[0-9]+\.[0-9]+(\+incompatible)?$' | sort -V | tail -1 || true)
if [ -n "$USABLE" ]; then
  echo "provider mirror:    building $PROVIDER_MODULE@$USABLE (large: expect tens of minutes on 2 cores)"
  VERSION=${USABLE#v}
  VERSION=${VERSION%%+*}
  SRC=$(cd "$WORK" && GOWORK=off go mod download -json "$PROVIDER_MODULE@$USABLE" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  DEST="$MIRROR/registry.terraform.io/hashicorp/aws/$VERSION/linux_amd64"
  mkdir -p "$DEST"
  (cd "$SRC" && GOWORK=off CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$DEST/terraform-provider-aws_v$VERSION" .)
  rm -f "$STUB_INFO"
  alias_for_opentofu
  echo "provider mirror: real hashicorp/aws $VERSION built into $DEST"
  exit 0
fi
echo "provider mirror:    the proxy serves it only at: ${VERSIONS:-nothing}; none satisfies >= 6.0, < 7.0 (terraform/versions.tf)"

echo "provider mirror: 3. building the schema stub from HashiCorp's generated CDKTF bindings"
# The wheel only carries data (the bindings' JS sources); unpack it with uv, or pip where uv is
# missing (./dev puts a pip-less .venv first on PATH, and always has uv).
if command -v uv >/dev/null; then
  uv pip install --quiet --no-deps --require-hashes --python "$(command -v python3)" \
    --target "$WORK/wheel" -r "$STUB_SRC/bindings.txt"
else
  python3 -m pip install --quiet --no-deps --require-hashes --target "$WORK/wheel" \
    -r "$STUB_SRC/bindings.txt"
fi
python3 - "$WORK" <<'PY'
import sys, tarfile
from pathlib import Path
work = Path(sys.argv[1])
(tgz,) = (work / "wheel").glob("*/_jsii/*.jsii.tgz")
with tarfile.open(tgz) as bundle:
    bundle.extractall(work / "package", filter="data")
PY
mkdir -p "$WORK/stub"
cp "$STUB_SRC"/go.mod "$STUB_SRC"/go.sum "$STUB_SRC"/main.go "$WORK/stub/"
python3 "$STUB_SRC/cdktf_schema.py" "$WORK/package/package/lib" "$WORK/stub/schema.json"
VERSION=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["provider_version"])' "$WORK/stub/schema.json")
DEST="$MIRROR/registry.terraform.io/hashicorp/aws/$VERSION/linux_amd64"
mkdir -p "$DEST"
(cd "$WORK/stub" && GOWORK=off CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath -ldflags "-s -w" -o "$DEST/terraform-provider-aws_v$VERSION" .)
python3 - "$WORK/stub/schema.json" "$STUB_INFO" <<'PY'
import json, sys
schema = json.load(open(sys.argv[1]))
info = {
    "kind": "schema-stub",
    "provider_version": schema["provider_version"],
    "source": "cdktf-cdktf-provider-aws==21.22.1 (scripts/tools/aws-provider-schema-stub/bindings.txt)",
    "truncated": schema["truncated"],
}
open(sys.argv[2], "w").write(json.dumps(info, indent=2) + "\n")
PY
alias_for_opentofu
echo "provider mirror: schema stub of hashicorp/aws $VERSION built into $DEST (details: $STUB_INFO)"
