/** Scaled (live demo) mode: durable timers fire on real timeouts at the clock's pace. */
import { afterAll, expect, it } from 'vitest';
import { VirtualClock } from '../../src/local/clock.js';
import { START, shape, startTestHost } from './support.js';

const clock = new VirtualClock(START, 1200); // 20 virtual minutes per real second
const { host } = await startTestHost({ clock });
afterAll(() => host.stop());

it('waits real time for a durable timer in scaled mode and fires it at its virtual due time', async () => {
  const virtualStart = clock.now();
  const id = await host.startOrchestration('plan', [
    { kind: 'timer', minutes: 2 },
    { kind: 'activity', value: 7 },
  ]);
  const status = await host.waitForInstance(id, { timeoutMs: 5000 });
  expect(status.output).toEqual([14]);
  // Nobody moved the clock: the scaled clock itself passed the 2 virtual minutes (about 100 ms of real time
  // at 1200x; how long that really took is a figure for bench/, not an assertion).
  expect(clock.now() - virtualStart).toBeGreaterThanOrEqual(2 * 60_000);
  const events = host.history(id);
  expect(shape(events).slice(0, 3)).toEqual(['ExecutionStarted', 'TimerCreated#0', 'TimerFired#0']);
  const fired = events.find((e) => e.EventType === 11)!;
  expect(Date.parse(fired.Timestamp)).toBeGreaterThanOrEqual(Date.parse(fired.FireAt!));
});

it('fires a timer trigger on real time after the clock switches from manual to scaled mode', async () => {
  clock.setScale(undefined);
  clock.advanceTo(START + 3 * 3_600_000 - 1000);
  await host.settle();
  expect(await host.listInstances({ instanceIdPrefix: 'nightly-' })).toEqual([]);
  clock.setScale(1200); // the remaining virtual second passes in about a real millisecond
  const deadline = Date.now() + 3000;
  while ((await host.listInstances({ instanceIdPrefix: 'nightly-' })).length === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const started = await host.listInstances({ instanceIdPrefix: 'nightly-' });
  expect(started).toHaveLength(1);
  expect((await host.waitForInstance(started[0]!.instanceId, { timeoutMs: 3000 })).output).toEqual([
    'Hello on time',
  ]);
});
