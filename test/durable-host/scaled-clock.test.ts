/** Scaled (live demo) mode: durable timers fire on real timeouts at the clock's pace. */
import { afterAll, expect, it } from 'vitest';
import { VirtualClock } from '../../src/local/clock.js';
import { START, shape, startTestHost } from './support.js';

const clock = new VirtualClock(START, 1200); // 20 virtual minutes per real second
const { host } = await startTestHost({ clock });
afterAll(() => host.stop());

it('waits real time for a durable timer in scaled mode and fires it at its virtual due time', async () => {
  const realStart = performance.now();
  const id = await host.startOrchestration('plan', [
    { kind: 'timer', minutes: 2 },
    { kind: 'activity', value: 7 },
  ]);
  const status = await host.waitForInstance(id, { timeoutMs: 5000 });
  const realElapsed = performance.now() - realStart;
  expect(status.output).toEqual([14]);
  // 2 virtual minutes = 100 ms of real time at 1200x
  expect(realElapsed).toBeGreaterThanOrEqual(90);
  expect(realElapsed).toBeLessThan(3000);
  const events = host.history(id);
  expect(shape(events).slice(0, 3)).toEqual(['ExecutionStarted', 'TimerCreated#0', 'TimerFired#0']);
  const fired = events.find((e) => e.EventType === 11)!;
  expect(Date.parse(fired.Timestamp)).toBeGreaterThanOrEqual(Date.parse(fired.FireAt!));
});
