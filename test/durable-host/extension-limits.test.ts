/**
 * Limits the Durable extension (v3.x, Azure/azure-functions-durable-extension, branch v3.x) and
 * DurableTask.Core (Azure/durabletask) put on an app, reproduced by the local host. Each test names its source file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { checkInstanceId, customStatusRefusal } from '../../src/local/durable-host/engine.js';
import { type HistoryEvent, history } from '../../src/local/durable-host/history.js';
import { readHostSettings } from '../../src/local/durable-host/host-json.js';
import {
  ActionType,
  checkRetryOptions,
  computeRetryDelayMs,
  DEFAULT_MAX_RETRY_INTERVAL_MS,
  ReplayArgumentError,
  replayEpisode,
} from '../../src/local/durable-host/replay-shim.js';
import { callsOf } from './fixtures/activity-log.js';
import { startTestHost } from './support.js';

const MIN = 60_000;
const DAY = 86_400_000;
const T0 = new Date(Date.UTC(2026, 0, 1));
const opts = { instanceId: 'i', maximumShortTimerMs: 6 * DAY, longRunningTimerIntervalMs: 3 * DAY };

/** Fires every timer the shim schedules, at its due time, until the timer action completes. */
function timerSegments(durationMs: number): number[] {
  const action = {
    actionType: ActionType.CreateTimer,
    fireAt: new Date(T0.getTime() + durationMs).toISOString(),
    isCanceled: false,
  };
  let events: HistoryEvent[] = [
    history.orchestratorStarted(T0),
    history.executionStarted(T0, 'o', 'i', 'e', null, null),
  ];
  const segments: number[] = [];
  for (let episode = 0; episode < 50; episode++) {
    const { newItems } = replayEpisode([action], events, opts);
    if (newItems.length === 0) break;
    const [timer] = newItems;
    if (timer?.kind !== 'timer') throw new Error('expected a timer');
    const last = events.at(-1)!;
    const now = new Date(last.Timestamp);
    const fireAt = new Date(timer.fireAt);
    segments.push(fireAt.getTime() - now.getTime());
    events = [
      ...events,
      history.timerCreated(now, timer.id, fireAt),
      history.orchestratorCompleted(now),
      history.orchestratorStarted(fireAt),
      history.timerFired(fireAt, timer.id, timer.fireAt),
    ];
  }
  return segments;
}

