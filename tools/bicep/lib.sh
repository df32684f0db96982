#!/usr/bin/env bash
# Shared by restore.sh and build.sh (sourced, not run): where the NuGet-restored Bicep CLI lives.
# shellcheck disable=SC2034  # variables are used by the scripts that source this file

bicep_tools_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$bicep_tools_dir/../.." && pwd)"

# The version is pinned once, in the tools project.
bicep_version="$(sed -n 's:.*<BicepVersion>\(.*\)</BicepVersion>.*:\1:p' "$bicep_tools_dir/bicep-tools.csproj")"
if [[ -z "$bicep_version" ]]; then
  echo "tools/bicep: no <BicepVersion> in tools/bicep/bicep-tools.csproj" >&2
  exit 1
fi

bicep_package_dir="$repo_root/tools/bin/packages/azure.bicep.commandline.linux-x64/$bicep_version"
bicep_bin="$bicep_package_dir/tools/bicep"
