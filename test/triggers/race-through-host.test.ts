/**
 * Race safety through the local Durable host: HTTP, the two timers and Event Grid starting builds at the same
 * moment produce exactly one build per definition (status check + the task hub refusing a second start of
 * an active instance id).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInstanceId } from '../../src/orchestration/contracts.js';
import type { BuildRecord } from '../../src/records/build-records.js';
import { type AppHost, startAppHost } from '../api/app-host.js';

const DEFS = ['aks-jumpbox', 'ops-box', 'dev-box', 'sre-box', 'ci-box'];
let app: AppHost;

beforeAll(async () => {
  app = await startAppHost({ definitions: DEFS });
});
afterAll(async () => {
  await app?.stop();
});

async function recordsOf(definition: string): Promise<BuildRecord[]> {
  const r = await app.call('GET', `/api/builds?definition=${definition}&top=100`);
  return (r.body as { builds: BuildRecord[] }).builds;
}

const galleryEvent = (i: number) => ({
  id: `evt-${i}`,
  eventType: 'Microsoft.Resources.ResourceWriteSuccess',
  subject: `/subscriptions/${app.harness.emulator.subscriptionId}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.${i}`,
  eventTime: new Date().toISOString(),
  data: {},
  dataVersion: '',
});

describe('concurrent starts through the local host', () => {
  it('20 simultaneous starts from HTTP, timers and Event Grid: exactly one build per definition', async () => {
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      const kind = i % 4;
      if (kind === 0 || kind === 1) {
        calls.push(
          app.call('POST', '/api/builds', { body: { definition: 'aks-jumpbox', reason: `race ${i}` } }),
        );
      } else if (kind === 2) {
        calls.push(
          i % 8 === 2
            ? app.host.fireTimerTrigger('monthlyRebuild')
            : app.host.fireTimerTrigger('baseImageCheck'),
        );
      } else {
        calls.push(app.host.invokeEventGrid('baseImageEvent', galleryEvent(i)));
      }
    }
    const results = await Promise.all(calls);
    const http = results.filter(
      (r): r is { status: number } => typeof r === 'object' && r !== null && 'status' in r,
    );
    expect(http).toHaveLength(10);
    expect(http.every((r) => r.status === 202 || r.status === 409)).toBe(true);
    expect(http.filter((r) => r.status === 202).length).toBeLessThanOrEqual(1);

    for (const d of DEFS) {
      const records = await recordsOf(d);
      expect(records, d).toHaveLength(1);
      const status = await app.host.getStatus(buildInstanceId(d));
      expect(status?.runtimeStatus).toMatch(/Pending|Running/);
      expect((status?.input as { buildId: string } | undefined)?.buildId).toBe(records[0]!.buildId);
    }
    const ids = new Set(DEFS.map((d) => buildInstanceId(d)));
    const instances = (await app.host.listInstances()).filter((s) => ids.has(s.instanceId));
    expect(instances).toHaveLength(5);
    for (const d of DEFS) await app.host.waitForInstance(buildInstanceId(d));
  });

  it('20 simultaneous HTTP starts over 5 definitions: 5 builds, 15 conflicts', async () => {
    const before = new Map(
      await Promise.all(DEFS.map(async (d) => [d, (await recordsOf(d)).length] as const)),
    );
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        app.call('POST', '/api/builds', { body: { definition: DEFS[i % 5], reason: 'minutes=5' } }),
      ),
    );
    expect(results.filter((r) => r.status === 202)).toHaveLength(5);
    expect(results.filter((r) => r.status === 409)).toHaveLength(15);
    const started = new Set(
      results.filter((r) => r.status === 202).map((r) => (r.body as { definition: string }).definition),
    );
    expect(started).toEqual(new Set(DEFS));
    for (const d of DEFS) expect((await recordsOf(d)).length).toBe(before.get(d)! + 1);
    for (const d of DEFS) await app.host.waitForInstance(buildInstanceId(d));
  });
});
