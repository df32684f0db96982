/** Registration capture, timer triggers on the virtual clock, Event Grid triggers. */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { compileRoute } from '../../src/local/durable-host/route-template.js';
import { parseSchedule } from '../../src/local/durable-host/schedule.js';
import { formatTimeSpan, parseTimeSpan } from '../../src/local/durable-host/timespan.js';
import { START, startTestHost } from './support.js';

const { host, clock } = await startTestHost();
afterAll(() => host.stop());
const HOUR = 3_600_000;

describe('registration capture', () => {
  it('exposes every registration with its trigger metadata', () => {
    const starter = host.functions.get('startAny')!;
    expect(starter.trigger).toBe('http');
    expect(starter.metadata).toMatchObject({
      route: 'orchestrators/{name}/{id?}',
      methods: ['POST'],
      authLevel: 'function',
    });
    expect(starter.metadata.extraInputs.map((i) => i.type)).toEqual(['durableClient']);
    expect(host.functions.get('statusOf')!.metadata.authLevel).toBe('anonymous');
    expect(host.functions.get('nightlyChain')).toMatchObject({
      trigger: 'timer',
      metadata: { schedule: '%NIGHTLY_SCHEDULE%' },
    });
    expect(host.functions.get('onImageVersion')!.trigger).toBe('eventGrid');
    expect(host.functions.get('chain')!.trigger).toBe('orchestration');
    expect(host.functions.get('sayHello')!.trigger).toBe('activity');
  });
});

describe('timer triggers', () => {
  it('fire once per NCRONTAB occurrence as the virtual clock passes it, with the timer object', async () => {
    const before = (await host.listInstances({ instanceIdPrefix: 'nightly-' })).length;
    clock.advanceTo(START + 2 * HOUR);
    await host.settle();
    expect(await host.listInstances({ instanceIdPrefix: 'nightly-' })).toHaveLength(before);

    clock.advanceTo(START + 3 * HOUR);
    await host.settle();
    const first = await host.listInstances({ instanceIdPrefix: 'nightly-' });
    expect(first).toHaveLength(before + 1);
    expect(first.at(-1)!.instanceId).toBe(`nightly-${new Date(START).toISOString()}`);
    expect(first.at(-1)!.input).toEqual(['on time']);

    clock.advanceTo(START + 20 * HOUR);
    await host.settle();
    expect(await host.listInstances({ instanceIdPrefix: 'nightly-' })).toHaveLength(before + 1);

    // a jump far past the next occurrence fires once, marked past due
    clock.advanceTo(START + 30 * HOUR);
    await host.settle();
    const second = await host.listInstances({ instanceIdPrefix: 'nightly-' });
    expect(second).toHaveLength(before + 2);
    const late = second.find((s) => s.instanceId === `nightly-${new Date(START + 3 * HOUR).toISOString()}`)!;
    expect(late.input).toEqual(['late']);
  });

  it('can be invoked on demand and names the registered timers when the name is wrong', async () => {
    const count = (await host.listInstances({ instanceIdPrefix: 'nightly-' })).length;
    await host.fireTimerTrigger('nightlyChain');
    await host.settle();
    expect((await host.listInstances({ instanceIdPrefix: 'nightly-' })).length).toBe(count + 1);
    await expect(host.fireTimerTrigger('chain')).rejects.toThrow(/registered: nightlyChain/);
  });
});

