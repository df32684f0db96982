/**
 * Generates the bash scripts that run inside the AIB build VM: OS hardening + updates, tool installation
 * (download -> verify everything -> only then install), cleanup, and the in-VM validation.
 *
 * Pure functions of the manifest: the same manifest always yields byte-identical scripts (they are part of the
 * template content hash). Sandbox overrides (tests only; the template sets none of them):
 *   JUMPBOX_INSTALL_PREFIX     install prefix (default /usr/local)
 *   JUMPBOX_DOWNLOAD_BASE_URL  fetch https://HOST/PATH from ${BASE}/HOST/PATH (lets a test server see the host)
 *   JUMPBOX_SKIP_APT           "true" skips apt, the Azure CLI and system files (sshd) — no root needed
 *   JUMPBOX_SSHD_CONFIG_DIR    where the sshd drop-in is written (default /etc/ssh/sshd_config.d)
 */
import {
  DEFAULT_GATE,
  gatingSeverities,
  trivyIgnoreYaml,
  type VulnerabilityGate,
} from '../supply-chain/gate.js';
import {
  type DownloadTool,
  enabledDownloads,
  expand,
  manifestHash,
  pinnedSha256,
  type ToolsManifest,
} from './tools-manifest.js';

/** Single-quotes a string for bash. */
export function shq(value: string): string {
  return `'${value.replaceAll("'", `'"'"'`)}'`;
}

/** The sshd settings the image enforces (a drop-in read before the distribution's own files). */
export const SSHD_HARDENING: ReadonlyArray<readonly [string, string]> = [
  ['X11Forwarding', 'no'],
  // CIS Ubuntu benchmarks ask for MaxAuthTries 4 or fewer.
  ['MaxAuthTries', '4'],
  ['PasswordAuthentication', 'no'],
  ['KbdInteractiveAuthentication', 'no'],
  ['PermitRootLogin', 'no'],
  ['PermitEmptyPasswords', 'no'],
];

const HEADER_COMMON = `set -euo pipefail
umask 022
readonly SKIP_APT="\${JUMPBOX_SKIP_APT:-false}"`;

function logFunctions(tag: string): string {
  return `log() { printf '[${tag}] %s\\n' "$*" >&2; }
die() { printf '[${tag}] ERROR: %s\\n' "$*" >&2; exit 1; }`;
}

const APT_FUNCTION = `apt_get() {
  DEBIAN_FRONTEND=noninteractive apt-get -y -q \\
    -o DPkg::Lock::Timeout=600 -o Acquire::Retries=5 \\
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}`;

function banner(name: string, manifest: ToolsManifest): string {
  return `#!/usr/bin/env bash
# jumpbox ${name} — generated from tools manifest ${manifestHash(manifest).slice(0, 12)}; do not edit by hand.`;
}

/** apt update + safe upgrade + prerequisites, and the sshd hardening drop-in. */
export function hardenOsScript(manifest: ToolsManifest): string {
  const sshdLines = SSHD_HARDENING.map(([k, v]) => `${k} ${v}`).join('\n');
  return `${banner('harden-os', manifest)}
${HEADER_COMMON}
readonly SSHD_DIR="\${JUMPBOX_SSHD_CONFIG_DIR:-/etc/ssh/sshd_config.d}"
${logFunctions('jumpbox-harden')}
${APT_FUNCTION}

if [[ "$SKIP_APT" != "true" ]]; then
  log "apt-get update and safe upgrade (never removes packages, never installs new ones)"
  apt_get update
  apt_get upgrade
  log "prerequisites for verified downloads"
  apt_get install --no-install-recommends ca-certificates curl gnupg unzip tar
fi

# sshd keeps the first value it reads for a keyword: a low-numbered drop-in wins over cloud-init's.
install -d -m 0755 "$SSHD_DIR"
cat > "$SSHD_DIR/00-jumpbox-hardening.conf" <<'SSHD'
# Managed by the jump-box image build.
${sshdLines}
SSHD
chmod 0644 "$SSHD_DIR/00-jumpbox-hardening.conf"
if [[ "$SKIP_APT" != "true" ]]; then
  grep -Eq '^[[:space:]]*Include[[:space:]]+/etc/ssh/sshd_config\\.d/\\*\\.conf' /etc/ssh/sshd_config \\
    || die "/etc/ssh/sshd_config does not include sshd_config.d; the hardening drop-in would be ignored"
  install -d -m 0755 /run/sshd
  sshd -t || die "sshd rejects its configuration"
fi
log "done"
`;
}

