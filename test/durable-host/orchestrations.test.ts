/**
 * Orchestration patterns run by the local host through the real durable-functions library: the histories
 * the host writes are checked event by event (sequence ids as the Durable extension assigns them).
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { activityLog, callsOf } from './fixtures/activity-log.js';
import { START, shape, startTestHost } from './support.js';

const { host, clock } = await startTestHost();
afterAll(() => host.stop());
beforeEach(() => {
  activityLog().calls.length = 0;
  activityLog().maxInFlight = 0;
});

const MIN = 60_000;
const DAY = 86_400_000;

describe('local durable host: orchestration patterns', () => {
  it('chains activities, each executed once, with consecutive sequence ids', async () => {
    const id = await host.startOrchestration('chain', ['Tokyo', 'Seattle', 'London']);
    const status = await host.waitForInstance(id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual(['Hello Tokyo', 'Hello Seattle', 'Hello London']);
    expect(callsOf('sayHello')).toEqual(['Tokyo', 'Seattle', 'London']);
    expect(shape(host.history(id))).toEqual([
      'ExecutionStarted',
      'TaskScheduled#0',
      'TaskCompleted#0',
      'TaskScheduled#1',
      'TaskCompleted#1',
      'TaskScheduled#2',
      'TaskCompleted#2',
      'ExecutionCompleted',
    ]);
  });

  it('fans out in one episode, runs the activities concurrently and fans in', async () => {
    const id = await host.startOrchestration('fanOut', 5);
    const status = await host.waitForInstance(id);
    expect(status.output).toBe(30);
    const s = shape(host.history(id));
    // All five scheduled together in the first episode, before any completion, and run concurrently.
    expect(s.slice(0, 6)).toEqual([
      'ExecutionStarted',
      'TaskScheduled#0',
      'TaskScheduled#1',
      'TaskScheduled#2',
      'TaskScheduled#3',
      'TaskScheduled#4',
    ]);
    expect(activityLog().maxInFlight).toBe(5);
    expect(
      s
        .filter((e) => e.startsWith('TaskCompleted#'))
        .sort()
        .slice(0, 5),
    ).toEqual([
      'TaskCompleted#0',
      'TaskCompleted#1',
      'TaskCompleted#2',
      'TaskCompleted#3',
      'TaskCompleted#4',
    ]);
    expect(s.slice(-3)).toEqual(['TaskScheduled#5', 'TaskCompleted#5', 'ExecutionCompleted']);
  });

  it('retries an activity with backoff: TaskFailed, retry timer, new TaskScheduled', async () => {
    const id = await host.startOrchestration('retrying', { key: 'twice', failTimes: 2, attempts: 4 });
    const status = await host.waitForInstance(id);
    expect(status.output).toBe('ok after 2 failures');
    const events = host.history(id);
    expect(shape(events)).toEqual([
      'ExecutionStarted',
      'TaskScheduled#0',
      'TaskFailed#0',
      'TimerCreated#1',
      'TimerFired#1',
      'TaskScheduled#2',
      'TaskFailed#2',
      'TimerCreated#3',
      'TimerFired#3',
      'TaskScheduled#4',
      'TaskCompleted#4',
      'ExecutionCompleted',
    ]);
    const delays = events
      .filter((e) => e.EventType === 10)
      .map((e) => Date.parse(e.FireAt!) - Date.parse(e.Timestamp));
    expect(delays).toEqual([1000, 2000]);
  });

  it('gives up after the last attempt (with a final retry timer, as DurableTask.Core) and caps the backoff', async () => {
    const id = await host.startOrchestration('retrying', { key: 'always', failTimes: 99, attempts: 3 });
    const status = await host.waitForInstance(id);
    expect(status.output).toEqual({ caught: expect.stringContaining('flaky failure 3 for always') });
    const events = host.history(id);
    expect(shape(events)).toEqual([
      'ExecutionStarted',
      'TaskScheduled#0',
      'TaskFailed#0',
      'TimerCreated#1',
      'TimerFired#1',
      'TaskScheduled#2',
      'TaskFailed#2',
      'TimerCreated#3',
      'TimerFired#3',
      'TaskScheduled#4',
      'TaskFailed#4',
      'TimerCreated#5',
      'TimerFired#5',
      'ExecutionCompleted',
    ]);
    const delays = events
      .filter((e) => e.EventType === 10)
      .map((e) => Date.parse(e.FireAt!) - Date.parse(e.Timestamp));
    expect(delays).toEqual([1000, 2000, 3000]);
    expect(callsOf('flaky')).toHaveLength(3);
  });

  // Extension v3.x DurableOrchestrationContext.CreateTimer: over MaximumDelayTime (6 days) the first segment is
  // now + LongRunningTimerIntervalLength (3 days), then 3-day segments until less than 3 days remain.
  it('splits a timer longer than maximumShortTimerDuration into longRunningTimerIntervalDuration segments', async () => {
    const id = await host.startOrchestration('longTimer', 10);
    const t0 = (await host.getStatus(id))!.createdTime;
    const status = await host.waitForInstance(id);
    const base = Date.parse(t0);
    expect(status.output).toBe(new Date(base + 10 * DAY).toISOString());
    const events = host.history(id);
    expect(shape(events)).toEqual([
      'ExecutionStarted',
      'TimerCreated#0',
      'TimerFired#0',
      'TimerCreated#1',
      'TimerFired#1',
      'TimerCreated#2',
      'TimerFired#2',
      'TimerCreated#3',
      'TimerFired#3',
      'ExecutionCompleted',
    ]);
    const fireAts = events.filter((e) => e.EventType === 10).map((e) => Date.parse(e.FireAt!) - base);
    expect(fireAts).toEqual([3 * DAY, 6 * DAY, 9 * DAY, 10 * DAY]);
  });

  it('races an external event against a timer: the event wins when raised in time', async () => {
    const id = await host.startOrchestration('eventRace');
    await host.settle();
    const before = (await host.getStatus(id))!;
    expect(before.runtimeStatus).toBe('Running');
    await host.raiseEvent(id, 'approval', { by: 'alice' });
    const status = await host.waitForInstance(id);
    expect(status.output).toEqual({ approved: { by: 'alice' } });
    expect(shape(host.history(id))).toEqual([
      'ExecutionStarted',
      'TimerCreated#0',
      'EventRaised',
      'ExecutionCompleted',
    ]);
  });

  it('races an external event against a timer: the timer wins on virtual time when no event comes', async () => {
    const id = await host.startOrchestration('eventRace');
    const created = Date.parse((await host.getStatus(id))!.createdTime);
    const status = await host.waitForInstance(id);
    expect(status.output).toBe('timed out');
    const fired = host.history(id).find((e) => e.EventType === 11)!;
    expect(Date.parse(fired.Timestamp) - created).toBe(60 * MIN);
  });

  it('keeps an event raised before the orchestrator waits for it', async () => {
    const id = await host.startOrchestration('withStatus');
    await host.raiseEvent(id, 'go', 'early');
    const status = await host.waitForInstance(id);
    expect(status.output).toBe('early');
  });

  it('exposes custom status while running and after completion', async () => {
    const id = await host.startOrchestration('withStatus');
    await host.runUntilIdle();
    const running = (await host.getStatus(id))!;
    expect(running.runtimeStatus).toBe('Running');
    expect(running.customStatus).toEqual({ phase: 'waiting' });
    await host.raiseEvent(id, 'go', 42);
    const done = await host.waitForInstance(id);
    expect(done.customStatus).toEqual({ phase: 'done' });
    expect(done.output).toBe(42);
  });

  it('runs sub-orchestrations and propagates their success and failure to the parent', async () => {
    const id = await host.startOrchestration('parent', ['x', 'nobody'], 'parent-1');
    const status = await host.waitForInstance(id);
    expect(status.output).toEqual([
      { greeting: 'Hello x', parent: 'parent-1' },
      { failed: expect.stringContaining('child refuses nobody') },
    ]);
    expect(shape(host.history(id))).toEqual([
      'ExecutionStarted',
      'SubOrchestrationInstanceCreated#0',
      'SubOrchestrationInstanceCompleted#0',
      'SubOrchestrationInstanceCreated#1',
      'SubOrchestrationInstanceFailed#1',
      'ExecutionCompleted',
    ]);
    expect((await host.getStatus('parent-1-child-0'))!.runtimeStatus).toBe('Completed');
    expect((await host.getStatus('parent-1-child-1'))!.runtimeStatus).toBe('Failed');
  });

  it('continues as new: history reset, input carried; an event queued before the new execution runs is kept', async () => {
    const { host: own } = await startTestHost({
      onEpisode: (info) => {
        // raised between the continue-as-new episode and the new execution's first episode
        if (info.runtimeStatus === 'ContinuedAsNew') void own.raiseEvent(info.instanceId, 'bonus', 'queued');
      },
    });
    try {
      const id = await own.startOrchestration('counter', 2);
      const status = await own.waitForInstance(id);
      expect(status.output).toEqual({ n: 3, bonus: 'queued' });
      const events = own.history(id);
      expect(shape(events)).toEqual(['ExecutionStarted', 'EventRaised', 'ExecutionCompleted']);
      expect(events.find((e) => e.EventType === 0)!.Input).toBe('3');
      // one episode for the new execution: the event arrived with its ExecutionStarted
      expect(events.filter((e) => e.EventType === 12)).toHaveLength(1);
    } finally {
      await own.stop();
    }
  });

  // The extension keeps the parent link across executions and completes the parent's task from the execution
  // that ends (Azure/durabletask, DurableTask.Core TaskOrchestrationDispatcher: on ContinueAsNew the new
  // ExecutionStartedEvent keeps the InstanceId and ParentInstance with a new ExecutionId); the
  // Azure Storage provider stores history per execution (AzureTableTrackingStore.UpdateStateAsync: row key =
  // sequence number within the execution). `npm run conformance` runs the app's poller this way on the real
  // extension (docs/conformance.md).
  it('a sub-orchestration that continues as new reports to its parent once, from its last execution', async () => {
    const episodes: { id: string; status: string; events: number }[] = [];
    const { host: own } = await startTestHost({
      onEpisode: (info) =>
        episodes.push({ id: info.instanceId, status: info.runtimeStatus, events: info.historyEvents }),
    });
    try {
      const id = await own.startOrchestration('countingParent', null, 'cp-1');
      const status = await own.waitForInstance(id);
      expect(status.output).toBe('counted 2');
      expect(shape(own.history(id))).toEqual([
        'ExecutionStarted',
        'SubOrchestrationInstanceCreated#0',
        'SubOrchestrationInstanceCompleted#0',
        'ExecutionCompleted',
      ]);
      // Two executions ended by continuing as new, each reporting its whole history (its last episode
      // included: OrchestratorStarted, TimerFired, ExecutionCompleted, OrchestratorCompleted).
      const child = episodes.filter((e) => e.id === 'cp-1:child');
      const continued = child.filter((e) => e.status === 'ContinuedAsNew');
      expect(continued).toHaveLength(2);
      expect(continued.every((e) => e.events === 8)).toBe(true);
      expect(shape(own.history('cp-1:child'))).toEqual([
        'ExecutionStarted',
        'TimerCreated#0',
        'TimerFired#0',
        'ExecutionCompleted',
      ]);
      expect(child.at(-1)).toMatchObject({ status: 'Completed', events: own.history('cp-1:child').length });
    } finally {
      await own.stop();
    }
  });

  it('continues as new from 0 three times with timers in between', async () => {
    const id = await host.startOrchestration('counter', 0);
    await host.runUntilIdle();
    await host.raiseEvent(id, 'bonus', 'x');
    const status = await host.waitForInstance(id);
    expect(status.output).toEqual({ n: 3, bonus: 'x' });
    expect(Date.parse(host.history(id).at(-1)!.Timestamp) - Date.parse(status.createdTime)).toBe(3 * MIN);
    expect(shape(host.history(id))).toEqual(['ExecutionStarted', 'EventRaised', 'ExecutionCompleted']);
  });

  it('drops an event the old execution never consumed when it continues as new (as the extension does)', async () => {
    const id = await host.startOrchestration('counter', 2);
    await host.raiseEvent(id, 'bonus', 'too early');
    await host.runUntilIdle();
    expect((await host.getStatus(id))!.runtimeStatus).toBe('Running');
    await host.raiseEvent(id, 'bonus', 'second');
    expect((await host.waitForInstance(id)).output).toEqual({ n: 3, bonus: 'second' });
  });

  it('delivers an event to the newest wait, so a WhenAny in a loop with one shared wait sees it', async () => {
    const id = await host.startOrchestration('loopRace');
    await host.settle();
    clock.advanceBy(MIN);
    await host.settle();
    clock.advanceBy(MIN);
    await host.settle();
    const raisedAt = clock.now();
    await host.raiseEvent(id, 'cancel', 'operator');
    const status = await host.waitForInstance(id, { timeoutMs: 3000 });
    expect(status.output).toEqual({ cancelledAt: 2, reason: 'operator', cleanup: 'Hello cleanup' });
    // the cleanup was scheduled at once, not after the abandoned poll finished (FIFO delivery would wait)
    expect(Date.parse(host.history(id).at(-1)!.Timestamp)).toBe(raisedAt);
  });

  it('fails the instance with the original activity error message (TaskFailed Reason/Details)', async () => {
    const id = await host.startOrchestration('failing');
    const status = await host.waitForInstance(id);
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain("Orchestrator function 'failing' failed");
    expect(String(status.output)).toContain("Activity function 'explode' failed: the disk is on fire");
    const failed = host.history(id).find((e) => e.EventType === 6)!;
    expect(failed.Reason).toBe("Activity function 'explode' failed: the disk is on fire");
    expect(failed.FailureDetails).toBeUndefined();
  });

  it('fails the orchestration (not the task) when it calls an unregistered activity, as the extension does', async () => {
    const id = await host.startOrchestration('callsMissing');
    const status = await host.waitForInstance(id);
    expect(status.runtimeStatus).toBe('Failed');
    expect(status.failureDetails?.ErrorType).toBe('ArgumentException');
    expect(String(status.output)).toContain("The function 'noSuchActivity' doesn't exist");
  });

  it('refuses a sub-orchestration that reuses the parent instance id', async () => {
    const id = await host.startOrchestration('selfChild');
    const status = await host.waitForInstance(id);
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain('must be different than the instance ID of a parent');
  });

  it('passes structured FailureDetails when an exception-properties provider serialized them', async () => {
    const id = await host.startOrchestration('structuredFailure');
    const status = await host.waitForInstance(id);
    expect(status.output).toEqual({
      name: 'TaskFailedError',
      message: 'RangeError: quota exceeded in westeurope',
      type: 'RangeError',
      props: { code: 'westeurope' },
    });
    const failed = host.history(id).find((e) => e.EventType === 6)!;
    expect(failed.FailureDetails).toMatchObject({
      ErrorType: 'RangeError',
      Properties: { code: 'westeurope' },
    });
  });

  it('terminates a running instance and ignores its late activity results', async () => {
    const id = await host.startOrchestration('fanOut', 3);
    while (activityLog().inFlight === 0) await new Promise((r) => setTimeout(r, 1));
    await host.terminate(id, 'no longer needed');
    await host.settle();
    const status = (await host.getStatus(id))!;
    expect(status.runtimeStatus).toBe('Terminated');
    expect(status.output).toBe('no longer needed');
    expect(callsOf('double')).toHaveLength(3);
    const s = shape(host.history(id));
    expect(s.some((e) => e.startsWith('TaskCompleted'))).toBe(false);
    expect(s.slice(-2)).toEqual(['ExecutionTerminated', 'ExecutionCompleted']);
    await expect(host.raiseEvent(id, 'go', 1)).rejects.toThrow(/Terminated/);
    await expect(host.terminate(id)).rejects.toThrow(/Terminated/);
  });

  it('runs a 40-minute virtual build with 20 polls on the virtual clock', async () => {
    // The real time this takes is measured in bench/durable-host.bench.ts, not asserted here.
    const id = await host.startOrchestration('poller', 20);
    const status = await host.waitForInstance(id);
    expect(status.output).toBe(20);
    expect(Date.parse(host.history(id).at(-1)!.Timestamp) - Date.parse(status.createdTime)).toBe(40 * MIN);
  });

  it('uses the virtual clock for currentUtcDateTime (not wall time)', async () => {
    const id = await host.startOrchestration('longTimer', 0.5);
    const status = await host.waitForInstance(id);
    expect(Date.parse(String(status.output))).toBeGreaterThanOrEqual(START + 0.5 * DAY);
  });
});
