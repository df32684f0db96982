/**
 * What the scan customizer (jumpbox-scan.sh) prints into customization.log, emulated: the emulator reads
 * the script from the template (the inline runner's base64), takes its gate (FAIL_ON, the allowlist with
 * `expired_at`) and the tools the install script records in tools.lock, makes a Trivy-shaped JSON report
 * and a CycloneDX SBOM of a typical Ubuntu 24.04 jump box, applies the gate with src/supply-chain/gate.ts
 * at the moment customization ends (Trivy drops an ignore entry once `expired_at` has passed), and returns
 * the lines the script would print, artifacts between markers, and whether it fails the build.
 *
 * Findings (`findings` in the build behaviour): `typical` — a few findings Ubuntu has not fixed
 * (Trivy's `--ignore-unfixed` leaves them out of the gate); `openssh` — also CVE-2024-6387 ("regreSSHion")
 * in openssh-server 1:9.6p1-3ubuntu13, fixed in 1:9.6p1-3ubuntu13.3 (USN-6859-1; Ubuntu priority High,
 * which Trivy reports as HIGH for Ubuntu packages).
 * Sources: Trivy's JSON report (SchemaVersion 2: Results[].Vulnerabilities[] with VulnerabilityID, PkgName,
 * InstalledVersion, FixedVersion, Severity, Status), CycloneDX 1.6 JSON (bomFormat, specVersion,
 * components with purl), trivy.dev docs on `--ignorefile` (YAML, `expired_at`) and `--exit-code`.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { SCAN_SCRIPT_NAME } from '../../../image/customizer-scripts.js';
import { encodeArtifact } from '../../../supply-chain/artifacts.js';
import {
  type AllowlistEntry,
  describeFinding,
  evaluateGate,
  type ScanFinding,
  type ScanReport,
  type VulnerabilityGate,
} from '../../../supply-chain/gate.js';
import type { Json } from '../store.js';

export type ScanFindings = 'typical' | 'openssh';
export const SCAN_FINDINGS: readonly ScanFindings[] = ['typical', 'openssh'];

export interface EmulatedScan {
  /** Lines as the script prints them (stdout/stderr), without Packer's prefix. */
  readonly lines: readonly { readonly stream: 'out' | 'err'; readonly text: string }[];
  readonly blocked: boolean;
  readonly blocking: readonly string[];
}

/** The script a Shell customizer runs, decoded from its inline runner (src/image/template-body.ts). */
export function scriptOfCustomizer(customizer: Json): string | undefined {
  const inline = Array.isArray(customizer.inline) ? (customizer.inline as unknown[]) : [];
  const first = typeof inline[0] === 'string' ? inline[0] : '';
  const m = /printf '%s' '([A-Za-z0-9+/=]+)' \| base64 -d/.exec(first);
  return m ? Buffer.from(m[1]!, 'base64').toString('utf8') : undefined;
}

/** The gate the scan script applies: its FAIL_ON severities and the allowlist in its Trivy ignore file. */
export function gateOfScanScript(script: string): VulnerabilityGate | undefined {
  const failOn = /^readonly FAIL_ON='([A-Z,]+)'$/m.exec(script)?.[1];
  if (!failOn) return undefined;
  const lowest = failOn.split(',').at(-1) as VulnerabilityGate['failOn'];
  const block = /<<'ALLOWLIST'\n([\s\S]*?)\nALLOWLIST\n/.exec(script)?.[1] ?? '';
  const allowlist: AllowlistEntry[] = [];
  for (const m of block.matchAll(/- id: (\S+)\n\s+expired_at: (\d{4}-\d{2}-\d{2})\n\s+statement: (".*")/g)) {
    allowlist.push({ id: m[1]!, expires: m[2]!, reason: JSON.parse(m[3]!) as string });
  }
  return { enabled: true, failOn: lowest, allowlist };
}

interface LockedTool {
  readonly id: string;
  readonly version: string;
  readonly url: string;
  readonly sha256: string;
}

