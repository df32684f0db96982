/**
 * The HTTP API through the local Durable host's HTTP front with the real DurableClient (stand-in build
 * orchestrator), against the ARM emulator and Azurite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemDetails } from '../../src/api/problem.js';
import { buildInstanceId } from '../../src/orchestration/contracts.js';
import { type AppHost, startAppHost } from './app-host.js';

let app: AppHost;
const DEFS = ['aks-jumpbox', 'ops-box', 'dev-box', 'sre-box', 'ci-box'];

beforeAll(async () => {
  app = await startAppHost({ definitions: DEFS });
});
afterAll(async () => {
  await app?.stop();
});

type Accepted = { buildId: string; statusUrl: string; links: { status: string; cancel: string } };

describe('POST /api/builds through the local host', () => {
  it('202 with status URLs that work, then 409 naming the running build, then a new build once it finished', async () => {
    const res = await app.call('POST', '/api/builds', {
      body: { definition: 'aks-jumpbox', reason: 'minutes=40' },
    });
    expect(res.status).toBe(202);
    const accepted = res.body as Accepted;
    expect(res.headers.get('location')).toBe(accepted.statusUrl);
    expect(accepted.statusUrl.startsWith(app.host.baseUrl)).toBe(true);

    const status = await fetch(accepted.statusUrl, { headers: { 'x-functions-key': app.host.functionKey } });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({
      buildId: accepted.buildId,
      terminal: false,
      runtime: { customStatus: { runSubState: 'Customizing' } },
    });

    const conflict = await app.call('POST', '/api/builds', { body: { definition: 'aks-jumpbox' } });
    expect(conflict.status).toBe(409);
    expect(conflict.headers.get('content-type')).toContain('application/problem+json');
    expect(conflict.body).toMatchObject({ runningBuildId: accepted.buildId, statusUrl: accepted.statusUrl });

    const done = await app.host.waitForInstance(buildInstanceId('aks-jumpbox'));
    expect(done.runtimeStatus).toBe('Completed');
    const finished = await app.call('GET', new URL(accepted.statusUrl).pathname);
    expect(finished.body).toMatchObject({ status: 'Succeeded', terminal: true });
    expect((finished.body as { imageId: string }).imageId).toContain('/images/aks-jumpbox');

    const again = await app.call('POST', '/api/builds', {
      body: { definition: 'aks-jumpbox', reason: 'minutes=1' },
    });
    expect(again.status).toBe(202);
    expect((again.body as Accepted).buildId).not.toBe(accepted.buildId);
    await app.host.waitForInstance(buildInstanceId('aks-jumpbox'));
  });

  const invalid: [
    string,
    { body?: unknown; rawBody?: string; headers?: Record<string, string> },
    number,
    string,
  ][] = [
    ['unknown definition', { body: { definition: 'nope-box' } }, 422, 'definition'],
    ['unknown field', { body: { definition: 'ops-box', extra: true } }, 422, 'extra'],
    ['wrong type', { body: { definition: 'ops-box', dryRun: 'no' } }, 422, 'dryRun'],
    [
      'malformed JSON',
      { rawBody: '{"definition": ', headers: { 'content-type': 'application/json' } },
      400,
      '(body)',
    ],
    [
      'wrong content type',
      { rawBody: 'definition=ops-box', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      415,
      'Content-Type',
    ],
    ['oversize body', { body: { definition: 'ops-box', reason: 'x'.repeat(20_000) } }, 413, '(body)'],
  ];
  for (const [name, request, status, field] of invalid) {
    it(`${status} problem+json for ${name} (field ${field}); nothing started`, async () => {
      const res = await app.call('POST', '/api/builds', request);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect((res.body as ProblemDetails).errors?.map((e) => e.field)).toContain(field);
      expect(await app.host.getStatus(buildInstanceId('ops-box'))).toBeUndefined();
    });
  }

  it('401 without the function key', async () => {
    const res = await app.call('POST', '/api/builds', { body: { definition: 'ops-box' }, key: null });
    expect(res.status).toBe(401);
    const wrong = await app.call('GET', '/api/builds', { key: 'not-the-key' });
    expect(wrong.status).toBe(401);
  });

  it('dry run returns the plan and creates nothing in the emulator', async () => {
    const before = JSON.stringify(app.harness.emulator.state.resources());
    const requestsBefore = app.harness.emulator.state.requests().length;
    const res = await app.call('POST', '/api/builds', { body: { definition: 'dev-box', dryRun: true } });
    expect(res.status).toBe(200);
    const plan = res.body as {
      preflight: { ok: boolean };
      template: { name: string; action: string };
      egress: unknown[];
    };
    expect(plan.template.name).toMatch(/^dev-box-[0-9a-f]{12}$/);
    expect(plan.template.action).toBe('create');
    expect(plan.egress.length).toBeGreaterThan(0);
    expect(typeof plan.preflight.ok).toBe('boolean');
    expect(JSON.stringify(app.harness.emulator.state.resources())).toBe(before);
    const calls = app.harness.emulator.state.requests().slice(requestsBefore);
    expect(calls.length).toBeGreaterThan(0);
    expect(
      calls.filter((c) => c.request.method !== 'GET').map((c) => `${c.request.method} ${c.request.url}`),
    ).toEqual([]);
    expect(await app.host.getStatus(buildInstanceId('dev-box'))).toBeUndefined();
  });
});

describe('GET /api/builds, /api/definitions, /api/openapi.json through the local host', () => {
  it('lists records newest first and filters by definition and status', async () => {
    const res = await app.call('GET', '/api/builds');
    expect(res.status).toBe(200);
    const builds = (res.body as { builds: { buildId: string; definition: string; requestedAt: string }[] })
      .builds;
    expect(builds.length).toBeGreaterThanOrEqual(2);
    const times = builds.map((b) => Date.parse(b.requestedAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const filtered = await app.call('GET', '/api/builds?definition=aks-jumpbox&top=1');
    expect((filtered.body as { builds: unknown[] }).builds).toHaveLength(1);
    expect((filtered.body as { builds: { definition: string }[] }).builds[0]?.definition).toBe('aks-jumpbox');
    const queued = await app.call('GET', '/api/builds?status=Queued&definition=ops-box');
    expect((queued.body as { builds: unknown[] }).builds).toEqual([]);
    const bad = await app.call('GET', '/api/builds?top=1000');
    expect(bad.status).toBe(400);
  });

  it('lists definitions with the newest marketplace version from the emulator', async () => {
    const res = await app.call('GET', '/api/definitions');
    expect(res.status).toBe(200);
    const defs = (res.body as { definitions: { name: string; baseImage: { newestVersion: string } }[] })
      .definitions;
    expect(defs.map((d) => d.name)).toEqual(DEFS);
    expect(defs[0]?.baseImage.newestVersion).toBe('24.04.202501140');
  });

  it('serves the OpenAPI document', async () => {
    const res = await app.call('GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ openapi: '3.1.0', paths: { '/api/builds': {} } });
  });
});

describe('cancel through the local host', () => {
  it('POST /cancel raises the event; the build ends Canceled; a second cancel is 409', async () => {
    const res = await app.call('POST', '/api/builds', {
      body: { definition: 'sre-box', reason: 'minutes=60' },
    });
    const { buildId } = res.body as Accepted;
    const cancel = await app.call('POST', `/api/builds/${buildId}/cancel`);
    expect(cancel.status).toBe(202);
    const done = await app.host.waitForInstance(buildInstanceId('sre-box'));
    expect(done.runtimeStatus).toBe('Completed');
    const view = await app.call('GET', `/api/builds/${buildId}`);
    expect(view.body).toMatchObject({ status: 'Canceled', terminal: true });
    expect((await app.call('POST', `/api/builds/${buildId}/cancel`)).status).toBe(409);
    expect((await app.call('GET', '/api/builds/sre-box.20990101T000000Z.00000000')).status).toBe(404);
  });
});
