/**
 * `jumpbox-builder images`: each definition's current image from GET /api/definitions (issue: "the API and
 * CLI show each definition's current image"). The end-to-end case against the local host is in
 * test/orchestration/build-realism-e2e.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  currentImageRows,
  formatRows,
  type ImagesIo,
  parseImagesArgs,
  runImages,
} from '../../src/cli/commands/images.js';
import { UsageError } from '../../src/cli/usage-error.js';

const KEY = 'sEcReT-function-key-123';
const BASE = 'https://app.example.net';
const IMAGE = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images/aks-jumpbox-20261201-2';

const definitions = {
  definitions: [
    {
      name: 'aks-jumpbox',
      source: {},
      running: null,
      lastBuild: null,
      lastSuccessfulBuild: {
        buildId: 'aks-jumpbox.20261201T030000Z.0000abcd',
        finishedAt: '2026-12-01T03:41:00Z',
      },
      currentImageId: IMAGE,
      baseImage: { newestVersion: null },
    },
    {
      name: 'aks-jumpbox-eu',
      source: {},
      running: { buildId: 'aks-jumpbox-eu.20261202T000000Z.00001234', runtimeStatus: 'Running' },
      lastBuild: null,
      lastSuccessfulBuild: null,
      currentImageId: null,
      baseImage: { newestVersion: null },
    },
  ],
};

function api(status: number, body: unknown) {
  const requests: { url: string; headers: Record<string, string> }[] = [];
  const f = (async (url: string, init: RequestInit) => {
    requests.push({ url, headers: init.headers as Record<string, string> });
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status });
  }) as unknown as typeof fetch;
  return { f, requests };
}

function io(f: typeof fetch, env: Record<string, string> = { JUMPBOX_FUNCTION_KEY: KEY }) {
  const out: string[] = [];
  const err: string[] = [];
  const value: ImagesIo = { env, fetch: f, stdout: (s) => out.push(s), stderr: (s) => err.push(s) };
  return { value, out, err };
}

describe('jumpbox-builder images', () => {
  it('prints every definition with its current image, the build that made it, and the running build', async () => {
    const { f, requests } = api(200, definitions);
    const t = io(f);
    expect(await runImages(parseImagesArgs(['--url', BASE]), t.value)).toBe(0);
    expect(requests[0]?.url).toBe(`${BASE}/api/definitions`);
    expect(requests[0]?.headers['x-functions-key']).toBe(KEY);
    const text = t.out.join('');
    expect(text).toContain(`current image: ${IMAGE}`);
    expect(text).toContain('built by:      aks-jumpbox.20261201T030000Z.0000abcd at 2026-12-01T03:41:00Z');
    expect(text).toMatch(/aks-jumpbox-eu\n {2}current image: none yet/);
    expect(text).toContain('running now:   aks-jumpbox-eu.20261202T000000Z.00001234');
    expect(t.err.join('') + text).not.toContain(KEY);
  });

  it('--definition filters, --json prints one object', async () => {
    const t = io(api(200, definitions).f);
    expect(
      await runImages(parseImagesArgs(['--url', BASE, '--definition', 'aks-jumpbox', '--json']), t.value),
    ).toBe(0);
    expect(JSON.parse(t.out.join(''))).toEqual({
      definitions: [
        {
          name: 'aks-jumpbox',
          currentImageId: IMAGE,
          builtBy: 'aks-jumpbox.20261201T030000Z.0000abcd',
          builtAt: '2026-12-01T03:41:00Z',
          running: null,
        },
      ],
    });
  });

  it('an unknown --definition exits 2 naming the known ones', async () => {
    const t = io(api(200, definitions).f);
    expect(await runImages(parseImagesArgs(['--url', BASE, '--definition', 'nope']), t.value)).toBe(2);
    expect(t.err.join('')).toBe(
      'jumpbox-builder images: no definition "nope" in the app; it has: aks-jumpbox, aks-jumpbox-eu\n',
    );
    expect(t.out).toEqual([]);
  });

  it('no key, a rejected key, an HTTP error and an unreachable app each exit 2 with one line', async () => {
    const noKey = io(api(200, definitions).f, {});
    expect(await runImages(parseImagesArgs(['--url', BASE]), noKey.value)).toBe(2);
    expect(noKey.err.join('')).toMatch(/set JUMPBOX_FUNCTION_KEY to a function key/);

    const rejected = io(api(401, '').f);
    expect(await runImages(parseImagesArgs(['--url', BASE]), rejected.value)).toBe(2);
    expect(rejected.err.join('')).toMatch(/HTTP 401: the function key was rejected/);

    const broken = io(api(503, { title: 'Service Unavailable', detail: 'table storage is down' }).f);
    expect(await runImages(parseImagesArgs(['--url', BASE]), broken.value)).toBe(2);
    expect(broken.err.join('')).toBe(
      'jumpbox-builder images: HTTP 503 Service Unavailable: table storage is down\n',
    );

    const down = io((async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7071'), { code: 'ECONNREFUSED' }),
      });
    }) as unknown as typeof fetch);
    expect(await runImages(parseImagesArgs(['--url', 'http://127.0.0.1:7071']), down.value)).toBe(2);
    expect(down.err.join('')).toMatch(/cannot reach http:\/\/127\.0\.0\.1:7071: .*ECONNREFUSED/);
    for (const t of [noKey, rejected, broken, down])
      expect(t.err.join('').split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('usage errors name the option', () => {
    expect(() => parseImagesArgs([])).toThrow(/--url is required/);
    expect(() => parseImagesArgs(['--url', 'http://example.net'])).toThrow(/https:\/\//);
    expect(() => parseImagesArgs(['--url', BASE, '--bogus'])).toThrow(UsageError);
    expect(() => parseImagesArgs(['--url', BASE, '--audience', 'api://x'])).toThrow(
      /--audience goes with --auth entra/,
    );
  });

  it('every summary becomes exactly one block naming its image or "none yet"', () => {
    const summary = fc.record({
      name: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
      currentImageId: fc.option(fc.stringMatching(/^\/subscriptions\/[a-z0-9/.-]{1,60}$/), { nil: null }),
      running: fc.constant(null),
    });
    fc.assert(
      fc.property(fc.array(summary, { maxLength: 8 }), (defs) => {
        const rows = currentImageRows({ definitions: defs });
        const text = formatRows(rows);
        expect(rows.map((r) => r.name)).toEqual(defs.map((d) => d.name));
        expect((text.match(/current image: /g) ?? []).length).toBe(defs.length);
        for (const d of defs) expect(text).toContain(d.currentImageId ?? 'none yet');
      }),
    );
  });
});