describe('admin route for non-HTTP functions', () => {
  it('runs timer and Event Grid functions on POST /admin/functions/{name} with the key', async () => {
    const admin = (name: string) => `${host.baseUrl}/admin/functions/${name}`;
    const executions = async () =>
      new Set(
        (await host.listInstances({ instanceIdPrefix: 'nightly-' })).map(
          (s) =>
            host.history(s.instanceId).find((e) => e.EventType === 0)?.OrchestrationInstance?.ExecutionId,
        ),
      );
    const before = await executions();
    expect((await fetch(admin('nightlyChain'), { method: 'POST' })).status).toBe(401);
    const timer = await fetch(admin('nightlyChain'), {
      method: 'POST',
      headers: { 'x-functions-key': 'test-key' },
    });
    expect(timer.status).toBe(202);
    await host.settle();
    // a new execution started (a manual run reuses the last scheduled time, so possibly the same instance id)
    expect([...(await executions())].filter((e) => !before.has(e))).toHaveLength(1);

    const event = {
      id: 'evt-admin',
      subject: 'images/jumpbox/versions/2.0.0',
      eventType: 'Microsoft.Resources.ResourceWriteSuccess',
      eventTime: new Date(START).toISOString(),
      data: {},
      dataVersion: '',
    };
    const eg = await fetch(admin('onImageVersion'), {
      method: 'POST',
      headers: { 'x-functions-key': 'test-key', 'content-type': 'application/json' },
      body: JSON.stringify({ input: JSON.stringify(event) }),
    });
    expect(eg.status).toBe(202);
    expect((await host.waitForInstance('eg-evt-admin')).output).toEqual([
      'Hello images/jumpbox/versions/2.0.0',
    ]);
    expect(
      (await fetch(admin('statusOf'), { method: 'POST', headers: { 'x-functions-key': 'test-key' } })).status,
    ).toBe(404);
  });
});

describe('event grid triggers', () => {
  it('receive an Event Grid-schema event and can start orchestrations with the durable client', async () => {
    await host.invokeEventGrid('onImageVersion', {
      id: 'evt-1',
      topic: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/galleries/g',
      subject: 'images/jumpbox/versions/1.0.1',
      eventType: 'Microsoft.Resources.ResourceWriteSuccess',
      eventTime: new Date(START).toISOString(),
      data: {},
      dataVersion: '',
      metadataVersion: '1',
    });
    const status = await host.waitForInstance('eg-evt-1');
    expect(status.output).toEqual(['Hello images/jumpbox/versions/1.0.1']);
  });

  it('rejects an event that lacks Event Grid schema fields, naming them', async () => {
    await expect(host.invokeEventGrid('onImageVersion', { id: 'x', data: {} })).rejects.toThrow(
      /missing Event Grid schema field\(s\) eventType, subject, eventTime, dataVersion/,
    );
  });
});

describe('schedules, routes and time spans', () => {
  it('six-field NCRONTAB: the next occurrence is after the given time and matches the expression', () => {
    const nightly = parseSchedule('0 30 3 * * *');
    fc.assert(
      fc.property(fc.integer({ min: START, max: START + 400 * 86_400_000 }), (after) => {
        const next = nightly.next(after);
        expect(next).toBeGreaterThan(after);
        expect(next - after).toBeLessThanOrEqual(86_400_000);
        expect(new Date(next).toISOString().slice(11)).toBe('03:30:00.000Z');
      }),
    );
  });

  it('rejects five-field cron and explains the six-field form', () => {
    expect(() => parseSchedule('0 3 * * *', 'monthlyRebuild.schedule')).toThrow(
      /monthlyRebuild.schedule: "0 3 \* \* \*" has 5 fields; NCRONTAB needs six/,
    );
  });

  it('route parameters round-trip any text, optional parameters may be absent, constraints filter', () => {
    const route = compileRoute('builds/{id}/{op?}');
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => s.trim() === s && !s.includes('/')),
        (id) => {
          expect(route.match(`builds/${encodeURIComponent(id)}`)).toEqual({ id });
          expect(route.match(`builds/${encodeURIComponent(id)}/cancel`)).toEqual({ id, op: 'cancel' });
        },
      ),
    );
    expect(route.match('builds')).toBeUndefined();
    expect(route.match('BUILDS/7/x/extra')).toBeUndefined();
    expect(compileRoute('items/{n:int}').match('items/abc')).toBeUndefined();
    expect(compileRoute('files/{*rest}').match('files/a/b/c')).toEqual({ rest: 'a/b/c' });
  });

  it('.NET TimeSpan text round-trips whole milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 * 86_400_000 }), (ms) => {
        expect(parseTimeSpan(formatTimeSpan(ms))).toBe(ms);
      }),
    );
    expect(parseTimeSpan('6.00:00:00')).toBe(6 * 86_400_000);
    expect(() => parseTimeSpan('six days', 'maximumShortTimerDuration')).toThrow(/maximumShortTimerDuration/);
  });
});