function downloadCall(t: DownloadTool): string {
  const url = expand(t.url, t.version);
  const artifact = url.slice(url.lastIndexOf('/') + 1);
  const sig = t.verify.signature;
  const args = [
    t.id,
    url,
    artifact,
    pinnedSha256(t) ?? '',
    t.verify.checksumFile ? expand(t.verify.checksumFile.url, t.version) : '',
    sig ? expand(sig.url, t.version) : '',
    sig ? sig.keyUrl : '',
    sig ? sig.keyFingerprint : '',
  ];
  return `fetch_verified ${args.map(shq).join(' ')}\nstage_binary ${[t.id, artifact, t.archive, expand(t.member, t.version), t.binary].map(shq).join(' ')}`;
}

/**
 * The shell functions that download and verify artifacts (shared by the install and scan scripts):
 * a private work directory, https only, signature → checksum file → pinned hash, then staging.
 * `fetch_verified` records the verified SHA-256 in $WORK/dl/<id>/sha256 (it goes into tools.lock).
 */
const VERIFIED_DOWNLOADS = `WORK="$(mktemp -d)"
readonly WORK
trap 'rm -rf -- "$WORK"' EXIT
mkdir -p "$WORK/stage"

PROTO='=https'
if [[ -n "$BASE_URL" ]]; then PROTO='=http,https'; fi
readonly PROTO

# https://HOST/PATH, or BASE/HOST/PATH when a sandbox mirror is configured.
source_url() {
  if [[ -n "$BASE_URL" ]]; then
    printf '%s/%s\\n' "\${BASE_URL%/}" "\${1#https://}"
  else
    printf '%s\\n' "$1"
  fi
}

fetch() {
  log "fetch $1"
  curl --fail --silent --show-error --location --max-redirs 5 \\
    --proto "$PROTO" --proto-redir "$PROTO" \\
    --retry 5 --retry-delay 2 --retry-connrefused \\
    --connect-timeout 20 --max-time 900 \\
    --output "$2" "$(source_url "$1")" || die "download failed: $1"
}

sha256_of() { sha256sum -- "$1" | awk '{ print $1 }'; }

require_sha256() {
  local actual
  actual="$(sha256_of "$1")"
  [[ "$actual" == "$2" ]] || die "$3: sha256 mismatch (expected $2, got $actual)"
  log "$3: sha256 ok"
}

# The hash for an artifact in a checksum file ("HASH  NAME" lines, or a single bare HASH).
checksum_from_file() {
  local found count
  found="$(awk -v name="$2" '
    function ishash(h) { return length(h) == 64 && h ~ /^[0-9a-fA-F]+$/ }
    NF == 1 && ishash($1) { bare = tolower($1); bares++ }
    NF >= 2 && ishash($1) { f = $2; sub(/^\\*/, "", f); sub(/^.*\\//, "", f); if (f == name) print tolower($1) }
    END { if (bares == 1 && NR == 1) print bare }' "$1")"
  count="$(printf '%s' "$found" | grep -c '^' || true)"
  [[ "$count" == "1" ]] || die "checksum file has $count entries for $2 (expected exactly one)"
  printf '%s\\n' "$found"
}

# Checks a detached signature over a checksum file with the key whose primary fingerprint is pinned.
verify_signature() {
  local sums="$1" sig="$2" key="$3" fpr="$4" what="$5" gnupg="$WORK/gnupg-$5" primaries
  mkdir -p "$gnupg" && chmod 700 "$gnupg"
  primaries="$(gpg --homedir "$gnupg" --batch --with-colons --show-keys "$key" 2>/dev/null \\
    | awk -F: '$1 == "pub" { want = 1; next } $1 == "fpr" && want { print $10; want = 0 }')" \\
    || die "$what: cannot read the signing key"
  grep -qx -- "$fpr" <<<"$primaries" || die "$what: signing key is not $fpr (found: \${primaries:-none})"
  gpg --homedir "$gnupg" --batch --quiet --import "$key" 2>/dev/null || die "$what: cannot import the signing key"
  gpg --homedir "$gnupg" --batch --export "$fpr" > "$gnupg/pinned.gpg"
  [[ -s "$gnupg/pinned.gpg" ]] || die "$what: pinned key missing after import"
  gpgv --homedir "$gnupg" --keyring "$gnupg/pinned.gpg" "$sig" "$sums" 2>"$gnupg/gpgv.log" \\
    || { cat "$gnupg/gpgv.log" >&2; die "$what: bad signature on the checksum file"; }
  log "$what: checksum file signature ok ($fpr)"
}

# id url artifact pinned-sha256 checksum-url signature-url key-url key-fingerprint
fetch_verified() {
  local id="$1" url="$2" artifact="$3" pinned="$4" sums_url="$5" sig_url="$6" key_url="$7" fpr="$8"
  local dir="$WORK/dl/$id"
  mkdir -p "$dir"
  [[ -n "$pinned" || -n "$sums_url" ]] || die "$id: nothing to verify against"
  fetch "$url" "$dir/$artifact"
  # Signature first (it vouches for the checksum file), then the checksum file, then the pinned hash.
  if [[ -n "$sums_url" ]]; then
    fetch "$sums_url" "$dir/checksums"
    if [[ -n "$sig_url" ]]; then
      fetch "$sig_url" "$dir/checksums.sig"
      fetch "$key_url" "$dir/signing-key.asc"
      verify_signature "$dir/checksums" "$dir/checksums.sig" "$dir/signing-key.asc" "$fpr" "$id"
    fi
    require_sha256 "$dir/$artifact" "$(checksum_from_file "$dir/checksums" "$artifact")" "$id (checksum file)"
  fi
  if [[ -n "$pinned" ]]; then require_sha256 "$dir/$artifact" "$pinned" "$id (pinned)"; fi
  sha256_of "$dir/$artifact" > "$dir/sha256"
}

# id artifact archive member binary — extracts into the staging area (nothing is installed yet).
stage_binary() {
  local src="$WORK/dl/$1/$2" out="$WORK/stage/$5"
  case "$3" in
    none) cp -- "$src" "$out" ;;
    tar.gz) tar -xzOf "$src" -- "$4" > "$out" || die "$1: $4 not found in $2" ;;
    zip) unzip -p "$src" "$4" > "$out" || die "$1: $4 not found in $2" ;;
    *) die "$1: unknown archive type $3" ;;
  esac
  [[ -s "$out" ]] || die "$1: extracted binary is empty"
}`;

