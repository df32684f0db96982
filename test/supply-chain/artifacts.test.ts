/**
 * Artifacts between markers in customization.log (src/supply-chain/artifacts.ts): what the scan script
 * prints (gzip -9 -n | base64 -w 76 between BEGIN/END lines) is read back byte for byte through Packer's
 * line prefixes, interleaved stderr lines are skipped, and damaged blocks are reported, never used.
 * The emulator's scan output (aib/scan-output.ts) reads the gate from the generated scan script.
 */
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanScript } from '../../src/image/customizer-scripts.js';
import { DEFAULT_TOOLS_MANIFEST } from '../../src/image/tools-manifest.js';
import { emulatedScan, gateOfScanScript } from '../../src/local/arm-emulator/aib/scan-output.js';
import {
  encodeArtifact,
  extractArtifacts,
  extractArtifactsFromStream,
  GATE_FAILED_TEXT,
} from '../../src/supply-chain/artifacts.js';

const gz = (b: Buffer) => gzipSync(b, { level: 9 });
const packer = (line: string, i = 0) =>
  `[2026-01-01T00:${String(i % 60).padStart(2, '0')}:00.000Z] PACKER OUT     azure-arm: ${line}`;

describe('artifacts in customization.log', () => {
  it('property: any bytes round-trip through the markers and Packer prefixes, stderr lines skipped', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4000 }), fc.uint8Array({ maxLength: 500 }), (a, t) => {
        const block = encodeArtifact('sbom', Buffer.from(a), gz).map(packer);
        // Packer interleaves the script's stderr with its stdout.
        block.splice(1, 0, '[2026-01-01T00:00:00.000Z] PACKER ERR     azure-arm: [jumpbox-scan] log line');
        const log = [
          'noise',
          ...block,
          ...encodeArtifact('tools', Buffer.from(t), gz).map(packer),
          'end',
        ].join('\n');
        const x = extractArtifacts(log);
        expect(x.problems).toEqual([]);
        expect(x.artifacts.sbom?.content.equals(Buffer.from(a))).toBe(true);
        expect(x.artifacts.tools?.content.equals(Buffer.from(t))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('reads the bytes the scan script itself prints (gzip -9 -n | base64 -w 76)', () => {
    const content = '{"bomFormat":"CycloneDX","specVersion":"1.6"}\n'.repeat(40);
    const r = spawnSync(
      'bash',
      [
        '-c',
        `printf '%s' "$1" > "$TMPDIR_/f"; printf 'JUMPBOX-ARTIFACT-BEGIN sbom sha256=%s encoding=gzip+base64\\n' "$(sha256sum "$TMPDIR_/f" | cut -d' ' -f1)"; gzip -9 -n -c "$TMPDIR_/f" | base64 -w 76; echo 'JUMPBOX-ARTIFACT-END sbom'`,
        'x',
        content,
      ],
      { encoding: 'utf8', env: { ...process.env, TMPDIR_: process.env.TMPDIR ?? '/tmp' } },
    );
    expect(r.status, r.stderr).toBe(0);
    const log = r.stdout.trimEnd().split('\n').map(packer).join('\n');
    expect(extractArtifacts(log).artifacts.sbom?.content.toString('utf8')).toBe(content);
  });

  it('a truncated block, a hash mismatch or a non-base64 line is reported and not used', () => {
    const good = encodeArtifact('vulnerabilities', Buffer.from('{"SchemaVersion":2}'), gz);
    const truncated = extractArtifacts(good.slice(0, -1).join('\n'));
    expect(truncated.artifacts.vulnerabilities).toBeUndefined();
    expect(truncated.problems.join()).toMatch(/truncated/);
    const tampered = [good[0]!.replace(/sha256=[0-9a-f]{8}/, 'sha256=00000000'), ...good.slice(1)].join('\n');
    expect(extractArtifacts(tampered).problems.join()).toMatch(/sha256 mismatch/);
    const broken = [good[0]!, 'not base64 at all!', ...good.slice(1)].join('\n');
    expect(extractArtifacts(broken).artifacts.vulnerabilities).toBeUndefined();
  });

  it('sees the gate failure line and streams a large log line by line', async () => {
    const lines = [
      ...Array.from({ length: 20_000 }, (_, i) =>
        packer(`Get:${i} http://azure.archive.ubuntu.com/ubuntu pkg`, i),
      ),
      ...encodeArtifact('sbom', Buffer.from('{}'), gz).map(packer),
      `[t] PACKER ERR     azure-arm: ${GATE_FAILED_TEXT}: CRITICAL,HIGH findings with a fix available`,
    ];
    const x = await extractArtifactsFromStream(Readable.from(lines.map((l) => `${l}\r\n`)));
    expect(x.gateFailed).toBe(true);
    expect(x.scanRan).toBe(true);
    expect(x.artifacts.sbom?.content.toString()).toBe('{}');
  });
});

// Sources for the emulated scan: trivy.dev docs on `--ignorefile` (an entry's `expired_at` ends it),
// `--ignore-unfixed` and `--exit-code`; USN-6859-1 (CVE-2024-6387 in openssh-server, fixed in
// 1:9.6p1-3ubuntu13.3, Ubuntu priority High, which Trivy reports for Ubuntu packages); the CycloneDX 1.6 JSON
// schema for the SBOM. The same list is in docs/emulator.md ("Build state machine").
describe("the emulator's scan", () => {
  const gate = {
    enabled: true,
    failOn: 'HIGH' as const,
    allowlist: [{ id: 'CVE-2024-6387', expires: '2026-01-03', reason: 'sshd is not exposed here' }],
  };
  const script = scanScript(DEFAULT_TOOLS_MANIFEST, gate);
  const customize = [
    {
      name: 'jumpbox-scan',
      inline: [`printf '%s' '${Buffer.from(script).toString('base64')}' | base64 -d > /tmp/x`],
    },
  ];

  it('reads the gate (severities and allowlist) from the generated scan script', () => {
    expect(gateOfScanScript(script)).toEqual(gate);
  });

  it('applies it at the scan time: allowlisted before the expiry day, blocking from 00:00 UTC of it', () => {
    const at = (iso: string) =>
      emulatedScan({ customize, findings: 'openssh', runGuid: 'g', atMs: Date.parse(iso) });
    expect(at('2026-01-02T23:59:59Z')?.blocked).toBe(false);
    const late = at('2026-01-03T00:00:00Z');
    expect(late?.blocked).toBe(true);
    expect(late?.blocking).toEqual([
      'CVE-2024-6387 (HIGH) in openssh-server 1:9.6p1-3ubuntu13, fixed in 1:9.6p1-3ubuntu13.3',
    ]);
    expect(late?.lines.at(-1)?.text).toContain(GATE_FAILED_TEXT);
    // What it prints is what the app extracts.
    const x = extractArtifacts(late!.lines.map((l) => packer(l.text)).join('\n'));
    expect(x.problems).toEqual([]);
    expect(Object.keys(x.artifacts).sort()).toEqual(['sbom', 'vulnerabilities']);
  });
});
