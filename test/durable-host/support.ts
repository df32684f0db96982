/** Shared setup for the local Durable host tests. */
import { fileURLToPath } from 'node:url';
import { VirtualClock } from '../../src/local/clock.js';
import { type LocalDurableHostOptions, startLocalDurableHost } from '../../src/local/durable-host/index.js';

export const FIXTURES = fileURLToPath(new URL('./fixtures/orchestrations.ts', import.meta.url));
export const START = Date.UTC(2026, 0, 1, 0, 0, 0);

export async function startTestHost(extra: Partial<LocalDurableHostOptions> = {}) {
  const clock = extra.clock ?? new VirtualClock(START);
  const host = await startLocalDurableHost({
    entryModules: [FIXTURES],
    clock,
    functionKey: 'test-key',
    env: { DURABLE_TASK_HUB_NAME: 'testhub', NIGHTLY_SCHEDULE: '0 0 3 * * *' },
    ...extra,
  });
  return { host, clock };
}

/** Event types of a history as names, without the episode markers. */
export function shape(
  events: readonly { EventType: number; EventId: number; TaskScheduledId?: number; TimerId?: number }[],
) {
  const names: Record<number, string> = {
    0: 'ExecutionStarted',
    1: 'ExecutionCompleted',
    3: 'ExecutionTerminated',
    4: 'TaskScheduled',
    5: 'TaskCompleted',
    6: 'TaskFailed',
    7: 'SubOrchestrationInstanceCreated',
    8: 'SubOrchestrationInstanceCompleted',
    9: 'SubOrchestrationInstanceFailed',
    10: 'TimerCreated',
    11: 'TimerFired',
    15: 'EventRaised',
  };
  return events
    .filter((e) => e.EventType !== 12 && e.EventType !== 13)
    .map((e) => {
      const name = names[e.EventType] ?? String(e.EventType);
      const id = e.EventId >= 0 ? e.EventId : (e.TaskScheduledId ?? e.TimerId);
      return id === undefined ? name : `${name}#${id}`;
    });
}
