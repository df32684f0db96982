/**
 * The vulnerability gate's rule (Trivy's semantics: --severity, --ignore-unfixed, an ignore file whose
 * `expired_at` entries stop applying; https://trivy.dev/latest/docs/configuration/filtering/).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  describeFinding,
  evaluateGate,
  gatingSeverities,
  type ScanReport,
  SEVERITIES,
  trivyIgnoreYaml,
  type VulnerabilityGate,
  vulnerabilityGateSchema,
} from '../../src/supply-chain/gate.js';

const report = (vulns: { id: string; sev: string; fixed?: string; pkg?: string }[]): ScanReport => ({
  SchemaVersion: 2,
  Results: [
    {
      Target: 'rootfs (ubuntu 24.04)',
      Class: 'os-pkgs',
      Type: 'ubuntu',
      Vulnerabilities: vulns.map((v) => ({
        VulnerabilityID: v.id,
        PkgName: v.pkg ?? 'openssl',
        InstalledVersion: '3.0.13-0ubuntu3.4',
        ...(v.fixed ? { FixedVersion: v.fixed } : {}),
        Severity: v.sev,
      })),
    },
  ],
});

const gate = (allowlist: VulnerabilityGate['allowlist'] = []): VulnerabilityGate =>
  vulnerabilityGateSchema.parse({ allowlist });

const CRITICAL = report([{ id: 'CVE-2026-1111', sev: 'CRITICAL', fixed: '3.0.13-0ubuntu3.6' }]);
const entry = { id: 'CVE-2026-1111', expires: '2026-12-31', reason: 'not reachable on the jump box' };

describe('vulnerability gate', () => {
  it('fails on a fixable Critical, names it, and counts it', () => {
    const r = evaluateGate(CRITICAL, gate(), new Date('2026-12-01T00:00:00Z'));
    expect(r.passed).toBe(false);
    expect(r.blocking.map(describeFinding)).toEqual([
      'CVE-2026-1111 (CRITICAL) in openssl 3.0.13-0ubuntu3.4, fixed in 3.0.13-0ubuntu3.6',
    ]);
    expect(r.counts.critical).toBe(1);
  });

  it('passes when an unexpired allowlist entry covers it, and fails again once the entry expires', () => {
    const g = gate([entry]);
    const before = evaluateGate(CRITICAL, g, new Date('2026-12-30T23:59:59Z'));
    expect(before.passed).toBe(true);
    expect(before.allowlisted.map((f) => f.id)).toEqual(['CVE-2026-1111']);
    const after = evaluateGate(CRITICAL, g, new Date('2026-12-31T00:00:00Z'));
    expect(after.passed).toBe(false);
    expect(after.expired).toEqual([entry]);
  });

  it('does not gate findings without a fix, nor severities below failOn', () => {
    const r = evaluateGate(
      report([
        { id: 'CVE-2026-2222', sev: 'CRITICAL' },
        { id: 'CVE-2026-3333', sev: 'MEDIUM', fixed: '1.2' },
      ]),
      gate(),
      new Date('2026-12-01T00:00:00Z'),
    );
    expect(r.passed).toBe(true);
    expect(r.counts).toMatchObject({ critical: 1, medium: 1 });
  });

  it('property: a finding blocks exactly when gating, fixable and not covered by an active entry', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SEVERITIES),
        fc.constantFrom('CRITICAL', 'HIGH', 'MEDIUM', 'LOW') as fc.Arbitrary<VulnerabilityGate['failOn']>,
        fc.boolean(),
        fc.option(fc.integer({ min: -40, max: 40 })),
        (sev, failOn, fixable, expiryOffsetDays) => {
          const now = new Date('2026-12-01T12:00:00Z');
          const allowlist =
            expiryOffsetDays === null
              ? []
              : [
                  {
                    id: 'CVE-2026-1111',
                    expires: new Date(now.getTime() + expiryOffsetDays * 86_400_000)
                      .toISOString()
                      .slice(0, 10),
                    reason: 'accepted for the test',
                  },
                ];
          const r = evaluateGate(
            report([{ id: 'CVE-2026-1111', sev, ...(fixable ? { fixed: '2' } : {}) }]),
            { enabled: true, failOn, allowlist },
            now,
          );
          const active = expiryOffsetDays !== null && expiryOffsetDays > 0;
          const expected = gatingSeverities(failOn).includes(sev) && fixable && !active;
          expect(r.passed).toBe(!expected);
        },
      ),
    );
  });

  it('rejects an allowlist entry without a reason or with a bad date, naming the field', () => {
    const r = vulnerabilityGateSchema.safeParse({
      allowlist: [{ id: 'CVE-2026-1', expires: '2026-13-45', reason: 'x' }],
    });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining(['allowlist.0.id', 'allowlist.0.expires', 'allowlist.0.reason']),
    );
  });

  it("renders Trivy's ignore file with expired_at", () => {
    expect(trivyIgnoreYaml(gate([entry]))).toBe(
      'vulnerabilities:\n  - id: CVE-2026-1111\n    expired_at: 2026-12-31\n    statement: "not reachable on the jump box"\n',
    );
    expect(gatingSeverities('HIGH')).toEqual(['CRITICAL', 'HIGH']);
  });
});