/** The downloads the install script verifies and records in tools.lock (id, version, URL, pinned hash). */
export function toolsOfInstallScript(script: string): LockedTool[] {
  const pinned = new Map<string, { url: string; sha: string }>();
  for (const m of script.matchAll(/^fetch_verified '([^']+)' '([^']+)' '[^']*' '([0-9a-f]{64})?'/gm)) {
    pinned.set(m[1]!, { url: m[2]!, sha: m[3] ?? '' });
  }
  const out: LockedTool[] = [];
  const lockLine = /printf '%s\\t%s\\t%s\\t%s\\n' '([^']+)' '([^']+)' ('-'|"\$\(cat [^)]*\)") '([^']+)'/g;
  for (const m of script.matchAll(lockLine)) {
    const [id, version, shaExpr, source] = [m[1]!, m[2]!, m[3]!, m[4]!];
    if (shaExpr === "'-'") {
      out.push({ id, version, url: source, sha256: '-' });
      continue;
    }
    const p = pinned.get(id);
    // Without a pinned hash the VM records what the (signed) checksum file said: stand in with a fixed value.
    const sha = p?.sha || createHash('sha256').update(`${id}@${version}:${source}`).digest('hex');
    out.push({ id, version, url: source, sha256: sha });
  }
  return out;
}

const UBUNTU_TYPICAL: ScanFinding[] = [
  {
    VulnerabilityID: 'CVE-2016-2781',
    PkgName: 'coreutils',
    InstalledVersion: '9.4-3ubuntu6',
    Severity: 'LOW',
    Status: 'affected',
    Title: 'coreutils: Non-privileged session can escape to the parent session in chroot',
  },
  {
    VulnerabilityID: 'CVE-2022-3219',
    PkgName: 'gpgv',
    InstalledVersion: '2.4.4-2ubuntu17',
    Severity: 'LOW',
    Status: 'affected',
    Title: 'gnupg: denial of service issue (resource consumption) using compressed packets',
  },
  {
    VulnerabilityID: 'CVE-2024-2236',
    PkgName: 'libgcrypt20',
    InstalledVersion: '1.10.3-2build1',
    Severity: 'LOW',
    Status: 'affected',
    Title: 'libgcrypt: vulnerable to Marvin Attack',
  },
];

const OPENSSH: ScanFinding = {
  VulnerabilityID: 'CVE-2024-6387',
  PkgName: 'openssh-server',
  InstalledVersion: '1:9.6p1-3ubuntu13',
  FixedVersion: '1:9.6p1-3ubuntu13.3',
  Severity: 'HIGH',
  Status: 'fixed',
  Title: 'openssh: regreSSHion - race condition in signal handler (remote code execution in sshd)',
};

const OS_PACKAGES: ReadonlyArray<readonly [string, string]> = [
  ['openssh-server', '1:9.6p1-3ubuntu13'],
  ['openssh-client', '1:9.6p1-3ubuntu13'],
  ['coreutils', '9.4-3ubuntu6'],
  ['gpgv', '2.4.4-2ubuntu17'],
  ['libgcrypt20', '1.10.3-2build1'],
  ['curl', '8.5.0-2ubuntu10.6'],
  ['ca-certificates', '20240203'],
];

function report(findings: ScanFindings, tools: readonly LockedTool[]): ScanReport & Json {
  const os = findings === 'openssh' ? [OPENSSH, ...UBUNTU_TYPICAL] : UBUNTU_TYPICAL;
  return {
    SchemaVersion: 2,
    ArtifactName: 'sbom.cdx.json',
    ArtifactType: 'cyclonedx',
    Metadata: { OS: { Family: 'ubuntu', Name: '24.04' } },
    Results: [
      { Target: 'sbom.cdx.json (ubuntu 24.04)', Class: 'os-pkgs', Type: 'ubuntu', Vulnerabilities: os },
      ...tools
        .filter((t) => t.sha256 !== '-')
        .map((t) => ({
          Target: `usr/local/bin/${t.id}`,
          Class: 'lang-pkgs',
          Type: 'gobinary',
          Vulnerabilities: null,
        })),
    ],
  } as unknown as ScanReport & Json;
}

