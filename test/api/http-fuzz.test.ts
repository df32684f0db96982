/**
 * Fuzzing the HTTP API over real HTTP, through the local Durable host's front with the real DurableClient
 * (stand-in build orchestrator), against the ARM emulator and Azurite. Raw requests (node:http) so that
 * methods, raw path segments (invalid percent-encoding, dot segments, unicode), query strings, headers and
 * bodies are sent as generated. Properties:
 *  - no app route answers without the function key (401), whatever the method, path or query;
 *  - with the key: never a 5xx; every error with a body is application/problem+json; empty-bodied
 *    401/404/405 come only from the host's routing (as the Functions host answers them);
 *  - no invalid request starts a build or writes a record.
 * The routes come from the registered functions, so a new route is fuzzed without editing this file.
 */
import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInstanceId } from '../../src/orchestration/contracts.js';
import { type AppHost, startAppHost } from './app-host.js';

let app: AppHost;
const DEFS = ['aks-jumpbox', 'ops-box'];
const RUNS = Number(process.env.FUZZ_HTTP_RUNS ?? 120);

beforeAll(async () => {
  app = await startAppHost({ definitions: DEFS });
});
afterAll(async () => {
  await app?.stop();
});

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function send(method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<Raw> {
  const url = new URL(app.host.baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path, headers, insecureHTTPParser: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body && method !== 'GET' && method !== 'HEAD') {
      // A declared length (as fetch and curl send): Node's parser refuses chunked OPTIONS bodies itself.
      req.setHeader('content-length', String(body.length));
      req.end(body);
    } else req.end();
  });
}

/** The app's HTTP routes as registered, e.g. `builds/{id}/cancel`. */
function appRoutes(): { route: string; methods: readonly string[] }[] {
  return [...app.host.functions.values()]
    .filter((f) => f.trigger === 'http')
    .map((f) => ({
      route: f.metadata.route ?? f.name,
      methods: (f.metadata.methods as readonly string[] | undefined) ?? ['GET', 'POST'],
    }));
}

const rawSegment = fc.oneof(
  fc.constantFrom(
    'aks-jumpbox.20260101T030000Z.0000abcd',
    '..',
    '.',
    '%2e%2e',
    '%2F',
    '%ZZ',
    '%',
    '%00',
    '%C0%AF',
    'a'.repeat(300),
    '',
  ),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => encodeURIComponent(s)),
  fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@-]{1,30}$/),
);

const rawQuery = fc.oneof(
  fc.constant(''),
  fc
    .array(
      fc.tuple(
        fc.oneof(fc.constantFrom('definition', 'status', 'top', 'code', 'showHistory'), fc.string()),
        fc.oneof(fc.constantFrom('aks-jumpbox', 'Queued', '5', '1000', '%ZZ', ''), fc.string()),
      ),
      { maxLength: 4 },
    )
    .map((pairs) => `?${new URLSearchParams(pairs).toString()}`),
  fc.constantFrom('?%ZZ=1', '?top=1&top=2', '?=', '?&&&', `?reason=${'x'.repeat(4000)}`),
);

const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD');

/** 'BIG' stands for a 40 kB body (kept out of counterexample output). */
const body: fc.Arbitrary<Buffer | 'BIG'> = fc.oneof(
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc
    .record({ definition: fc.string(), extra: fc.jsonValue() }, { requiredKeys: ['extra'] })
    .map((v) => Buffer.from(JSON.stringify(v))),
  fc
    .constantFrom(DEFS[0]!, DEFS[1]!)
    .map((d) => Buffer.from(JSON.stringify({ definition: d, force: 'yes' }))),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  fc.constant('BIG' as const),
  fc.constant(Buffer.from('{"definition": "ops-box"', 'utf16le')),
);

const headers = fc.record(
  {
    'content-type': fc.oneof(
      fc.constantFrom('application/json', 'application/json; charset=utf-16', 'text/plain', 'x/y'),
      fc.stringMatching(/^[\x21-\x7e]{0,40}$/),
    ),
    'x-requested-by': fc.stringMatching(/^[\x20-\x7e]{0,100}$/),
    accept: fc.constantFrom('*/*', 'text/html', 'application/xml'),
  },
  { requiredKeys: [] },
);

