/** The extension-side replay: sequence numbering, retry/long-timer expansion, non-determinism detection. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type HistoryEvent, history } from '../../src/local/durable-host/history.js';
import {
  ActionType,
  computeRetryDelayMs,
  NonDeterminismError,
  type OrchestratorActionJson,
  replayEpisode,
  type ScheduledItem,
} from '../../src/local/durable-host/replay-shim.js';

const T0 = new Date(Date.UTC(2026, 0, 1));
const opts = {
  instanceId: 'i',
  maximumShortTimerMs: 6 * 86_400_000,
  longRunningTimerIntervalMs: 3 * 86_400_000,
};
const started = [history.orchestratorStarted(T0), history.executionStarted(T0, 'o', 'i', 'e', null, null)];
const activity = (name: string): OrchestratorActionJson => ({
  actionType: ActionType.CallActivity,
  functionName: name,
});
const timerAt = (ms: number): OrchestratorActionJson => ({
  actionType: ActionType.CreateTimer,
  fireAt: new Date(ms).toISOString(),
  isCanceled: false,
});

describe('replayEpisode', () => {
  it('refuses a history event the replay has not scheduled', () => {
    const events = [...started, history.taskScheduled(T0, 0, 'a', null)];
    expect(() => replayEpisode([], events, opts)).toThrow(NonDeterminismError);
    expect(() => replayEpisode([], events, opts)).toThrow(/hasn't \(yet\?\) scheduled/);
  });

  it('refuses a different action type at the same sequence number', () => {
    const events = [...started, history.taskScheduled(T0, 0, 'a', null)];
    expect(() => replayEpisode([timerAt(T0.getTime() + 1000)], events, opts)).toThrow(
      /instead produced a CreateTimerOrchestratorAction/,
    );
  });

  it('compares activity names case-insensitively and refuses a different name', () => {
    const events = [...started, history.taskScheduled(T0, 0, 'SayHello', null)];
    expect(replayEpisode([activity('sayhello')], events, opts).newItems).toEqual([]);
    expect(() => replayEpisode([activity('shout')], events, opts)).toThrow(/named 'shout'/);
  });

  it('refuses a sub-orchestration with another instance id', () => {
    const events = [...started, history.subOrchestrationCreated(T0, 0, 'child', 'c-1', null)];
    const sub = (instanceId: string): OrchestratorActionJson => ({
      actionType: ActionType.CallSubOrchestrator,
      functionName: 'child',
      instanceId,
    });
    expect(replayEpisode([sub('c-1')], events, opts).newItems).toEqual([]);
    expect(() => replayEpisode([sub('c-2')], events, opts)).toThrow(/instance ID 'c-1'/);
  });

  it('awaits actions in order: the next action gets an id only after the previous one completed', () => {
    const actions = [
      {
        actionType: ActionType.WhenAny,
        compoundActions: [
          { actionType: ActionType.WaitForExternalEvent, externalEventName: 'go' },
          timerAt(T0.getTime() + 60_000),
        ],
      },
      activity('after'),
    ];
    const first = replayEpisode(actions, started, opts);
    expect(first.newItems.map((i) => i.kind)).toEqual(['timer']);
    const later = [
      ...started,
      history.timerCreated(T0, 0, new Date(T0.getTime() + 60_000)),
      history.orchestratorStarted(T0),
      history.eventRaised(T0, 'GO', 1),
    ];
    expect(replayEpisode(actions, later, opts).newItems).toEqual([
      { kind: 'activity', id: 1, name: 'after', input: undefined },
    ]);
  });

  it('names a sub-orchestration started without an id "<executionId>:<sequence id>", as DurableTask.Core', () => {
    const actions = [activity('a'), { actionType: ActionType.CallSubOrchestrator, functionName: 'child' }];
    const events = [...started, history.taskScheduled(T0, 0, 'a', null), history.orchestratorStarted(T0)];
    const done = [...events, history.taskCompleted(T0, 0, 1)];
    expect(replayEpisode(actions, done, { ...opts, executionId: 'abc123' }).newItems).toEqual([
      { kind: 'subOrchestration', id: 1, name: 'child', instanceId: 'abc123:1', input: undefined },
    ]);
  });

  it('splits long timers and numbers the segments', () => {
    const fireAt = T0.getTime() + 10 * 86_400_000;
    const r = replayEpisode([timerAt(fireAt)], started, opts);
    expect(r.newItems).toEqual([
      { kind: 'timer', id: 0, fireAt: new Date(T0.getTime() + 3 * 86_400_000).toISOString() },
    ]);
  });
});

describe('computeRetryDelayMs', () => {
  it('grows by the backoff coefficient, never beyond the max interval, and stops after the retry timeout', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60_000 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.integer({ min: 0, max: 12 }),
        (first, coefficient, max, attempt) => {
          const o = {
            firstRetryIntervalInMilliseconds: first,
            maxNumberOfAttempts: 20,
            backoffCoefficient: coefficient,
            maxRetryIntervalInMilliseconds: max,
          };
          const d = computeRetryDelayMs(o, attempt, 0, 0);
          const next = computeRetryDelayMs(o, attempt + 1, 0, 0);
          expect(d).toBeLessThanOrEqual(max);
          expect(next).toBeGreaterThanOrEqual(d);
          expect(d).toBe(Math.min(first * coefficient ** attempt, max));
          expect(computeRetryDelayMs({ ...o, retryTimeoutInMilliseconds: 1000 }, attempt, 0, 1000)).toBe(0);
        },
      ),
    );
  });
});

/** Drives replayEpisode as the engine does: complete everything scheduled, one episode at a time. */
function runToEnd(actions: OrchestratorActionJson[]): { events: HistoryEvent[]; items: ScheduledItem[] } {
  let events: HistoryEvent[] = [...started];
  const items: ScheduledItem[] = [];
  for (let episode = 0; episode < 200; episode++) {
    const { newItems } = replayEpisode(actions, events, opts);
    if (newItems.length === 0) break;
    items.push(...newItems);
    const t = new Date(T0.getTime() + (episode + 1) * 1000);
    events = [
      ...events,
      ...newItems.map((i) =>
        i.kind === 'timer'
          ? history.timerCreated(t, i.id, new Date(i.fireAt))
          : history.taskScheduled(t, i.id, 'x', null),
      ),
      history.orchestratorCompleted(t),
      history.orchestratorStarted(t),
      ...newItems.map((i) =>
        i.kind === 'timer' ? history.timerFired(t, i.id, i.fireAt) : history.taskCompleted(t, i.id, 1),
      ),
    ];
  }
  return { events, items };
}

describe('sequence numbering (property)', () => {
  it('assigns consecutive ids once each, and a full replay of the resulting history schedules nothing new', () => {
    const step = fc.oneof(
      fc.constant(activity('x')),
      fc.integer({ min: 1, max: 60 }).map((m) => timerAt(T0.getTime() + m * 60_000)),
      fc.integer({ min: 1, max: 4 }).map((n) => ({
        actionType: ActionType.WhenAll,
        compoundActions: Array.from({ length: n }, () => activity('x')),
      })),
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 12 }), (actions) => {
        const { events, items } = runToEnd(actions);
        expect(items.map((i) => i.id)).toEqual(items.map((_, i) => i));
        const leaves = actions.reduce((n, a) => n + (a.compoundActions?.length ?? 1), 0);
        expect(items).toHaveLength(leaves);
        expect(replayEpisode(actions, events, opts).newItems).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });
});
