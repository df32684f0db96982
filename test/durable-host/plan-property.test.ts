/**
 * Property: for any composition of activities, fan-outs, timers, long timers, retried activities and
 * event/timer races, the real orchestrator on the host completes with the model's result and the history
 * is well formed (sequence ids 0..n-1 in scheduling order, every completion linked to a scheduled id).
 * A disagreement between the host's numbering and the library's would leave the orchestration waiting.
 */
import fc from 'fast-check';
import { afterAll, expect, it } from 'vitest';
import type { PlanStep } from './fixtures/orchestrations.js';
import { startTestHost } from './support.js';

const { host } = await startTestHost();
afterAll(() => host.stop());

let keys = 0;
const stepArb: fc.Arbitrary<PlanStep> = fc.oneof(
  fc.integer({ min: 0, max: 50 }).map((value) => ({ kind: 'activity' as const, value })),
  fc.integer({ min: 1, max: 90 }).map((minutes) => ({ kind: 'timer' as const, minutes })),
  fc.integer({ min: 1, max: 14 }).map((days) => ({ kind: 'longTimer' as const, days })),
  fc
    .array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 4 })
    .map((values) => ({ kind: 'all' as const, values })),
  fc
    .record({ failTimes: fc.integer({ min: 0, max: 3 }), attempts: fc.integer({ min: 1, max: 4 }) })
    .map((r) => ({ kind: 'retry' as const, key: `plan-${process.pid}-${keys++}`, ...r })),
  fc.integer({ min: 1, max: 60 }).map((minutes) => ({ kind: 'race' as const, minutes })),
);

function model(steps: readonly PlanStep[]): unknown[] {
  const out: unknown[] = [];
  for (const s of steps) {
    if (s.kind === 'activity') out.push(s.value * 2);
    else if (s.kind === 'all') out.push(...s.values.map((v) => v * 2));
    else if (s.kind === 'retry')
      out.push(s.failTimes < s.attempts ? `ok after ${s.failTimes} failures` : { caught: true });
    else if (s.kind === 'race') out.push('timeout');
  }
  return out;
}

it('completes every plan with the model result and a well-formed history', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 6 }), async (steps) => {
      const id = await host.startOrchestration('plan', steps);
      const status = await host.waitForInstance(id, { timeoutMs: 5000 });
      expect(status.runtimeStatus).toBe('Completed');
      expect(status.output).toEqual(model(steps));
      const events = host.history(id);
      const scheduled = events.filter((e) => e.EventType === 4 || e.EventType === 10).map((e) => e.EventId);
      expect(scheduled).toEqual(scheduled.map((_, i) => i));
      const tasks = new Set(events.filter((e) => e.EventType === 4).map((e) => e.EventId));
      const timers = new Set(events.filter((e) => e.EventType === 10).map((e) => e.EventId));
      for (const e of events) {
        if (e.EventType === 5 || e.EventType === 6) expect(tasks.has(e.TaskScheduledId!)).toBe(true);
        if (e.EventType === 11) expect(timers.has(e.TimerId!)).toBe(true);
      }
      await host.purge(id);
    }),
    { numRuns: 40 },
  );
});