/** A path built on one of the registered routes, with its parameters (and maybe extra segments) fuzzed. */
const routedPath = fc
  .tuple(fc.nat(), fc.array(rawSegment, { minLength: 3, maxLength: 3 }), fc.boolean(), rawSegment)
  .map(([i, segs, extra, tail]) => {
    const routes = appRoutes();
    const { route } = routes[i % routes.length]!;
    let k = 0;
    const filled = route.replace(/\{[^}]+\}/g, () => segs[k++ % segs.length]!);
    return `/api/${filled}${extra ? `/${tail}` : ''}`;
  });

const anyPath = fc.oneof(
  routedPath,
  rawSegment.map((s) => `/api/${s}`),
  rawSegment.map((s) => `/admin/functions/${s}`),
  fc.constantFrom('/api', '/api/', '//api/builds', '/api//builds', '/API/builds', '/api/builds/'),
);

/** Host routes that need the key too: the admin API (runs timer/Event Grid functions) and status webhooks. */
const hostPaths = fc.oneof(
  fc.constantFrom(
    '/admin/functions/monthlyRebuild',
    '/admin/functions/baseImageCheck',
    '/runtime/webhooks/durabletask/instances',
    '/runtime/webhooks/durabletask/instances/build-aks-jumpbox',
  ),
  rawSegment.map((s) => `/runtime/webhooks/durabletask/instances/${s}`),
);

async function assertNothingStarted(): Promise<void> {
  for (const d of DEFS) expect(await app.host.getStatus(buildInstanceId(d))).toBeUndefined();
  const list = await app.call('GET', '/api/builds?top=100');
  expect(list.status).toBe(200);
  expect((list.body as { builds: unknown[] }).builds).toEqual([]);
}

describe('HTTP API fuzzing through the local host (fast-check)', () => {
  it('every registered app route needs the function key (401 without it or with a wrong one)', async () => {
    const routes = appRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(6);
    for (const { route, methods } of routes) {
      const path = `/api/${route.replace(/\{[^}]+\}/g, 'aks-jumpbox.20260101T030000Z.0000abcd')}`;
      for (const m of methods) {
        const json = { 'content-type': 'application/json' };
        const none = await send(m, path, json, Buffer.from('{"definition":"ops-box"}'));
        expect(none.status, `${m} ${path}`).toBe(401);
        const wrong = await send(m, `${path}?code=not-the-key`, {
          ...json,
          'x-functions-key': `${app.host.functionKey}x`,
        });
        expect(wrong.status, `${m} ${path}`).toBe(401);
      }
    }
    await assertNothingStarted();
  });

  it('without the key, no fuzzed request reaches an app function', async () => {
    await fc.assert(
      fc.asyncProperty(
        method,
        fc.oneof(anyPath, hostPaths),
        rawQuery,
        headers,
        body,
        async (m, path, query, h, big) => {
          const b = big === 'BIG' ? Buffer.alloc(40_000, 0x7b) : big;
          const q = query.replace(/(^|[?&])code=[^&]*/g, '$1');
          const res = await send(m, `${path}${q}`, h, b);
          expect([401, 404, 405]).toContain(res.status);
          expect(res.body.length).toBe(0);
        },
      ),
      { numRuns: RUNS },
    );
    await assertNothingStarted();
  });

  it('with the key: never a 5xx, problem+json for every app error, no build from invalid input', async () => {
    await fc.assert(
      fc.asyncProperty(method, anyPath, rawQuery, headers, body, async (m, path, query, h, big) => {
        const b = big === 'BIG' ? Buffer.alloc(40_000, 0x7b) : big;
        const res = await send(m, `${path}${query}`, { ...h, 'x-functions-key': app.host.functionKey }, b);
        const where = `${m} ${path}${query.slice(0, 80)} -> ${res.status} ${res.body.toString('utf8', 0, 300)}`;
        expect(res.status, where).toBeLessThan(500);
        // No answer echoes the function key (e.g. from ?code= or a header).
        expect(res.body.toString('utf8')).not.toContain(app.host.functionKey);
        if (res.status >= 400) {
          if (res.body.length === 0) expect([401, 404, 405], where).toContain(res.status);
          else {
            expect(String(res.headers['content-type']), where).toContain('application/problem+json');
            const p = JSON.parse(res.body.toString('utf8')) as {
              status: number;
              type: string;
              detail: string;
            };
            expect(p.status, where).toBe(res.status);
            expect(p.type, where).toMatch(/^urn:jumpbox-builder:problem:/);
          }
        }
        // The generated bodies are all invalid start requests, and no other route may start a build.
        expect(res.status, where).not.toBe(202);
      }),
      { numRuns: RUNS },
    );
    await assertNothingStarted();
  });
});
