#!/usr/bin/env bash
# Restores the Bicep CLI from NuGet (package Azure.Bicep.CommandLine.linux-x64, version pinned in
# bicep-tools.csproj) into tools/bin/packages, then checks the binary against the pinned SHA-256.
# Needs the .NET SDK and the NuGet source; nothing else is downloaded.
set -euo pipefail
# shellcheck source=tools/bicep/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "restore.sh: the dotnet SDK is not on PATH; install the .NET SDK (8 or later) to restore the Bicep CLI" >&2
  exit 1
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet restore "$bicep_tools_dir/bicep-tools.csproj" --nologo --verbosity quiet

if [[ ! -f "$bicep_bin" ]]; then
  echo "restore.sh: restore succeeded but $bicep_bin is missing" >&2
  exit 1
fi

expected="$(awk -v v="$bicep_version" '$2 == v { print $1 }' "$bicep_tools_dir/bicep.sha256")"
if [[ -z "$expected" ]]; then
  echo "restore.sh: no checksum for Bicep $bicep_version in tools/bicep/bicep.sha256; add '<sha256> $bicep_version'" >&2
  exit 1
fi
actual="$(sha256sum "$bicep_bin" | cut -d' ' -f1)"
if [[ "$actual" != "$expected" ]]; then
  echo "restore.sh: checksum mismatch for $bicep_bin (expected $expected, got $actual)" >&2
  exit 1
fi

chmod +x "$bicep_bin"
"$bicep_bin" --version
