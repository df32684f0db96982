/**
 * Fuzzing every API handler with fast-check (host-free, many runs): arbitrary bodies (JSON of any shape,
 * near-valid requests with one field mutated, raw text and bytes in several encodings, oversize bodies),
 * content types, declared lengths, caller headers, query strings and path segments. Properties:
 *  - never a 5xx;
 *  - every 4xx is application/problem+json with type/title/status/detail and status = HTTP status;
 *  - a build starts exactly when the request is valid (JSON media type, within the size cap, schema-valid,
 *    a configured definition, not a dry run) - never from invalid input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../src/api/deps.js';
import { handleCancelBuild } from '../../src/api/handlers/cancel-build.js';
import { handleGetBuild } from '../../src/api/handlers/get-build.js';
import { handleListBuilds } from '../../src/api/handlers/list-builds.js';
import { handleListDefinitions } from '../../src/api/handlers/list-definitions.js';
import { handleStartBuild } from '../../src/api/handlers/start-build.js';
import { type ApiRequest, type ApiResponse, BodyTooLargeError } from '../../src/api/http-types.js';
import { listBuildsQuerySchema, MAX_BODY_BYTES, startBuildRequestSchema } from '../../src/api/schemas.js';
import { imageDefinitionSchema } from '../../src/image/definition.js';
import { decodeSegment } from '../../src/local/durable-host/route-template.js';
import { FakeRecords, FakeTaskHub } from '../triggers/fakes.js';

const DEFINITIONS = ['aks-jumpbox', 'ops-box'];

function setup() {
  const hub = new FakeTaskHub();
  const records = new FakeRecords();
  records.put({
    buildId: 'aks-jumpbox.20260101T030000Z.0000abcd',
    definition: 'aks-jumpbox',
    requestedAt: '2026-01-01T03:00:00Z',
    status: 'Succeeded',
  });
  const deps: ApiDeps = {
    definitions: DEFINITIONS.map((name) => imageDefinitionSchema.parse({ name })),
    orchestrations: hub,
    records,
    newestBaseImageVersion: async () => '24.04.202511060',
    dryRun: async () => ({ preflight: { ok: true, checks: [] }, template: null, egress: [] }),
  };
  return { hub, records, deps };
}

/** A request whose body is raw bytes (as the Functions host hands it over). */
function request(o: {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
  params?: Record<string, string>;
}): ApiRequest {
  const url = new URL(`https://app.example.net${o.path}`);
  const headers = new Map(Object.entries(o.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    method: o.method,
    url: url.href,
    header: (n) => headers.get(n.toLowerCase()) ?? null,
    params: o.params ?? {},
    query: url.searchParams,
    async text(max) {
      if (o.body.byteLength > max) throw new BodyTooLargeError(max);
      return Buffer.from(o.body).toString('utf8');
    },
  };
}

function expectWellFormed(res: ApiResponse): void {
  expect(res.status).toBeGreaterThanOrEqual(200);
  expect(res.status).toBeLessThan(500);
  if (res.status >= 400) {
    expect(res.headers['Content-Type']).toBe('application/problem+json');
    const p = res.jsonBody as Record<string, unknown>;
    expect(p.status).toBe(res.status);
    expect(typeof p.type).toBe('string');
    expect(typeof p.title).toBe('string');
    expect(typeof p.detail).toBe('string');
  }
  // Every response body survives JSON serialisation (the host sends it as JSON).
  expect(() => JSON.stringify(res.jsonBody)).not.toThrow();
}

const validStart = fc.record(
  {
    definition: fc.constantFrom(...DEFINITIONS),
    reason: fc.string({ maxLength: 600, unit: 'grapheme' }),
    force: fc.boolean(),
    dryRun: fc.boolean(),
  },
  { requiredKeys: ['definition'] },
);

/** Near-valid bodies: a valid request with one field replaced by anything, or one unknown field added. */
const nearValidStart = fc.oneof(
  fc
    .tuple(
      validStart,
      fc.constantFrom('definition', 'reason', 'force', 'dryRun', '__proto__', 'constructor', 'Definition'),
      fc.jsonValue(),
    )
    .map(([b, k, v]) => ({ ...b, [k]: v })),
  validStart.map((b) => ({ ...b, definition: `${b.definition}\u0000` })),
  validStart.map((b) => ({ ...b, definition: b.definition.toUpperCase() })),
);

const encodings = ['utf8', 'utf16le', 'latin1'] as const;
const bodyBytes = fc.oneof(
  fc
    .tuple(fc.oneof(validStart, nearValidStart, fc.jsonValue()), fc.constantFrom(...encodings))
    .map(([v, enc]) => new Uint8Array(Buffer.from(JSON.stringify(v) ?? 'null', enc))),
  fc.string({ unit: 'binary', maxLength: 300 }).map((s) => new Uint8Array(Buffer.from(s))),
  fc.uint8Array({ maxLength: 300 }),
  fc
    .tuple(validStart, fc.integer({ min: MAX_BODY_BYTES - 64, max: MAX_BODY_BYTES * 2 }))
    .map(([v, n]) => new Uint8Array(Buffer.from(JSON.stringify({ ...v, reason: 'r'.repeat(n) })))),
  fc.constant(new Uint8Array(Buffer.from('\uFEFF{"definition":"ops-box"}'))),
  fc.constant(new Uint8Array()),
);

const contentType = fc.oneof(
  fc.constant('application/json'),
  fc.constant('application/json; charset=utf-8'),
  fc.constant('APPLICATION/JSON;charset=utf-16'),
  fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'),
  fc.string({ maxLength: 60 }),
);

const callerHeaders = fc.record(
  {
    'content-type': contentType,
    'content-length': fc.oneof(fc.nat().map(String), fc.constantFrom('-1', 'abc', '1e9', ''), fc.string()),
    'x-requested-by': fc.string({ unit: 'binary', maxLength: 400 }),
    'x-ms-client-principal-name': fc.string({ unit: 'binary', maxLength: 400 }),
    accept: fc.string({ maxLength: 40 }),
  },
  { requiredKeys: [] },
);

/** What the API promises to accept: the oracle for "a build started". */
function shouldStart(headers: Record<string, string>, body: Uint8Array): boolean {
  const media = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (media !== 'application/json') return false;
  const declared = Number(headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) return false;
  if (body.byteLength > MAX_BODY_BYTES) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return false;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return false;
  const r = startBuildRequestSchema.safeParse(parsed);
  return r.success && DEFINITIONS.includes(r.data.definition) && r.data.dryRun !== true;
}

const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

describe('API handlers under fuzzed input (fast-check)', () => {
  it('POST /api/builds: never 5xx, problem+json for every error, a build starts only from a valid request', async () => {
    await fc.assert(
      fc.asyncProperty(callerHeaders, bodyBytes, async (headers, body) => {
        const { deps, hub, records } = setup();
        const recordsBefore = records.rows.size;
        const res = await handleStartBuild(
          deps,
          request({ method: 'POST', path: '/api/builds', headers, body }),
        );
        expectWellFormed(res);
        const started = hub.accepted.length > 0;
        expect(started).toBe(shouldStart(headers, body));
        expect(res.status === 202).toBe(started);
        if (!started) expect(records.rows.size).toBe(recordsBefore);
        else {
          // The requester is printable ASCII only, whatever the caller sent.
          expect(hub.accepted[0]!.requestedBy).toMatch(/^[\x20-\x7e]*$/);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('GET /api/builds: any query string gives 200 or a 400 problem naming (query) fields', async () => {
    const queryKey = fc.oneof(
      fc.constantFrom('definition', 'status', 'top', 'code', 'Top', '$filter'),
      fc.string(),
    );
    const queryValue = fc.oneof(
      fc.constantFrom('aks-jumpbox', 'Succeeded', '1', '100', '0', '101', '-1', '1e2', ' 5', ''),
      fc.string({ unit: 'binary', maxLength: 80 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(queryKey, queryValue), { maxLength: 5 }), async (pairs) => {
        const { deps } = setup();
        const qs = new URLSearchParams(pairs).toString();
        const res = await handleListBuilds(
          deps,
          request({ method: 'GET', path: `/api/builds?${qs}`, headers: {}, body: new Uint8Array() }),
        );
        expectWellFormed(res);
        const raw: Record<string, string> = {};
        for (const [k, v] of new URLSearchParams(qs)) raw[k] = v;
        expect(res.status).toBe(listBuildsQuerySchema.safeParse(raw).success ? 200 : 400);
      }),
      { numRuns: RUNS },
    );
  });

  it('GET /api/builds/{id} and POST /api/builds/{id}/cancel: any path segment gives 200/202/400/404/409, never a cancel of another build', async () => {
    const id = fc.oneof(
      fc.constantFrom(
        'aks-jumpbox.20260101T030000Z.0000abcd',
        'ops-box.20260101T030000Z.00000000',
        '..',
        '.',
        '%2e%2e',
        '',
        'a'.repeat(201),
      ),
      fc.string({ unit: 'binary', maxLength: 240 }),
      fc.stringMatching(/^[A-Za-z0-9._-]{1,40}$/),
    );
    await fc.assert(
      fc.asyncProperty(id, fc.boolean(), async (segment, running) => {
        const { deps, hub } = setup();
        if (running) {
          await hub.start('build-ops-box', {
            buildId: 'ops-box.20260101T030000Z.00000000',
            definition: 'ops-box',
            trigger: 'http',
            reason: '',
            requestedBy: '',
            force: false,
          } as never);
          hub.finish('build-ops-box', 'Running');
        }
        const path = `/api/builds/${encodeURIComponent(segment)}`;
        const get = await handleGetBuild(
          deps,
          request({ method: 'GET', path, headers: {}, body: new Uint8Array(), params: { id: segment } }),
        );
        expectWellFormed(get);
        expect([200, 400, 404]).toContain(get.status);
        const cancel = await handleCancelBuild(
          deps,
          request({
            method: 'POST',
            path: `${path}/cancel`,
            headers: {},
            body: new Uint8Array(),
            params: { id: segment },
          }),
        );
        expectWellFormed(cancel);
        expect([202, 400, 404, 409]).toContain(cancel.status);
        // Only the one running build can be canceled, and only by its own id.
        if (cancel.status === 202) expect(segment).toBe('ops-box.20260101T030000Z.00000000');
        expect(hub.cancels.length).toBe(cancel.status === 202 ? 1 : 0);
      }),
      { numRuns: RUNS },
    );
  });

  it('GET /api/definitions answers 200 whatever the base-image lookup does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.constant(undefined), fc.constant('throw')), async (v) => {
        const { deps } = setup();
        const res = await handleListDefinitions({
          ...deps,
          newestBaseImageVersion: async () => {
            if (v === 'throw') throw new Error('ARM unavailable');
            return v;
          },
        });
        expectWellFormed(res);
        expect(res.status).toBe(200);
      }),
      { numRuns: 50 },
    );
  });
});

describe('route segment decoding (found by the HTTP fuzz: %C0%AF made the host answer 500)', () => {
  it('never throws, keeps invalid escapes as written and agrees with decodeURIComponent on valid input', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'grapheme' }).map(encodeURIComponent),
          fc.stringMatching(/^(%[0-9A-Fa-f]{2}|%|[a-z.])*$/),
        ),
        (segment) => {
          const decoded = decodeSegment(segment);
          let strict: string | undefined;
          try {
            strict = decodeURIComponent(segment);
          } catch {}
          if (strict !== undefined) expect(decoded).toBe(strict);
        },
      ),
    );
    expect(decodeSegment('a%C0%AFb%20c%ZZ%')).toBe('a%C0%AFb c%ZZ%');
  });
});
