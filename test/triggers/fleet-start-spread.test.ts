import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { imageDefinitionSchema } from '../../src/image/definition.js';
import type { BuildInput } from '../../src/orchestration/contracts.js';
import type { DurableTask, OrchestrationPort } from '../../src/orchestration/durable-port.js';
import { waitForStartSlot } from '../../src/orchestration/start-delay.js';
import { fleetStartDelays, MAX_STARTS_AT_ONCE } from '../../src/triggers/fleet-start-spread.js';
import { rebuildAllDefinitions } from '../../src/triggers/monthly-rebuild.js';
import { FakeRecords, FakeTaskHub } from './fakes.js';

const ids = (n: number) =>
  Array.from(
    { length: n },
    (_, i) => `fleet-${i}.20260101T030000Z.${(i * 7919).toString(16).padStart(8, '0')}`,
  );

describe('monthly rebuild start spread', () => {
  it('property: at most 16 builds share a start, all start within the window, a small fleet starts at once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1200 }), fc.integer({ min: 0, max: 240 }), (n, window) => {
        const delays = fleetStartDelays(ids(n), window);
        expect(delays.size).toBe(n);
        const perStart = new Map<number, number>();
        for (const d of delays.values()) {
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(Math.max(window * 60, Math.ceil(n / MAX_STARTS_AT_ONCE) - 1));
          perStart.set(d, (perStart.get(d) ?? 0) + 1);
        }
        expect(Math.max(...perStart.values())).toBeLessThanOrEqual(MAX_STARTS_AT_ONCE);
        if (n <= MAX_STARTS_AT_ONCE) expect([...perStart.keys()]).toEqual([0]);
      }),
      {
        numRuns: 60,
        examples: [
          [1200, 1],
          [1200, 0],
          [17, 0],
        ],
      },
    );
  });

  it('is deterministic from the build ids, whatever their order', () => {
    const list = ids(200);
    const a = fleetStartDelays(list, 10);
    const b = fleetStartDelays([...list].reverse(), 10);
    expect([...a.entries()].sort()).toEqual([...b.entries()].sort());
    expect(Math.max(...a.values())).toBe(600);
  });

  it('the monthly timer gives each build its delay in the orchestration input', async () => {
    const hub = new FakeTaskHub();
    const defs = Array.from({ length: 40 }, (_, i) => imageDefinitionSchema.parse({ name: `def-${i}` }));
    await rebuildAllDefinitions({
      definitions: defs,
      orchestrations: hub,
      records: new FakeRecords(),
      schedule: '0 0 3 1 * *',
      startSpreadMinutes: 10,
      now: () => new Date('2026-01-01T03:00:00Z'),
    });
    const byId = fleetStartDelays(
      hub.accepted.map((a) => a.buildId),
      10,
    );
    expect(hub.accepted).toHaveLength(40);
    for (const a of hub.accepted) expect(a.startDelaySeconds ?? 0).toBe(byId.get(a.buildId));
    expect(new Set(hub.accepted.map((a) => a.startDelaySeconds ?? 0))).toEqual(new Set([0, 300, 600]));
  });
});

describe('waitForStartSlot (orchestration)', () => {
  const port = (timers: Date[]): OrchestrationPort =>
    ({
      currentUtcDateTime: new Date('2026-01-01T03:00:00Z'),
      createTimer: (at: Date) => {
        timers.push(at);
        return {} as DurableTask;
      },
    }) as unknown as OrchestrationPort;
  const input = (startDelaySeconds?: number) =>
    ({ buildId: 'b', definition: 'd', requestedAt: '2026-01-01T03:00:00Z', startDelaySeconds }) as BuildInput;

  it('waits one durable timer of the given delay, none without one', () => {
    const timers: Date[] = [];
    [...waitForStartSlot(port(timers), input(undefined))];
    [...waitForStartSlot(port(timers), input(0))];
    expect(timers).toEqual([]);
    [...waitForStartSlot(port(timers), input(125))];
    expect(timers.map((t) => t.toISOString())).toEqual(['2026-01-01T03:02:05.000Z']);
  });

  it('refuses a delay that is not a whole number of seconds in range, naming the field', () => {
    for (const bad of [-1, 1.5, 240 * 60 + 1])
      expect(() => [...waitForStartSlot(port([]), input(bad))]).toThrow(/BuildInput.startDelaySeconds/);
  });
});