/** Downloads and verifies every artifact; installs only when all verified. */
export function installToolsScript(manifest: ToolsManifest): string {
  const downloads = enabledDownloads(manifest);
  const cli = manifest.azureCli;
  const ext = manifest.aksPreview;
  const binaries = downloads.map((d) => shq(d.binary)).join(' ');
  const record = [
    ...(cli.enabled ? [`${cli.id}=${cli.version}`] : []),
    ...(cli.enabled && ext.enabled && ext.version ? [`${ext.id}=${ext.version}`] : []),
    ...downloads.map((d) => `${d.id}=${d.version}`),
  ].join('\n');
  const lockLine = (fields: string[]) => `  printf '%s\\t%s\\t%s\\t%s\\n' ${fields.join(' ')}`;
  const lockLines = [
    ...(cli.enabled
      ? [
          `  if [[ "$SKIP_APT" != "true" ]]; then`,
          `  ${lockLine([shq(cli.id), shq(cli.version), "'-'", shq(`apt:${cli.repository.url}`)])}`,
          '  fi',
        ]
      : []),
    ...downloads.map((d) =>
      lockLine([
        shq(d.id),
        shq(d.version),
        `"$(cat "$WORK/dl/${d.id}/sha256")"`,
        shq(expand(d.url, d.version)),
      ]),
    ),
  ];
  return `${banner('install-tools', manifest)}
${HEADER_COMMON}
readonly PREFIX="\${JUMPBOX_INSTALL_PREFIX:-/usr/local}"
readonly BASE_URL="\${JUMPBOX_DOWNLOAD_BASE_URL:-}"
${logFunctions('jumpbox-install')}
${APT_FUNCTION}

for cmd in curl sha256sum tar unzip gpg gpgv awk install; do
  command -v "$cmd" >/dev/null 2>&1 || die "required command '$cmd' is missing"
done

${VERIFIED_DOWNLOADS}
log "phase 1/2: download and verify (nothing is installed in this phase)"
${cli.enabled ? `if [[ "$SKIP_APT" != "true" ]]; then\n  fetch ${shq(cli.repository.keyUrl)} "$WORK/microsoft.asc"\n  require_sha256 "$WORK/microsoft.asc" ${shq(cli.repository.keySha256)} 'azure-cli repository key'\nfi` : 'log "Azure CLI disabled in the manifest (JUMPBOX_SKIP_APT=$SKIP_APT changes nothing here)"'}
${downloads.map(downloadCall).join('\n')}

log "phase 2/2: install"
${
  cli.enabled
    ? `if [[ "$SKIP_APT" != "true" ]]; then
  codename="$(awk -F= '$1 == "VERSION_CODENAME" { print $2 }' /etc/os-release)"
  [[ -n "$codename" ]] || die "cannot read VERSION_CODENAME from /etc/os-release"
  install -d -m 0755 /etc/apt/keyrings
  gpg --batch --yes --dearmor --output /etc/apt/keyrings/microsoft.gpg "$WORK/microsoft.asc"
  chmod 0644 /etc/apt/keyrings/microsoft.gpg
  printf 'Types: deb\\nURIs: %s\\nSuites: %s\\nComponents: %s\\nArchitectures: amd64\\nSigned-By: /etc/apt/keyrings/microsoft.gpg\\n' \\
    ${shq(cli.repository.url)} "$codename" ${shq(cli.repository.component)} > /etc/apt/sources.list.d/azure-cli.sources
  apt_get update
  apt_get install --no-install-recommends ${shq(`${cli.package}=${cli.version}-1~`)}"$codename"
  apt-mark hold ${shq(cli.package)}
${ext.enabled && ext.version ? `  az extension add --system --yes --name ${shq(ext.extension)} --version ${shq(ext.version)}\n` : ''}fi`
    : ''
}
install -d -m 0755 "$PREFIX/bin" "$PREFIX/share/jumpbox"
for bin in ${binaries}; do
  install -m 0755 -- "$WORK/stage/$bin" "$PREFIX/bin/$bin"
  log "installed $PREFIX/bin/$bin"
done
cat > "$PREFIX/share/jumpbox/tools.txt" <<'TOOLS'
${record}
TOOLS
# id, version, verified SHA-256 of the artifact, source (read back by the scan into the provenance record).
{
${lockLines.join('\n')}
} > "$PREFIX/share/jumpbox/tools.lock"
log "done"
`;
}

