/**
 * Durability: a host is stopped after every episode of a multi-step orchestration and a new host on the
 * same state directory resumes it; every activity runs exactly once and the result is the same as an
 * uninterrupted run.
 */
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { VirtualClock } from '../../src/local/clock.js';
import type { LocalDurableHost } from '../../src/local/durable-host/index.js';
import { activityLog, callsOf } from './fixtures/activity-log.js';
import { START, shape, startTestHost } from './support.js';

it('resumes after a stop between every two episodes, running each activity exactly once', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'durable-crash-'));
  const clock = new VirtualClock(START);
  activityLog().calls.length = 0;
  const plan = [
    { kind: 'activity', value: 1 },
    { kind: 'timer', minutes: 5 },
    { kind: 'all', values: [2, 3, 4] },
    { kind: 'activity', value: 5 },
    { kind: 'timer', minutes: 1 },
    { kind: 'activity', value: 6 },
  ];

  let restarts = 0;
  let instanceId: string | undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    let current: LocalDurableHost | undefined;
    let stopRequested: Promise<void> | undefined;
    const { host } = await startTestHost({
      clock,
      stateDir,
      onEpisode: () => {
        // stop right after the first episode this host commits
        stopRequested ??= current!.stop();
      },
    });
    current = host;
    instanceId ??= await host.startOrchestration('plan', plan, 'crash-plan');
    let status = await host.getStatus(instanceId);
    if (status?.runtimeStatus !== 'Completed') {
      await host.runUntilIdle();
    }
    await stopRequested;
    await host.stop();
    status = await host.getStatus(instanceId);
    if (status?.runtimeStatus === 'Completed') break;
    restarts++;
  }

  const { host: final } = await startTestHost({ clock, stateDir });
  const status = await final.waitForInstance('crash-plan');
  await final.stop();
  expect(status.runtimeStatus).toBe('Completed');
  expect(status.output).toEqual([2, 4, 6, 8, 10, 12]);
  expect(callsOf('double').sort()).toEqual([1, 2, 3, 4, 5, 6]);
  // one host per episode: 1 start + 4 activity steps + 2 timers = 7 episodes (the fan-out completes in 1-3)
  expect(restarts).toBeGreaterThanOrEqual(6);
  expect(shape(final.history('crash-plan'))).toEqual([
    'ExecutionStarted',
    'TaskScheduled#0',
    'TaskCompleted#0',
    'TimerCreated#1',
    'TimerFired#1',
    'TaskScheduled#2',
    'TaskScheduled#3',
    'TaskScheduled#4',
    ...shape(final.history('crash-plan')).slice(8, 11),
    'TaskScheduled#5',
    'TaskCompleted#5',
    'TimerCreated#6',
    'TimerFired#6',
    'TaskScheduled#7',
    'TaskCompleted#7',
    'ExecutionCompleted',
  ]);
  expect(shape(final.history('crash-plan')).slice(8, 11).sort()).toEqual([
    'TaskCompleted#2',
    'TaskCompleted#3',
    'TaskCompleted#4',
  ]);
});

it('delivers a finished sub-orchestration to a parent that a crash left un-notified', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'durable-crash-sub-'));
  const clock = new VirtualClock(START);
  let stopping: Promise<void> | undefined;
  let first: LocalDurableHost | undefined;
  ({ host: first } = await startTestHost({
    clock,
    stateDir,
    onEpisode: (info) => {
      if (info.name === 'child' && info.runtimeStatus === 'Completed') stopping ??= first!.stop();
    },
  }));
  await first.startOrchestration('parent', ['y'], 'crash-parent');
  await first.runUntilIdle();
  await stopping;
  await first.stop();

  // Simulate a crash between saving the child and notifying the parent: drop the notification.
  const journal = join(stateDir, 'testhub', 'crash-parent.jsonl');
  const lines = readFileSync(journal, 'utf8').trim().split('\n');
  const parent = JSON.parse(lines.at(-1)!) as { inbox: Array<{ EventType: number }> };
  expect(parent.inbox.map((e) => e.EventType)).toEqual([8]);
  parent.inbox = [];
  appendFileSync(journal, `${JSON.stringify(parent)}\n`);

  const { host: second } = await startTestHost({ clock, stateDir });
  const status = await second.waitForInstance('crash-parent', { timeoutMs: 500 });
  await second.stop();
  expect(status.output).toEqual([{ greeting: 'Hello y', parent: 'crash-parent' }]);
});
