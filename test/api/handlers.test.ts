import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../src/api/deps.js';
import { handleCancelBuild } from '../../src/api/handlers/cancel-build.js';
import { handleGetBuild } from '../../src/api/handlers/get-build.js';
import { handleListBuilds } from '../../src/api/handlers/list-builds.js';
import { handleListDefinitions } from '../../src/api/handlers/list-definitions.js';
import { handleStartBuild } from '../../src/api/handlers/start-build.js';
import type { ProblemDetails } from '../../src/api/problem.js';
import { MAX_BODY_BYTES } from '../../src/api/schemas.js';
import { imageDefinitionSchema } from '../../src/image/definition.js';
import { buildInstanceId } from '../../src/orchestration/contracts.js';
import { FakeRecords, FakeTaskHub } from '../triggers/fakes.js';
import { fakeRequest, JSON_HEADERS } from './fake-request.js';

function setup(extra: Partial<ApiDeps> = {}) {
  const hub = new FakeTaskHub();
  const records = new FakeRecords();
  const deps: ApiDeps = {
    definitions: ['aks-jumpbox', 'ops-box'].map((name) => imageDefinitionSchema.parse({ name })),
    orchestrations: hub,
    records,
    newestBaseImageVersion: async () => '24.04.202511060',
    ...extra,
  };
  return { hub, records, deps };
}

const post = (body: unknown, headers: Record<string, string> = JSON_HEADERS) =>
  fakeRequest({ body: typeof body === 'string' ? body : JSON.stringify(body), headers });

