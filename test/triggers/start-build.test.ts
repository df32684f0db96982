import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildInstanceId } from '../../src/orchestration/contracts.js';
import { newBuildId, parseBuildId } from '../../src/triggers/build-id.js';
import type { BuildOrchestrations } from '../../src/triggers/orchestration-port.js';
import { startBuild } from '../../src/triggers/start-build.js';
import { FakeRecords, FakeTaskHub, LastWriterWinsHub } from './fakes.js';

const req = (definition: string, trigger: 'http' | 'schedule' | 'event-grid' = 'http') => ({
  definition,
  trigger,
  reason: 'test',
  requestedBy: 'test',
});

describe('startBuild', () => {
  it('starts the definition instance with a fresh build id and records it as Queued', async () => {
    const hub = new FakeTaskHub();
    const records = new FakeRecords();
    const o = await startBuild({ orchestrations: hub, records }, req('aks-jumpbox'));
    expect(o.outcome).toBe('started');
    if (o.outcome !== 'started') return;
    expect(o.instanceId).toBe(buildInstanceId('aks-jumpbox'));
    expect(parseBuildId(o.buildId)?.definition).toBe('aks-jumpbox');
    expect(hub.accepted.map((i) => i.buildId)).toEqual([o.buildId]);
    expect(records.rows.get(o.buildId)?.status).toBe('Queued');
  });

  it('reports the running build instead of starting a second one', async () => {
    const hub = new FakeTaskHub();
    const first = await startBuild({ orchestrations: hub }, req('aks-jumpbox'));
    hub.finish(buildInstanceId('aks-jumpbox'), 'Running');
    const second = await startBuild({ orchestrations: hub }, req('aks-jumpbox', 'schedule'));
    expect(second).toMatchObject({
      outcome: 'already-running',
      buildId: first.buildId,
      runtimeStatus: 'Running',
    });
    expect(hub.accepted).toHaveLength(1);
  });

  it('replaces a finished instance with a new build', async () => {
    const hub = new FakeTaskHub();
    for (const end of ['Completed', 'Failed', 'Terminated'] as const) {
      await startBuild({ orchestrations: hub }, req('aks-jumpbox'));
      hub.finish(buildInstanceId('aks-jumpbox'), end);
    }
    expect(hub.accepted).toHaveLength(3);
    expect(new Set(hub.accepted.map((a) => a.buildId)).size).toBe(3);
  });

  it('20 concurrent starts from HTTP, timer and Event Grid for one definition start exactly one build', async () => {
    const hub = new FakeTaskHub();
    const records = new FakeRecords();
    const triggers = ['http', 'schedule', 'event-grid'] as const;
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        startBuild({ orchestrations: hub, records }, req('aks-jumpbox', triggers[i % 3]!)),
      ),
    );
    const started = outcomes.filter((o) => o.outcome === 'started');
    expect(started).toHaveLength(1);
    expect(hub.accepted).toHaveLength(1);
    // The losers of the residual race were refused by the hub and name the winner.
    expect(hub.refused.length).toBeGreaterThan(0);
    for (const o of outcomes) expect(o.buildId).toBe(started[0]!.buildId);
    expect(records.rows.size).toBe(1);
  });

  it('reports one started build when the backend accepts racing starts (last writer wins)', async () => {
    const hub = new LastWriterWinsHub();
    const records = new FakeRecords();
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => startBuild({ orchestrations: hub, records }, req('aks-jumpbox'))),
    );
    const winner = hub.instances.get(buildInstanceId('aks-jumpbox'))!.input.buildId;
    const started = outcomes.filter((o) => o.outcome === 'started');
    expect(started.map((o) => o.buildId)).toEqual([winner]);
    expect(outcomes.every((o) => o.buildId === winner)).toBe(true);
    expect([...records.rows.keys()]).toEqual([winner]);
  });

  it('concurrent starts for N definitions start exactly N builds (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{2,8}$/), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 6 }),
        async (defs, perDef) => {
          const hub = new FakeTaskHub();
          const calls = defs.flatMap((d) => Array.from({ length: perDef }, () => d));
          const outcomes = await Promise.all(calls.map((d) => startBuild({ orchestrations: hub }, req(d))));
          expect(outcomes.filter((o) => o.outcome === 'started')).toHaveLength(defs.length);
          expect(new Set(hub.accepted.map((a) => a.definition))).toEqual(new Set(defs));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('rethrows a start failure when no other build holds the instance', async () => {
    const broken: BuildOrchestrations = {
      status: async () => undefined,
      start: async () => {
        throw new Error('storage unavailable');
      },
      requestCancel: async () => undefined,
    };
    await expect(startBuild({ orchestrations: broken }, req('aks-jumpbox'))).rejects.toThrow(
      'storage unavailable',
    );
  });

  it('treats an error after an accepted start (lost response) as started', async () => {
    const hub = new FakeTaskHub();
    const lossy: BuildOrchestrations = {
      status: (id) => hub.status(id),
      start: async (id, input) => {
        await hub.start(id, input);
        throw new Error('socket hang up');
      },
      requestCancel: async () => undefined,
    };
    const o = await startBuild({ orchestrations: lossy }, req('aks-jumpbox'));
    expect(o.outcome).toBe('started');
    expect(hub.accepted[0]?.buildId).toBe(o.buildId);
  });
});

describe('build ids', () => {
  it('round-trip the definition and request time', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z][a-z0-9-]{1,30}[a-z0-9]$/),
        fc.date({ min: new Date('2000-01-01'), max: new Date('2999-12-31'), noInvalidDate: true }),
        (definition, at) => {
          const id = newBuildId(definition, at);
          const parsed = parseBuildId(id);
          expect(parsed?.definition).toBe(definition);
          expect(parsed?.requestedAt).toBe(`${at.toISOString().slice(0, 19)}Z`);
        },
      ),
    );
  });

  it('rejects ids this app did not issue', () => {
    for (const bad of [
      '',
      'aks-jumpbox',
      'aks-jumpbox.2026.abc',
      '../etc.20260101T000000Z.00000000',
      'A.20260101T000000Z.00000000',
    ]) {
      expect(parseBuildId(bad)).toBeUndefined();
    }
  });

  it('is silent when the orchestration recorded the build first, and warns on any other record failure', async () => {
    const warnings: string[] = [];
    const log = { info: () => {}, warn: (m: string) => warnings.push(m), debug: () => {} };
    const first = new FakeRecords();
    const hub = new FakeTaskHub();
    // The orchestration's own record lands before the starter's create: a 409, nothing to report.
    first.create = async (r) => {
      first.put({ ...r, status: 'Running' });
      throw Object.assign(new Error('EntityAlreadyExists'), { statusCode: 409 });
    };
    const o = await startBuild({ orchestrations: hub, records: first, log }, req('aks-jumpbox'));
    expect(o.outcome).toBe('started');
    expect(first.rows.get(o.buildId ?? '')?.status).toBe('Running');
    expect(warnings).toEqual([]);

    const broken = new FakeRecords();
    broken.create = async () => {
      throw Object.assign(new Error('table unavailable'), { statusCode: 503 });
    };
    await startBuild({ orchestrations: new FakeTaskHub(), records: broken, log }, req('aks-jumpbox'));
    expect(warnings).toEqual([expect.stringMatching(/record was not created here: table unavailable/)]);
  });
});
