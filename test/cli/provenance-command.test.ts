/**
 * `jumpbox-builder provenance BUILD_ID`: GET /api/builds/{id} with the function key, then the record's
 * provenance blob read with the caller's Entra identity (injected here); its SHA-256 checked against the
 * record's `provenanceSha256` (a changed blob: exit 1, one line, nothing shown; an older record without the
 * hash: shown with a warning); readable text or --json; clear errors with the documented exit codes. The
 * record's content and hash are checked end to end in test/supply-chain/supply-chain-e2e.test.ts.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ProvenanceIo,
  type ProvenanceJson,
  parseProvenanceArgs,
  runProvenance,
} from '../../src/cli/commands/provenance.js';
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

/** The blob as the build writes it (collect-supply-chain.ts) and its SHA-256, as the record carries it. */
const GENUINE = Buffer.from(`${JSON.stringify(record, null, 2)}\n`, 'utf8');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const GENUINE_SHA = sha256(GENUINE);

function io(status: number, body: unknown, blob: () => Promise<Uint8Array> = async () => GENUINE) {
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
  it('reads the build, then its provenance blob, checks its SHA-256 and prints it readably', async () => {
    const t = io(200, {
      buildId: BUILD,
      status: 'Succeeded',
      record: { provenance: BLOB, provenanceSha256: GENUINE_SHA },
    });
    expect(await runProvenance(options, t.value)).toBe(0);
    expect(t.requests[0]?.url).toBe(`${BASE}/api/builds/${BUILD}`);
    expect(t.requests[0]?.headers['x-functions-key']).toBe(KEY);
    expect(t.read).toEqual([BLOB]);
    expect(t.err).toEqual([]);
    const text = t.out.join('');
    expect(text).toContain(`sha256      ${GENUINE_SHA} (verified: matches the build record)`);
    expect(text).toContain(`build       ${BUILD} (aks-jumpbox): Succeeded`);
    expect(text).toContain(
      'source      PlatformImage Canonical:ubuntu-24_04-lts:server version 24.04.202511060',
    );
    expect(text).toMatch(/kubectl +1\.33\.8 +sha256 a{64}/);
    expect(text).toMatch(/jumpbox-scan +customize +sha256 [0-9a-f]{64}/);
    expect(text).toContain('findings    critical 0, high 1, medium 0, low 3, unknown 0');
    expect(text).not.toContain(KEY);
  });

  it('--json prints the record as stored, its SHA-256 and that it was verified', async () => {
    const t = io(200, { record: { provenance: BLOB, provenanceSha256: GENUINE_SHA } });
    expect(await runProvenance({ ...options, json: true }, t.value)).toBe(0);
    const out = JSON.parse(t.out.join('')) as ProvenanceJson;
    expect(out).toEqual({
      provenance: BLOB,
      sha256: GENUINE_SHA,
      recordedSha256: GENUINE_SHA,
      verified: true,
      record: JSON.parse(JSON.stringify(record)),
    });
    // The record re-serialised as the build writes it is the archived blob, byte for byte.
    expect(sha256(Buffer.from(`${JSON.stringify(out.record, null, 2)}\n`))).toBe(GENUINE_SHA);
    expect(t.err).toEqual([]);
  });

  it('a blob changed after the build: exit 1, one line naming the blob, both hashes and the image tag; nothing shown', async () => {
    const changed = Buffer.from(GENUINE.toString('utf8').replace('"high": 1', '"high": 0'));
    expect(changed.equals(GENUINE)).toBe(false);
    for (const json of [false, true]) {
      const t = io(200, { record: { provenance: BLOB, provenanceSha256: GENUINE_SHA } }, async () => changed);
      expect(await runProvenance({ ...options, json }, t.value)).toBe(1);
      expect(t.out).toEqual([]);
      const err = t.err.join('');
      expect(err.split('\n')).toEqual([
        `jumpbox-builder provenance: ${BLOB} was changed after the build: its sha256 is ${sha256(changed)}, the build record says ${GENUINE_SHA} (the image tag jumpbox-provenance-sha256 holds the hash from build time); not shown, do not trust its content`,
        '',
      ]);
    }
  });

  it('a record from before the hash was recorded: shown, with a one-line warning that it cannot be verified', async () => {
    const t = io(200, { record: { provenance: BLOB } });
    expect(await runProvenance(options, t.value)).toBe(0);
    expect(t.out.join('')).toContain(`build       ${BUILD} (aks-jumpbox): Succeeded`);
    expect(t.out.join('')).toContain(`sha256      ${GENUINE_SHA} (NOT verified: the record has no hash)`);
    const err = t.err.join('');
    expect(err.split('\n')).toHaveLength(2);
    expect(err).toMatch(
      new RegExp(
        `^jumpbox-builder provenance: warning: the record of ${BUILD.replace(/\./g, '\\.')} has no provenanceSha256 .* cannot be verified; compare its sha256 ${GENUINE_SHA} with the image tag jumpbox-provenance-sha256\n$`,
      ),
    );
    const j = io(200, { record: { provenance: BLOB, provenanceSha256: null } });
    expect(await runProvenance({ ...options, json: true }, j.value)).toBe(0);
    expect(JSON.parse(j.out.join(''))).toMatchObject({
      sha256: GENUINE_SHA,
      recordedSha256: null,
      verified: false,
    });
    expect(j.err.join('')).toMatch(/cannot be verified/);
  });

  it('any blob whose SHA-256 differs from any recorded value is refused in exactly one line (property)', async () => {
    const lineBreak = /[\n\r\u2028\u2029\u0085]/;
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 512 }),
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.stringMatching(/^[0-9a-f]{64}$/),
          fc.constant(GENUINE_SHA),
          fc.jsonValue(),
        ),
        fc.webUrl().map((u) => `${u}\n\u2028forged line`),
        async (bytes, recorded, url) => {
          fc.pre(recorded !== null && recorded !== sha256(bytes));
          const t = io(200, { record: { provenance: url, provenanceSha256: recorded } }, async () => bytes);
          expect(await runProvenance(options, t.value)).toBe(1);
          expect(t.out).toEqual([]);
          const err = t.err.join('');
          expect(err.endsWith('\n')).toBe(true);
          expect(lineBreak.test(err.slice(0, -1))).toBe(false);
          expect(err).toContain(`its sha256 is ${sha256(bytes)}`);
          expect(err).toContain('changed after the build');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('flipping any one bit of the genuine blob is detected (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: GENUINE.length * 8 - 1 }), async (bit) => {
        const tampered = Buffer.from(GENUINE);
        tampered[bit >> 3] = tampered[bit >> 3]! ^ (1 << (bit & 7));
        const t = io(
          200,
          { record: { provenance: BLOB, provenanceSha256: GENUINE_SHA } },
          async () => tampered,
        );
        expect(await runProvenance(options, t.value)).toBe(1);
        expect(t.out).toEqual([]);
      }),
      { numRuns: 100 },
    );
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
