/**
 * `jumpbox-builder provenance BUILD_ID`: GET /api/builds/{id} with the function key, then the record's
 * provenance blob read with the caller's Entra identity (injected here); readable text or --json; clear
 * errors with the documented exit codes. The record's content is checked end to end in
 * test/supply-chain/supply-chain-e2e.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { type ProvenanceIo, parseProvenanceArgs, runProvenance } from '../../src/cli/commands/provenance.js';
import { main } from '../../src/cli/dispatch.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { parseImageDefinition } from '../../src/image/definition.js';
import { buildProvenance } from '../../src/supply-chain/provenance.js';

const KEY = 'sEcReT-function-key-123';
const BASE = 'https://app.example.net';
const BUILD = 'aks-jumpbox.20261201T030000Z.0000abcd';
const BLOB = `https://st.blob.core.windows.net/aib-logs/aks-jumpbox/${BUILD}/provenance.json`;

const record = buildProvenance({
  definition: parseImageDefinition({ name: 'aks-jumpbox' }),
  buildId: BUILD,
  result: 'Succeeded',
  requestedAt: '2026-12-01T03:00:00.000Z',
  runStartedAt: '2026-12-01T03:08:00.000Z',
  runEndedAt: '2026-12-01T03:49:00.000Z',
  recordedAt: '2026-12-01T03:49:00.000Z',
  sourceVersion: '24.04.202511060',
  templateName: 'aks-jumpbox-09842c52dc37',
  templateContentHash: `09842c52dc37${'0'.repeat(52)}`,
  toolsLock: `kubectl\t1.33.8\t${'a'.repeat(64)}\thttps://dl.k8s.io/release/v1.33.8/bin/linux/amd64/kubectl\n`,
  counts: { critical: 0, high: 1, medium: 0, low: 3, unknown: 0 },
  blocking: [],
});

function io(status: number, body: unknown, blob: () => Promise<string> = async () => JSON.stringify(record)) {
  const out: string[] = [];
  const err: string[] = [];
  const requests: { url: string; headers: Record<string, string> }[] = [];
  const read: string[] = [];
  const value: ProvenanceIo = {
    env: { JUMPBOX_FUNCTION_KEY: KEY },
    fetch: (async (url: string, init: RequestInit) => {
      requests.push({ url, headers: init.headers as Record<string, string> });
      return new Response(JSON.stringify(body), { status });
    }) as unknown as typeof fetch,
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    readBlob: (u) => {
      read.push(u);
      return blob();
    },
  };
  return { value, out, err, requests, read };
}

const options = parseProvenanceArgs([BUILD, '--url', BASE]);

describe('provenance command', () => {
  it('reads the build, then its provenance blob, and prints it readably', async () => {
    const t = io(200, { buildId: BUILD, status: 'Succeeded', record: { provenance: BLOB } });
    expect(await runProvenance(options, t.value)).toBe(0);
    expect(t.requests[0]?.url).toBe(`${BASE}/api/builds/${BUILD}`);
    expect(t.requests[0]?.headers['x-functions-key']).toBe(KEY);
    expect(t.read).toEqual([BLOB]);
    const text = t.out.join('');
    expect(text).toContain(`build       ${BUILD} (aks-jumpbox): Succeeded`);
    expect(text).toContain(
      'source      PlatformImage Canonical:ubuntu-24_04-lts:server version 24.04.202511060',
    );
    expect(text).toMatch(/kubectl +1\.33\.8 +sha256 a{64}/);
    expect(text).toMatch(/jumpbox-scan +customize +sha256 [0-9a-f]{64}/);
    expect(text).toContain('findings    critical 0, high 1, medium 0, low 3, unknown 0');
    expect(text).not.toContain(KEY);
  });

  it('--json prints the record as stored', async () => {
    const t = io(200, { record: { provenance: BLOB } });
    expect(await runProvenance({ ...options, json: true }, t.value)).toBe(0);
    expect(JSON.parse(t.out.join(''))).toEqual(JSON.parse(JSON.stringify(record)));
  });

  it('exit 1 when the build has no provenance; 2 for an unknown build or an unreadable blob', async () => {
    const none = io(200, { status: 'Failed', record: { logUrls: [] } });
    expect(await runProvenance(options, none.value)).toBe(1);
    expect(none.err.join('')).toMatch(/has no provenance record/);
    const missing = io(404, { title: 'Not Found' });
    expect(await runProvenance(options, missing.value)).toBe(2);
    expect(missing.err.join('')).toMatch(/no build aks-jumpbox\./);
    const denied = io(200, { record: { provenance: BLOB } }, async () => {
      throw new Error('This request is not authorized to perform this operation using this permission.');
    });
    expect(await runProvenance(options, denied.value)).toBe(2);
    expect(denied.err.join('')).toMatch(/Storage Blob Data Reader/);
  });

  it('usage: BUILD_ID and --url required, a bad id named; --help exits 0', async () => {
    expect(() => parseProvenanceArgs(['--url', BASE])).toThrow(UsageError);
    expect(() => parseProvenanceArgs([BUILD])).toThrow(/--url is required/);
    expect(() => parseProvenanceArgs(['a/b', '--url', BASE])).toThrow(/BUILD_ID must be a build id/);
    expect(() => parseProvenanceArgs([BUILD, '--url', 'http://example.net'])).toThrow(/https/);
    const write = process.stdout.write.bind(process.stdout);
    const out: string[] = [];
    process.stdout.write = ((s: string) => {
      out.push(String(s));
      return true;
    }) as typeof process.stdout.write;
    try {
      expect(await main(['provenance', '--help'])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(out.join('')).toMatch(/usage: jumpbox-builder provenance BUILD_ID/);
  });
});
