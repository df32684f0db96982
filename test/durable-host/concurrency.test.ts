/** activityConcurrency caps parallel activity executions (host.json maxConcurrentActivityFunctions). */
import { afterAll, expect, it } from 'vitest';
import { activityLog } from './fixtures/activity-log.js';
import { startTestHost } from './support.js';

const { host } = await startTestHost({ activityConcurrency: 2 });
afterAll(() => host.stop());

it('never runs more activities at once than activityConcurrency, and still completes a fan-out', async () => {
  activityLog().maxInFlight = 0;
  const id = await host.startOrchestration('fanOut', 6);
  const status = await host.waitForInstance(id);
  expect(status.output).toBe(42);
  expect(activityLog().maxInFlight).toBe(2);
});