/** Markers around an artifact in customization.log (see src/supply-chain/artifacts.ts). */
export const ARTIFACT_BEGIN = 'JUMPBOX-ARTIFACT-BEGIN';
export const ARTIFACT_END = 'JUMPBOX-ARTIFACT-END';

/**
 * The last customizer: fetches and verifies the pinned scanner into a temporary directory, writes the image's
 * CycloneDX SBOM and a full vulnerability report, prints both (and tools.lock) between markers on stdout —
 * Packer copies stdout into customization.log, which the app archives — and then applies the gate: findings
 * at or above `failOn` with a fix available, minus unexpired allowlist entries, fail the build.
 * Sandbox overrides as for the install script, plus JUMPBOX_SCAN_ROOT (default /).
 */
export function scanScript(manifest: ToolsManifest, gate: VulnerabilityGate = DEFAULT_GATE): string {
  const t = manifest.scanner.tool;
  const severities = gatingSeverities(gate.failOn).join(',');
  return `${banner('scan', manifest)}
set -euo pipefail
umask 022
readonly PREFIX="\${JUMPBOX_INSTALL_PREFIX:-/usr/local}"
readonly BASE_URL="\${JUMPBOX_DOWNLOAD_BASE_URL:-}"
readonly SCAN_ROOT="\${JUMPBOX_SCAN_ROOT:-/}"
readonly FAIL_ON=${shq(severities)}
${logFunctions('jumpbox-scan')}

for cmd in curl sha256sum tar unzip gpg gpgv awk gzip base64; do
  command -v "$cmd" >/dev/null 2>&1 || die "required command '$cmd' is missing"
done

${VERIFIED_DOWNLOADS}

# Prints a file between markers on stdout: Packer copies it into customization.log, which the app archives.
emit_artifact() {
  local sum
  sum="$(sha256_of "$2")"
  printf '%s %s sha256=%s encoding=gzip+base64\\n' ${shq(ARTIFACT_BEGIN)} "$1" "$sum"
  gzip -9 -n -c -- "$2" | base64 -w 76
  printf '%s %s\\n' ${shq(ARTIFACT_END)} "$1"
}

log "scanner ${t.id} ${t.version}: download and verify (it is not installed into the image)"
${downloadCall(t)}
chmod 0755 "$WORK/stage/${t.binary}"
readonly SCANNER="$WORK/stage/${t.binary}"
cat > "$WORK/allowlist.yaml" <<'ALLOWLIST'
${trivyIgnoreYaml(gate).trimEnd()}
ALLOWLIST
export TRIVY_CACHE_DIR="$WORK/cache" TRIVY_NO_PROGRESS=true TRIVY_DISABLE_VEX_NOTICE=true

log "SBOM of $SCAN_ROOT (CycloneDX): OS packages and the installed binaries"
"$SCANNER" rootfs --format cyclonedx --output "$WORK/sbom.cdx.json" \\
  --skip-dirs "$WORK" --skip-dirs /proc --skip-dirs /sys --skip-dirs /dev "$SCAN_ROOT" \\
  || die "SBOM generation failed"
log "vulnerability report (every severity)"
"$SCANNER" sbom --format json --output "$WORK/vulnerabilities.json" "$WORK/sbom.cdx.json" \\
  || die "vulnerability scan failed"
log "gate: $FAIL_ON findings with a fix available, minus unexpired allowlist entries"
gate=0
"$SCANNER" sbom --skip-db-update --format table --severity "$FAIL_ON" --ignore-unfixed \\
  --ignorefile "$WORK/allowlist.yaml" --exit-code 3 "$WORK/sbom.cdx.json" || gate=$?

emit_artifact sbom "$WORK/sbom.cdx.json"
emit_artifact vulnerabilities "$WORK/vulnerabilities.json"
if [[ -f "$PREFIX/share/jumpbox/tools.lock" ]]; then
  emit_artifact tools "$PREFIX/share/jumpbox/tools.lock"
fi
case "$gate" in
  0) log "gate passed" ;;
  3) die "vulnerability gate failed: $FAIL_ON findings with a fix available (listed above)" ;;
  *) die "the scanner failed (exit $gate)" ;;
esac
`;
}

