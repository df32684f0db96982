#!/usr/bin/env bash
# Compiles infra/main.bicep and infra/main.bicepparam (to a temporary folder), lints every .bicep file under
# infra/ and checks that they are formatted as `bicep format` would. Fails on any error, warning or format
# difference. Run tools/bicep/restore.sh first.
set -euo pipefail
# shellcheck source=tools/bicep/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ ! -x "$bicep_bin" ]]; then
  echo "build.sh: Bicep CLI $bicep_version is not restored; run: bash tools/bicep/restore.sh" >&2
  exit 1
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
failed=0

# Runs one bicep command; any failure or any "Warning"/"Error" diagnostic fails the build.
check() {
  local log="$out/diagnostics.log"
  if ! "$bicep_bin" "$@" >"$log" 2>&1; then
    failed=1
  fi
  if grep -Eq ' : (Warning|Error) ' "$log"; then
    failed=1
  fi
  cat "$log"
}

cd "$repo_root"
check build infra/main.bicep --outfile "$out/main.json"
check lint --pattern 'infra/**/*.bicep'
# The parameters file reads azd's environment; sample values make it compile here.
AZURE_ENV_NAME="${AZURE_ENV_NAME:-ci}" \
  AZURE_LOCATION="${AZURE_LOCATION:-eastus2}" \
  BUILD_SUBNET_ID="${BUILD_SUBNET_ID:-/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-imagebuilder/subnets/snet-imagebuilder}" \
  check build-params infra/main.bicepparam --outfile "$out/main.parameters.json"

# Format check: format a copy and compare (fix with: bicep format --pattern 'infra/**/*.bicep').
cp -r infra "$out/formatted"
(cd "$out/formatted" && "$bicep_bin" format --pattern '**/*.bicep' && "$bicep_bin" format main.bicepparam)
if ! diff -ru infra "$out/formatted"; then
  echo "build.sh: infra/ is not formatted; run: $bicep_bin format --pattern 'infra/**/*.bicep'" >&2
  failed=1
fi

if ((failed)); then
  echo "build.sh: Bicep build, lint or format check failed" >&2
  exit 1
fi
echo "build.sh: infra/main.bicep and infra/main.bicepparam compile; lint and format clean (Bicep $bicep_version)"
