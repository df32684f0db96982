/**
 * The base-image watcher timer and the Event Grid trigger through the local Durable host, with marketplace
 * versions published in the ARM emulator and the last successful build in the real record store (Azurite).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInstanceId } from '../../src/orchestration/contracts.js';
import { BuildRecordStore } from '../../src/records/build-records.js';
import { type AppHost, startAppHost } from '../api/app-host.js';
import { clientsForAzurite, tableEndpoint } from '../support/azurite.js';

const SOURCE = { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server' };
const TABLE = `watch${process.pid}`;
let app: AppHost;
let records: BuildRecordStore;

beforeAll(async () => {
  app = await startAppHost({ definitions: ['aks-jumpbox'], env: { RECORDS_TABLE_NAME: TABLE } });
  records = new BuildRecordStore(clientsForAzurite().table(tableEndpoint(), TABLE));
});
afterAll(async () => {
  await app?.stop();
});

let seq = 0;
async function succeededWith(version: string): Promise<void> {
  seq++;
  await records.create({
    buildId: `aks-jumpbox.2026010${seq}T000000Z.0000000${seq}`,
    definition: 'aks-jumpbox',
    requestedAt: `2026-01-0${seq}T00:00:00Z`,
    trigger: 'schedule',
    reason: 'seeded by the test',
    requestedBy: 'test',
    status: 'Succeeded',
    sourceImageVersion: version,
  });
}

async function instanceStatus() {
  return (await app.host.getStatus(buildInstanceId('aks-jumpbox')))?.runtimeStatus;
}

describe('base-image watcher timer', () => {
  it('starts nothing while the last build used the newest version, even when a text-greater version appears', async () => {
    const newest = app.harness.emulator.state.marketplaceVersions(SOURCE.publisher, SOURCE.offer, SOURCE.sku);
    expect(newest).toContain('24.04.202501140');
    await succeededWith('24.04.202501140');
    await app.host.fireTimerTrigger('baseImageCheck');
    expect(await instanceStatus()).toBeUndefined();
    // "24.04.9" sorts after "24.04.202501140" as text but is numerically older.
    app.harness.emulator.control.publishImageVersion({ ...SOURCE, version: '24.04.9' });
    await app.host.fireTimerTrigger('baseImageCheck');
    expect(await instanceStatus()).toBeUndefined();
  });

  it('starts a build when a numerically newer version is published (text order would say older)', async () => {
    // "24.04.1000000000" sorts before "24.04.202501140" as text.
    app.harness.emulator.control.publishImageVersion({ ...SOURCE, version: '24.04.1000000000' });
    await app.host.fireTimerTrigger('baseImageCheck');
    const status = await app.host.getStatus(buildInstanceId('aks-jumpbox'));
    expect(status?.runtimeStatus).toMatch(/Pending|Running/);
    const input = status?.input as { trigger: string; reason: string };
    expect(input.trigger).toBe('base-image');
    expect(input.reason).toContain('24.04.1000000000');
    const listed = await app.call('GET', '/api/builds?definition=aks-jumpbox&status=Queued');
    expect((listed.body as { builds: { reason: string }[] }).builds[0]?.reason).toContain('24.04.1000000000');
    // A second check while it runs starts nothing new.
    await app.host.fireTimerTrigger('baseImageCheck');
    expect((await app.call('GET', '/api/builds?definition=aks-jumpbox&status=Queued')).body).toMatchObject({
      count: 1,
    });
    await app.host.waitForInstance(buildInstanceId('aks-jumpbox'));
  });
});

describe('Event Grid trigger', () => {
  it('ignores events that are not gallery image version writes of a definition source, and validation events', async () => {
    const before = (await app.call('GET', '/api/builds?top=100')).body as { count: number };
    const sub = app.harness.emulator.subscriptionId;
    const events = [
      {
        eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
        subject: '',
        data: { validationCode: 'abc' },
      },
      {
        eventType: 'Microsoft.Resources.ResourceWriteSuccess',
        subject: `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0`,
        data: {},
      },
      {
        eventType: 'Microsoft.Resources.ResourceDeleteSuccess',
        subject: `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.1`,
        data: {},
      },
    ];
    for (const [i, e] of events.entries()) {
      await app.host.invokeEventGrid('baseImageEvent', {
        id: `e${i}`,
        eventTime: new Date().toISOString(),
        dataVersion: '',
        ...e,
      });
    }
    const after = (await app.call('GET', '/api/builds?top=100')).body as { count: number };
    expect(after.count).toBe(before.count);
    expect((await app.host.getStatus(buildInstanceId('aks-jumpbox')))?.runtimeStatus).toBe('Completed');
  });
});

describe('monthly timer', () => {
  it('starts a forced rebuild with the schedule recorded in the reason', async () => {
    await app.host.fireTimerTrigger('monthlyRebuild');
    const status = await app.host.getStatus(buildInstanceId('aks-jumpbox'));
    expect(status?.input).toMatchObject({
      trigger: 'schedule',
      force: true,
      requestedBy: 'timer:monthlyRebuild',
    });
    expect((status?.input as { reason: string } | undefined)?.reason).toContain('0 0 3 1 * *');
    await app.host.waitForInstance(buildInstanceId('aks-jumpbox'));
  });
});
