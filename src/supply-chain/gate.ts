/**
 * The vulnerability gate: which scanner findings stop a build. A finding blocks when its severity is at or
 * above `failOn`, a fixed version exists (Trivy's `--ignore-unfixed`), and no unexpired allowlist entry
 * covers it. The build VM applies the same rule with Trivy itself (`--severity`, `--ignore-unfixed`,
 * `--ignorefile` with `expired_at`); this module re-applies it to the archived report (the counts in the
 * build record, the finding named in the error) and drives the emulator's scan.
 */
import { z } from 'zod';

export const SEVERITIES = ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Severity = (typeof SEVERITIES)[number];

const VULN_ID = /^(CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export const allowlistEntrySchema = z
  .object({
    id: z.string().regex(VULN_ID, 'must be a CVE id (CVE-2024-6387) or a GHSA id'),
    /** The entry stops applying at 00:00 UTC on this day. */
    expires: z
      .string()
      .regex(DATE, 'must be a date YYYY-MM-DD')
      .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), 'must be a real date'),
    reason: z.string().min(10, 'say why the finding is accepted (at least 10 characters)'),
  })
  .strict();

export const vulnerabilityGateSchema = z
  .object({
    /** Scan the image and produce its SBOM (false: no scan, no SBOM, no gate). */
    enabled: z.boolean().default(true),
    /** Lowest severity that fails the build (default HIGH: Critical and High). */
    failOn: z.enum(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW']).default('HIGH'),
    allowlist: z.array(allowlistEntrySchema).max(200).default([]),
  })
  .strict();

export type AllowlistEntry = z.infer<typeof allowlistEntrySchema>;
export type VulnerabilityGate = z.infer<typeof vulnerabilityGateSchema>;

export const DEFAULT_GATE: VulnerabilityGate = Object.freeze({
  enabled: true,
  failOn: 'HIGH',
  allowlist: [],
}) as VulnerabilityGate;

/** The severities at or above `failOn`, highest first (Trivy's --severity list). */
export function gatingSeverities(failOn: VulnerabilityGate['failOn']): Severity[] {
  return SEVERITIES.slice(SEVERITIES.indexOf(failOn)).reverse();
}

/** The subset of Trivy's JSON report (schema version 2) that the gate reads. */
export interface ScanReport {
  readonly SchemaVersion?: number;
  readonly ArtifactName?: string;
  readonly Results?: readonly {
    readonly Target: string;
    readonly Class?: string;
    readonly Type?: string;
    readonly Vulnerabilities?: readonly ScanFinding[] | null;
  }[];
}

export interface ScanFinding {
  readonly VulnerabilityID: string;
  readonly PkgName: string;
  readonly InstalledVersion: string;
  readonly FixedVersion?: string;
  readonly Severity: string;
  readonly Title?: string;
  readonly Status?: string;
}

export interface Finding {
  readonly id: string;
  readonly package: string;
  readonly installed: string;
  readonly fixed?: string | undefined;
  readonly severity: Severity;
  readonly title?: string | undefined;
}

export type SeverityCounts = Record<Lowercase<Severity>, number>;

export interface GateResult {
  readonly passed: boolean;
  /** Every finding, by severity (fixable or not, allowlisted or not). */
  readonly counts: SeverityCounts;
  readonly blocking: readonly Finding[];
  readonly allowlisted: readonly (Finding & { readonly expires: string; readonly reason: string })[];
  /** Allowlist entries that have expired (they no longer apply). */
  readonly expired: readonly AllowlistEntry[];
}

function severityOf(s: string): Severity {
  const u = s.toUpperCase();
  return (SEVERITIES as readonly string[]).includes(u) ? (u as Severity) : 'UNKNOWN';
}

/** The findings of a report, one per (id, package, installed version). */
export function findingsOf(report: ScanReport): Finding[] {
  const seen = new Map<string, Finding>();
  for (const r of report.Results ?? []) {
    for (const v of r.Vulnerabilities ?? []) {
      const key = `${v.VulnerabilityID}|${v.PkgName}|${v.InstalledVersion}`;
      if (seen.has(key)) continue;
      seen.set(key, {
        id: v.VulnerabilityID,
        package: v.PkgName,
        installed: v.InstalledVersion,
        fixed: v.FixedVersion ? v.FixedVersion : undefined,
        severity: severityOf(v.Severity),
        title: v.Title,
      });
    }
  }
  return [...seen.values()];
}

/** Whether an entry still applies at `now` (it stops at 00:00 UTC of its expiry day). */
export function entryActive(entry: AllowlistEntry, now: Date): boolean {
  return now.getTime() < Date.parse(`${entry.expires}T00:00:00Z`);
}

export function evaluateGate(report: ScanReport, gate: VulnerabilityGate, now: Date): GateResult {
  const counts: SeverityCounts = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
  const gating = new Set(gatingSeverities(gate.failOn));
  const blocking: Finding[] = [];
  const allowlisted: (Finding & { expires: string; reason: string })[] = [];
  for (const f of findingsOf(report)) {
    counts[f.severity.toLowerCase() as Lowercase<Severity>] += 1;
    if (!gating.has(f.severity) || f.fixed === undefined) continue;
    const entry = gate.allowlist.find((e) => e.id === f.id && entryActive(e, now));
    if (entry) allowlisted.push({ ...f, expires: entry.expires, reason: entry.reason });
    else blocking.push(f);
  }
  const order = (f: Finding) => -SEVERITIES.indexOf(f.severity);
  blocking.sort((a, b) => order(a) - order(b) || a.id.localeCompare(b.id));
  return {
    passed: blocking.length === 0,
    counts,
    blocking,
    allowlisted,
    expired: gate.allowlist.filter((e) => !entryActive(e, now)),
  };
}

/** One line naming a finding: `CVE-2024-6387 (HIGH) in openssh-server 1:9.6p1-3ubuntu13, fixed in 1:9.6p1-3ubuntu13.3`. */
export function describeFinding(f: Finding): string {
  return `${f.id} (${f.severity}) in ${f.package} ${f.installed}${f.fixed ? `, fixed in ${f.fixed}` : ''}`;
}

/** Trivy's YAML ignore file for the allowlist (`expired_at` makes Trivy drop an entry once it has expired). */
export function trivyIgnoreYaml(gate: VulnerabilityGate): string {
  if (gate.allowlist.length === 0) return 'vulnerabilities: []\n';
  const q = (s: string) => JSON.stringify(s);
  const lines = ['vulnerabilities:'];
  for (const e of gate.allowlist) {
    lines.push(`  - id: ${e.id}`);
    lines.push(`    expired_at: ${e.expires}`, `    statement: ${q(e.reason)}`);
  }
  return `${lines.join('\n')}\n`;
}