describe('long timers (DurableOrchestrationContext.CreateTimer, AzureStorageDurabilityProvider)', () => {
  it('a timer up to MaximumDelayTime (6 days) is one timer; a longer one is 3-day segments and the rest', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 * DAY }), (duration) => {
        const segments = timerSegments(duration);
        expect(segments.reduce((a, b) => a + b, 0)).toBe(duration);
        if (duration <= 6 * DAY) {
          expect(segments).toEqual([duration]);
        } else {
          expect(segments.length).toBe(Math.ceil(duration / (3 * DAY)));
          for (const s of segments.slice(0, -1)) expect(s).toBe(3 * DAY);
          expect(segments.at(-1)).toBeGreaterThan(0);
          expect(segments.at(-1)).toBeLessThanOrEqual(3 * DAY);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('7 days: 3 days, 3 days, 1 day (the remainder is compared with the interval, not with the maximum)', () => {
    expect(timerSegments(7 * DAY)).toEqual([3 * DAY, 3 * DAY, DAY]);
  });
});

describe('retry limits (RetryOptionsConverter, DurableOrchestrationContext.CallDurableTaskFunctionAsync)', () => {
  it('refuses intervals over 6 days, naming the parameter, and a non-positive first interval', () => {
    const over = 6 * DAY + 1;
    expect(() =>
      checkRetryOptions({ firstRetryIntervalInMilliseconds: 1000, maxNumberOfAttempts: 3 }, 6 * DAY),
    ).not.toThrow();
    expect(() =>
      checkRetryOptions(
        {
          firstRetryIntervalInMilliseconds: 1000,
          maxNumberOfAttempts: 3,
          maxRetryIntervalInMilliseconds: 6 * DAY,
        },
        6 * DAY,
      ),
    ).not.toThrow();
    expect(() =>
      checkRetryOptions(
        {
          firstRetryIntervalInMilliseconds: 1000,
          maxNumberOfAttempts: 3,
          maxRetryIntervalInMilliseconds: over,
        },
        6 * DAY,
      ),
    ).toThrow(
      "The Azure Storage provider supports a maximum of 6 days for time-based delays (Parameter 'MaxRetryInterval')",
    );
    expect(() =>
      checkRetryOptions({ firstRetryIntervalInMilliseconds: over, maxNumberOfAttempts: 3 }, 6 * DAY),
    ).toThrow("(Parameter 'FirstRetryInterval')");
    expect(() =>
      checkRetryOptions({ firstRetryIntervalInMilliseconds: 0, maxNumberOfAttempts: 3 }, 6 * DAY),
    ).toThrow('Invalid interval');
    expect(() =>
      checkRetryOptions(
        {
          firstRetryIntervalInMilliseconds: 1000,
          maxNumberOfAttempts: 3,
          retryTimeoutInMilliseconds: 2 ** 31,
        },
        6 * DAY,
      ),
    ).toThrow('Value was either too large or too small for an Int32.');
  });

  it('an absent maxRetryInterval is the extension default of 6 days, so backoff never waits longer', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 * DAY }), fc.integer({ min: 0, max: 40 }), (first, attempt) => {
        const delay = computeRetryDelayMs(
          { firstRetryIntervalInMilliseconds: first, maxNumberOfAttempts: 50, backoffCoefficient: 2 },
          attempt,
          0,
          0,
        );
        expect(delay).toBe(Math.min(first * 2 ** attempt, DEFAULT_MAX_RETRY_INTERVAL_MS));
      }),
    );
  });

  it('a retry action over the limit fails the replay with ArgumentException (the orchestration, not the task)', () => {
    const events = [history.orchestratorStarted(T0), history.executionStarted(T0, 'o', 'i', 'e', null, null)];
    const action = {
      actionType: ActionType.CallActivityWithRetry,
      functionName: 'x',
      retryOptions: { firstRetryIntervalInMilliseconds: 7 * DAY, maxNumberOfAttempts: 2 },
    };
    expect(() => replayEpisode([action], events, opts)).toThrow(ReplayArgumentError);
  });
});

describe('instance ids (DurableClient.StartNewAsync, MaxInstanceIdLength = 256)', () => {
  it('accepts ids of up to 256 characters without the forbidden characters', () => {
    const allowed = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the rule is about control characters
      (s) => !s.startsWith('@') && !/[/\\?#\u0000-\u001f\u007f-\u009f]/.test(s) && s.length <= 256,
    );
    fc.assert(
      fc.property(allowed, (id) => {
        expect(checkInstanceId(id)).toBe(id);
      }),
    );
    expect(checkInstanceId('a'.repeat(256))).toHaveLength(256);
  });

  it('refuses a leading @, / \\ ? #, control characters and more than 256 characters', () => {
    expect(() => checkInstanceId('@entity')).toThrow('must not start with @');
    for (const bad of ['a/b', 'a\\b', 'a?b', 'a#b', 'a\u0000b', 'a\nb', 'a\u007fb', 'a\u0085b']) {
      expect(() => checkInstanceId(bad)).toThrow('must not contain /, \\, #, ?, or control characters');
    }
    expect(() => checkInstanceId('a'.repeat(257))).toThrow(
      'Instance ID lengths must not exceed 256 characters.',
    );
  });
});

