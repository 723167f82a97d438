#!/usr/bin/env bash
# A hashicorp/aws provider in the filesystem mirror .tools/terraform-providers, so that the
# terraform tests can run `terraform validate` offline. The real provider when it can be had,
# else a schema stub of it (see scripts/terraform-provider-mirror.sh for why and what it checks).
# Fast no-op when the mirror already holds the provider.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/terraform-provider-mirror.sh .tools/terraform-providers