describe('POST /api/builds', () => {
  it('202 with the build id, Location and status/cancel URLs on the same origin', async () => {
    const { deps, hub, records } = setup();
    const res = await handleStartBuild(deps, post({ definition: 'aks-jumpbox', reason: 'pipeline 42' }));
    expect(res.status).toBe(202);
    const body = res.jsonBody as { buildId: string; statusUrl: string; links: { cancel: string } };
    expect(body.statusUrl).toBe(`https://app.example.net/api/builds/${body.buildId}`);
    expect(body.links.cancel).toBe(`${body.statusUrl}/cancel`);
    expect(res.headers.Location).toBe(body.statusUrl);
    expect(hub.accepted).toMatchObject([
      { definition: 'aks-jumpbox', reason: 'pipeline 42', trigger: 'http' },
    ]);
    expect(records.rows.get(body.buildId)).toMatchObject({ status: 'Queued', reason: 'pipeline 42' });
  });

  it('409 naming the running build and its status URL while one runs', async () => {
    const { deps, hub } = setup();
    const first = (await handleStartBuild(deps, post({ definition: 'aks-jumpbox' }))).jsonBody as {
      buildId: string;
    };
    hub.finish(buildInstanceId('aks-jumpbox'), 'Running');
    const res = await handleStartBuild(deps, post({ definition: 'aks-jumpbox' }));
    expect(res.status).toBe(409);
    expect(res.headers['Content-Type']).toBe('application/problem+json');
    expect(res.jsonBody).toMatchObject({
      runningBuildId: first.buildId,
      statusUrl: `https://app.example.net/api/builds/${first.buildId}`,
    });
    expect(hub.accepted).toHaveLength(1);
  });

  const invalid: [string, () => ReturnType<typeof post>, number, string][] = [
    ['unknown definition', () => post({ definition: 'nope-box' }), 422, 'definition'],
    ['unknown field', () => post({ definition: 'aks-jumpbox', priority: 1 }), 422, 'priority'],
    ['wrong type', () => post({ definition: 'aks-jumpbox', force: 'yes' }), 422, 'force'],
    ['missing definition', () => post({ reason: 'x' }), 422, 'definition'],
    ['not an object', () => post('[1,2]'), 422, '(body)'],
    ['malformed JSON', () => post('{"definition":'), 400, '(body)'],
    [
      'wrong content type',
      () => post({ definition: 'aks-jumpbox' }, { 'content-type': 'text/plain' }),
      415,
      'Content-Type',
    ],
    ['no content type', () => post({ definition: 'aks-jumpbox' }, {}), 415, 'Content-Type'],
    [
      'oversize body',
      () => post({ definition: 'aks-jumpbox', reason: 'x'.repeat(MAX_BODY_BYTES) }),
      413,
      '(body)',
    ],
  ];
  for (const [name, request, status, field] of invalid) {
    it(`${status} for ${name}, naming ${field}, and starts nothing`, async () => {
      const { deps, hub, records } = setup();
      const res = await handleStartBuild(deps, request());
      expect(res.status).toBe(status);
      expect(res.headers['Content-Type']).toBe('application/problem+json');
      const p = res.jsonBody as ProblemDetails;
      expect(p.status).toBe(status);
      expect(p.errors?.map((e) => e.field)).toContain(field);
      expect(p.errors?.every((e) => e.reason.length > 0)).toBe(true);
      expect(hub.accepted).toHaveLength(0);
      expect(records.rows.size).toBe(0);
    });
  }

  it('rejects every body with an extra field, whatever its name (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .string({ minLength: 1, maxLength: 20 })
          .filter((k) => !['definition', 'reason', 'force', 'dryRun', '__proto__'].includes(k)),
        fc.jsonValue(),
        async (key, value) => {
          const { deps, hub } = setup();
          const res = await handleStartBuild(deps, post({ definition: 'aks-jumpbox', [key]: value }));
          expect(res.status).toBe(422);
          expect((res.jsonBody as ProblemDetails).errors?.some((e) => e.field.endsWith(key))).toBe(true);
          expect(hub.accepted).toHaveLength(0);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('for any JSON body: 202 only for a valid request, otherwise a problem naming a field, and nothing started (property)', async () => {
    const valid = (b: unknown): boolean => {
      if (!b || typeof b !== 'object' || Array.isArray(b)) return false;
      const o = b as Record<string, unknown>;
      const known = ['definition', 'reason', 'force', 'dryRun'];
      return (
        Object.keys(o).every((k) => known.includes(k)) &&
        (o.definition === 'aks-jumpbox' || o.definition === 'ops-box') &&
        (o.reason === undefined || (typeof o.reason === 'string' && o.reason.length <= 500)) &&
        (o.force === undefined || typeof o.force === 'boolean') &&
        o.dryRun === undefined
      );
    };
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          definition: fc.constantFrom('aks-jumpbox', 'ops-box', 'nope', 1, null),
          reason: fc.oneof(fc.string({ maxLength: 20 }), fc.integer()),
          force: fc.oneof(fc.boolean(), fc.constant('true')),
          extra: fc.jsonValue(),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const { deps, hub } = setup();
        const res = await handleStartBuild(deps, post(JSON.stringify(b)));
        if (valid(b)) {
          expect(res.status).toBe(202);
          expect(hub.accepted).toHaveLength(1);
        } else {
          expect([400, 422]).toContain(res.status);
          expect((res.jsonBody as ProblemDetails).errors?.length).toBeGreaterThan(0);
          expect(hub.accepted).toHaveLength(0);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('dry run returns the plan and starts nothing; 501 when the app cannot plan', async () => {
    const plan = {
      preflight: { ok: true, checks: [{ name: 'subnet', ok: true }] },
      template: { name: 'aks-jumpbox-0123456789ab', action: 'create' as const },
      egress: [{ fqdn: 'packages.microsoft.com', port: 443, why: 'az cli' }],
    };
    const { deps, hub, records } = setup({ dryRun: async () => plan });
    const res = await handleStartBuild(deps, post({ definition: 'aks-jumpbox', dryRun: true }));
    expect(res.status).toBe(200);
    expect(res.jsonBody).toMatchObject({ dryRun: true, definition: 'aks-jumpbox', ...plan });
    expect(hub.accepted).toHaveLength(0);
    expect(records.rows.size).toBe(0);
    const none = setup();
    expect(
      (await handleStartBuild(none.deps, post({ definition: 'aks-jumpbox', dryRun: true }))).status,
    ).toBe(501);
  });
});

describe('GET /api/builds and /api/builds/{id}', () => {
  it('lists newest first and filters by definition and status; rejects bad query values', async () => {
    const { deps, records } = setup();
    records.put({
      buildId: 'aks-jumpbox.20260101T000000Z.00000001',
      definition: 'aks-jumpbox',
      requestedAt: '2026-01-01T00:00:00Z',
      status: 'Failed',
    });
    records.put({
      buildId: 'aks-jumpbox.20260201T000000Z.00000002',
      definition: 'aks-jumpbox',
      requestedAt: '2026-02-01T00:00:00Z',
      status: 'Succeeded',
    });
    records.put({
      buildId: 'ops-box.20260115T000000Z.00000003',
      definition: 'ops-box',
      requestedAt: '2026-01-15T00:00:00Z',
      status: 'Succeeded',
    });
    const list = async (qs: string) =>
      handleListBuilds(deps, fakeRequest({ method: 'GET', path: `/api/builds${qs}` }));
    const ids = (r: Awaited<ReturnType<typeof list>>) =>
      (r.jsonBody as { builds: { buildId: string }[] }).builds.map((b) => b.buildId.slice(-1));
    expect(ids(await list(''))).toEqual(['2', '3', '1']);
    expect(ids(await list('?definition=aks-jumpbox'))).toEqual(['2', '1']);
    expect(ids(await list('?status=Succeeded'))).toEqual(['2', '3']);
    expect(ids(await list('?top=1'))).toEqual(['2']);
    for (const [qs, field] of [
      ['?top=0', 'top'],
      ['?top=abc', 'top'],
      ['?status=Done', 'status'],
      ['?definition=Bad%20Name', 'definition'],
      ['?color=red', 'color'],
    ]) {
      const r = await list(qs!);
      expect(r.status).toBe(400);
      expect((r.jsonBody as ProblemDetails).errors?.map((e) => e.field)).toContain(field);
    }
  });

  it('merges the record with the live status while the instance runs this build', async () => {
    const { deps, hub } = setup();
    const started = (await handleStartBuild(deps, post({ definition: 'aks-jumpbox' }))).jsonBody as {
      buildId: string;
    };
    const instance = hub.instances.get(buildInstanceId('aks-jumpbox'))!;
    instance.status = 'Running';
    instance.custom = { buildId: started.buildId, phase: 'polling', runSubState: 'Customizing' };
    const get = () =>
      handleGetBuild(
        deps,
        fakeRequest({
          method: 'GET',
          path: `/api/builds/${started.buildId}`,
          params: { id: started.buildId },
        }),
      );
    let res = await get();
    expect(res.status).toBe(200);
    expect(res.jsonBody).toMatchObject({
      status: 'Running',
      terminal: false,
      runtime: { customStatus: { runSubState: 'Customizing' } },
    });
    hub.finish(buildInstanceId('aks-jumpbox'), 'Completed', {
      buildId: started.buildId,
      result: 'Succeeded',
      imageId: '/img',
    });
    res = await get();
    expect(res.jsonBody).toMatchObject({ status: 'Succeeded', terminal: true, imageId: '/img' });
  });

  it('reports a build whose instance was replaced without a result as failed (Abandoned), not running forever', async () => {
    const { deps, hub, records } = setup();
    const old = 'aks-jumpbox.20260101T000000Z.00000001';
    records.put({
      buildId: old,
      definition: 'aks-jumpbox',
      requestedAt: '2026-01-01T00:00:00Z',
      status: 'Running',
    });
    const { buildId: current } = (await handleStartBuild(deps, post({ definition: 'aks-jumpbox' })))
      .jsonBody as {
      buildId: string;
    };
    const res = await handleGetBuild(deps, fakeRequest({ method: 'GET', params: { id: old } }));
    expect(res.jsonBody).toMatchObject({ status: 'Failed', terminal: true, error: { code: 'Abandoned' } });
    expect(JSON.stringify(res.jsonBody)).toContain(current);
    expect(hub.accepted).toHaveLength(1);
  });

  it('finds a build started outside the API (an id this API did not issue) through its record', async () => {
    const { deps, records } = setup();
    records.put({
      buildId: 'sim-0001',
      definition: 'ops-box',
      requestedAt: '2026-01-01T00:00:00Z',
      status: 'Succeeded',
      imageId: '/img',
    });
    const res = await handleGetBuild(deps, fakeRequest({ method: 'GET', params: { id: 'sim-0001' } }));
    expect(res.status).toBe(200);
    expect(res.jsonBody).toMatchObject({ definition: 'ops-box', status: 'Succeeded', imageId: '/img' });
  });

  it('404 for an unknown build, 400 for a malformed id', async () => {
    const { deps } = setup();
    const id = 'aks-jumpbox.20260101T000000Z.deadbeef';
    expect((await handleGetBuild(deps, fakeRequest({ method: 'GET', params: { id } }))).status).toBe(404);
    expect(
      (await handleGetBuild(deps, fakeRequest({ method: 'GET', params: { id: 'not-issued-here' } }))).status,
    ).toBe(404);
    const bad = await handleGetBuild(deps, fakeRequest({ method: 'GET', params: { id: 'x y' } }));
    expect(bad.status).toBe(400);
    expect((bad.jsonBody as ProblemDetails).errors?.[0]?.field).toBe('id');
  });
});

describe('POST /api/builds/{id}/cancel', () => {
  it('raises the cancel event for a running build and refuses a finished one', async () => {
    const { deps, hub } = setup();
    const { buildId } = (await handleStartBuild(deps, post({ definition: 'aks-jumpbox' }))).jsonBody as {
      buildId: string;
    };
    hub.finish(buildInstanceId('aks-jumpbox'), 'Running');
    const cancel = () => handleCancelBuild(deps, fakeRequest({ params: { id: buildId } }));
    expect((await cancel()).status).toBe(202);
    expect(hub.cancels).toEqual([buildInstanceId('aks-jumpbox')]);
    hub.finish(buildInstanceId('aks-jumpbox'), 'Completed', { buildId, result: 'Canceled' });
    const again = await cancel();
    expect(again.status).toBe(409);
    expect(hub.cancels).toHaveLength(1);
  });
});

describe('POST /api/builds/{id}/cancel when the build ends meanwhile', () => {
  it('answers 409 with the final status instead of failing', async () => {
    const { deps, hub } = setup();
    const { buildId } = (await handleStartBuild(deps, post({ definition: 'aks-jumpbox' }))).jsonBody as {
      buildId: string;
    };
    hub.finish(buildInstanceId('aks-jumpbox'), 'Running');
    hub.requestCancel = async (id) => {
      hub.finish(id, 'Completed', { buildId, result: 'Succeeded' });
      throw new Error('The operation failed with an unexpected status code: 410');
    };
    const res = await handleCancelBuild(deps, fakeRequest({ params: { id: buildId } }));
    expect(res.status).toBe(409);
    expect(res.jsonBody).toMatchObject({ buildStatus: 'Succeeded' });
  });
});

describe('GET /api/definitions', () => {
  it('lists each definition with its last build, running build and newest base image (errors reported inline)', async () => {
    const { deps, records, hub } = setup({
      newestBaseImageVersion: async (d) => {
        if (d.name === 'ops-box') throw new Error('throttled');
        return '1.0.10';
      },
    });
    records.put({
      buildId: 'aks-jumpbox.20260101T000000Z.00000001',
      definition: 'aks-jumpbox',
      requestedAt: '2026-01-01T00:00:00Z',
      status: 'Succeeded',
    });
    await handleStartBuild(deps, post({ definition: 'ops-box' }));
    hub.finish(buildInstanceId('ops-box'), 'Running');
    const res = await handleListDefinitions(deps);
    const defs = (res.jsonBody as { definitions: Record<string, unknown>[] }).definitions;
    expect(defs[0]).toMatchObject({
      name: 'aks-jumpbox',
      running: null,
      baseImage: { newestVersion: '1.0.10' },
      lastSuccessfulBuild: { status: 'Succeeded' },
    });
    expect(defs[1]).toMatchObject({
      name: 'ops-box',
      running: { runtimeStatus: 'Running' },
      baseImage: { newestVersion: null, error: 'throttled' },
    });
  });
});