describe('custom status size (DurableOrchestrationContext.SetCustomStatus, MessagePayloadDataConverter)', () => {
  it('measures UTF-16 bytes, truncated to whole KB, and refuses more than 16 KB', () => {
    // 16 KB = 16384 bytes = 8192 UTF-16 units; (int)(bytes / 1024.0) stays 16 up to 8703 units
    expect(customStatusRefusal('x'.repeat(8703 - 2))).toBeUndefined();
    expect(customStatusRefusal('x'.repeat(8704 - 2))).toBe(
      'The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. The current payload size is 17 KB.',
    );
    expect(customStatusRefusal(null)).toBeUndefined();
    expect(customStatusRefusal({ big: 'y'.repeat(600_000) })).toContain(
      'The current payload size is 1,171 KB.',
    );
  });
});

describe('on the local host', async () => {
  const { host, clock } = await startTestHost();
  afterAll(() => host.stop());

  it('host.json functionTimeout fails a running activity with the WebJobs timeout message', async () => {
    const id = await host.startOrchestration('callsHang');
    for (let i = 0; i < 500 && !callsOf('hang').includes(id); i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(callsOf('hang')).toContain(id);
    clock.advanceBy(10 * MIN - 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(host.history(id).some((e) => e.EventType === 6)).toBe(false);
    clock.advanceBy(1);
    const status = await host.waitForInstance(id);
    const reason =
      "Activity function 'hang' failed: Timeout value of 00:10:00 was exceeded by function: Functions.hang";
    expect(status.output).toEqual({ caught: expect.stringContaining(reason) });
    const failed = host.history(id).find((e) => e.EventType === 6)!;
    expect(failed.Reason).toBe(reason);
    expect(JSON.parse(String(failed.Details))).toMatchObject({ ErrorType: 'FunctionTimeoutException' });
  });

  it('a custom status over 16 KB fails the orchestration; 16 KB is kept', async () => {
    const ok = await host.startOrchestration('statusOfSize', 8703);
    expect((await host.waitForInstance(ok)).runtimeStatus).toBe('Completed');
    expect(String((await host.getStatus(ok))!.customStatus)).toHaveLength(8701);
    const big = await host.startOrchestration('statusOfSize', 8704);
    const status = await host.waitForInstance(big);
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toBe(
      "Orchestrator function 'statusOfSize' failed: The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. The current payload size is 17 KB.",
    );
    // SetCustomStatus runs before the actions are replayed: nothing was scheduled
    expect(host.history(big).some((e) => e.EventType === 4)).toBe(false);
  });

  it('a retry interval over 6 days fails the orchestration before any attempt', async () => {
    const before = callsOf('sayHello').length;
    const id = await host.startOrchestration('retryWithInterval', { first: 1000, max: 7 * DAY });
    const status = await host.waitForInstance(id);
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain("(Parameter 'MaxRetryInterval')");
    expect(callsOf('sayHello').length).toBe(before);
    const fine = await host.startOrchestration('retryWithInterval', { first: 1000 });
    expect((await host.waitForInstance(fine)).runtimeStatus).toBe('Completed');
  });

  it('the start route answers 400 for an id the extension refuses', async () => {
    const res = await fetch(`${host.baseUrl}/durabletask/orchestrators/chain/${encodeURIComponent('@x')}`, {
      method: 'POST',
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('must not start with @');
    await expect(host.startOrchestration('chain', [], 'x'.repeat(257))).rejects.toThrow(
      'must not exceed 256',
    );
  });
});

describe('host.json functionTimeout parsing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'host-json-'));
  const write = (content: object) => {
    const p = join(dir, `${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(p, JSON.stringify(content));
    return p;
  };
  it('defaults to the Consumption plan limit (5 minutes), -1 means none, 0 is refused', () => {
    expect(readHostSettings(write({})).functionTimeoutMs).toBe(5 * MIN);
    expect(readHostSettings(write({ functionTimeout: '-1' })).functionTimeoutMs).toBeUndefined();
    expect(readHostSettings(write({ functionTimeout: '01:30:00' })).functionTimeoutMs).toBe(90 * MIN);
    expect(() => readHostSettings(write({ functionTimeout: '00:00:00' }))).toThrow('functionTimeout');
  });
});
