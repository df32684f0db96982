/** Non-determinism is detected the way DurableTask.Core detects it, through the real orchestrator. */
import { afterAll, expect, it } from 'vitest';
import { activityLog } from './fixtures/activity-log.js';
import { startTestHost } from './support.js';

const { host } = await startTestHost({
  onEpisode: (info) => {
    // After the first episode scheduled 'sayHello', Date.now() "moves past" the switch: replays now
    // schedule 'shout' with the same sequence id.
    if (info.instanceId !== 'stable-one' && info.episode === 1) activityLog().switchActivityAt = 0;
  },
});
afterAll(() => host.stop());

it('fails an orchestrator whose activity name depends on Date.now() with a non-determinism error', async () => {
  activityLog().switchActivityAt = Number.POSITIVE_INFINITY;
  const id = await host.startOrchestration('nondeterministic');
  const status = await host.waitForInstance(id);
  expect(status.runtimeStatus).toBe('Failed');
  expect(status.failureDetails?.ErrorType).toBe('NonDeterministicOrchestrationException');
  expect(String(status.output)).toContain('Non-Deterministic workflow detected');
  expect(String(status.output)).toContain("named 'sayHello'");
  expect(String(status.output)).toContain("activity task named 'shout'");
  // 'shout' never ran: the replay failed before anything new was scheduled
  expect(activityLog().calls.filter((c) => c.name === 'shout')).toEqual([]);
});

it('the same orchestrator completes when Date.now() does not change its decisions', async () => {
  activityLog().switchActivityAt = Number.POSITIVE_INFINITY;
  const id = await host.startOrchestration('nondeterministic', undefined, 'stable-one');
  const status = await host.waitForInstance(id);
  expect(status.runtimeStatus).toBe('Completed');
});