function sbom(runGuid: string, atIso: string, scanner: string, tools: readonly LockedTool[]): Json {
  const serial = createHash('sha256').update(runGuid).digest('hex');
  const uuid = `${serial.slice(0, 8)}-${serial.slice(8, 12)}-${serial.slice(12, 16)}-${serial.slice(16, 20)}-${serial.slice(20, 32)}`;
  return {
    $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: `urn:uuid:${uuid}`,
    version: 1,
    metadata: {
      timestamp: atIso,
      tools: {
        components: [{ type: 'application', group: 'aquasecurity', name: 'trivy', version: scanner }],
      },
      component: { 'bom-ref': 'rootfs', type: 'application', name: '/' },
    },
    components: [
      { 'bom-ref': 'os', type: 'operating-system', name: 'ubuntu', version: '24.04' },
      ...OS_PACKAGES.map(([name, version]) => ({
        'bom-ref': `pkg:deb/ubuntu/${name}@${encodeURIComponent(version)}?arch=amd64&distro=ubuntu-24.04`,
        type: 'library',
        name,
        version,
        purl: `pkg:deb/ubuntu/${name}@${encodeURIComponent(version)}?arch=amd64&distro=ubuntu-24.04`,
      })),
      ...tools.map((t) => ({
        'bom-ref': `tool:${t.id}`,
        type: 'application',
        name: t.id,
        version: t.version,
        ...(t.sha256 !== '-' ? { hashes: [{ alg: 'SHA-256', content: t.sha256 }] } : {}),
        externalReferences: [{ type: 'distribution', url: t.url }],
      })),
    ],
  };
}

export interface ScanContext {
  readonly customize: readonly Json[];
  readonly findings: ScanFindings;
  readonly runGuid: string;
  /** When the scan runs (customization's end). */
  readonly atMs: number;
}

/** The scan's output, or undefined when the template has no scan customizer. */
export function emulatedScan(c: ScanContext): EmulatedScan | undefined {
  const step = c.customize.find((s) => s.name === SCAN_SCRIPT_NAME);
  const script = step ? scriptOfCustomizer(step) : undefined;
  const gate = script ? gateOfScanScript(script) : undefined;
  if (!script || !gate) return undefined;
  const install = c.customize.map(scriptOfCustomizer).find((s) => s?.includes('tools.lock'));
  const tools = install ? toolsOfInstallScript(install) : [];
  const scanner = /^# jumpbox scan/m.test(script)
    ? (/log "scanner \S+ (\S+): download and verify/.exec(script)?.[1] ?? 'unknown')
    : 'unknown';
  const rep = report(c.findings, tools);
  const bom = sbom(c.runGuid, new Date(c.atMs).toISOString(), scanner, tools);
  const verdict = evaluateGate(rep, gate, new Date(c.atMs));
  const lockText = tools.map((t) => `${t.id}\t${t.version}\t${t.sha256}\t${t.url}\n`).join('');
  const out = (text: string) => ({ stream: 'out' as const, text });
  const err = (text: string) => ({ stream: 'err' as const, text });
  const failOn = /^readonly FAIL_ON='([A-Z,]+)'$/m.exec(script)?.[1] ?? '';
  const gating = verdict.blocking;
  const lines = [
    err(`[jumpbox-scan] scanner trivy ${scanner}: download and verify (it is not installed into the image)`),
    err('[jumpbox-scan] trivy (checksum file): sha256 ok'),
    err('[jumpbox-scan] SBOM of / (CycloneDX): OS packages and the installed binaries'),
    err('[jumpbox-scan] vulnerability report (every severity)'),
    err(`[jumpbox-scan] gate: ${failOn} findings with a fix available, minus unexpired allowlist entries`),
    ...(gating.length > 0
      ? [
          out(''),
          out('sbom.cdx.json (ubuntu 24.04)'),
          out(
            `Total: ${gating.length} (${failOn
              .split(',')
              .map((s) => `${s}: ${gating.filter((f) => f.severity === s).length}`)
              .join(', ')})`,
          ),
          ...gating.map((f) =>
            out(`│ ${f.package} │ ${f.id} │ ${f.severity} │ fixed │ ${f.installed} │ ${f.fixed ?? ''} │`),
          ),
        ]
      : []),
    ...[
      ...encodeArtifact('sbom', Buffer.from(`${JSON.stringify(bom, null, 2)}\n`), (b) =>
        gzipSync(b, { level: 9 }),
      ),
      ...encodeArtifact('vulnerabilities', Buffer.from(`${JSON.stringify(rep, null, 2)}\n`), (b) =>
        gzipSync(b, { level: 9 }),
      ),
      ...(tools.length > 0
        ? encodeArtifact('tools', Buffer.from(lockText), (b) => gzipSync(b, { level: 9 }))
        : []),
    ].map(out),
    gating.length > 0
      ? err(
          `[jumpbox-scan] ERROR: vulnerability gate failed: ${failOn} findings with a fix available (listed above)`,
        )
      : err('[jumpbox-scan] gate passed'),
  ];
  return { lines, blocked: gating.length > 0, blocking: gating.map(describeFinding) };
}