/** Caches and transient files; AIB deprovisions the VM itself afterwards. */
export function cleanupScript(manifest: ToolsManifest): string {
  return `${banner('cleanup', manifest)}
${HEADER_COMMON}
${logFunctions('jumpbox-cleanup')}
${APT_FUNCTION}

if [[ "$SKIP_APT" != "true" ]]; then
  apt_get autoremove --purge
  apt_get clean
  rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
  rm -rf /root/.cache /tmp/jumpbox-* /var/tmp/jumpbox-*
fi
log "done"
`;
}

/** In-VM validation: each tool's version command must report exactly the manifest's version. */
export function validateScript(manifest: ToolsManifest): string {
  const downloads = enabledDownloads(manifest);
  const cli = manifest.azureCli;
  const checks = downloads.map((d) => `check_version ${shq(d.id)} ${shq(d.version)} ${d.versionCommand}`);
  const sshdExpect = SSHD_HARDENING.map(([k, v]) => `${k.toLowerCase()} ${v}`);
  return `${banner('validate', manifest)}
${HEADER_COMMON}
${logFunctions('jumpbox-validate')}
failures=0

# The first x.y.z in the command's output must equal the manifest's version.
check_version() {
  local id="$1" expected="$2" out got
  shift 2
  if ! out="$("$@" 2>&1)"; then
    log "FAIL $id: '$*' exited non-zero"
    failures=$((failures + 1))
    return 0
  fi
  got="$(printf '%s\\n' "$out" | grep -Eo '[0-9]+\\.[0-9]+\\.[0-9]+' | head -n 1 || true)"
  if [[ "$got" == "$expected" ]]; then
    log "ok $id $got"
  else
    log "FAIL $id: expected $expected, found '\${got:-no version}'"
    failures=$((failures + 1))
  fi
}

${checks.join('\n')}
if [[ "$SKIP_APT" != "true" ]]; then
${cli.enabled ? `  check_version ${shq(cli.id)} ${shq(cli.version)} ${cli.versionCommand}\n` : ''}  effective="$(sudo sshd -T 2>/dev/null || true)"
  for want in ${sshdExpect.map(shq).join(' ')}; do
    if grep -qix -- "$want" <<<"$effective"; then log "ok sshd $want"; else log "FAIL sshd: expected '$want'"; failures=$((failures + 1)); fi
  done
fi
[[ "$failures" -eq 0 ]] || die "$failures validation check(s) failed"
log "all checks passed"
`;
}

export interface GeneratedScript {
  /** Customizer/validator name and file stem. */
  readonly name: string;
  readonly content: string;
}

/** The customizer scripts in execution order. */
export function customizerScripts(
  manifest: ToolsManifest,
  gate: VulnerabilityGate = DEFAULT_GATE,
): GeneratedScript[] {
  return [
    { name: 'jumpbox-harden-os', content: hardenOsScript(manifest) },
    { name: 'jumpbox-install-tools', content: installToolsScript(manifest) },
    { name: 'jumpbox-cleanup', content: cleanupScript(manifest) },
    ...(gate.enabled && manifest.scanner.tool.enabled
      ? [{ name: SCAN_SCRIPT_NAME, content: scanScript(manifest, gate) }]
      : []),
  ];
}

/** Name of the scan customizer (the emulator and the artifact extraction look for it). */
export const SCAN_SCRIPT_NAME = 'jumpbox-scan';

export function validationScripts(manifest: ToolsManifest): GeneratedScript[] {
  return [{ name: 'jumpbox-validate', content: validateScript(manifest) }];
}
