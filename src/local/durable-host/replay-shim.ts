/**
 * The extension side of an out-of-process orchestration episode, reproduced.
 *
 * The Durable extension replays the JavaScript orchestrator's cumulative action list against DurableTask.Core
 * (OutOfProcOrchestrationShim, schema V2+): actions are awaited one after another, `WhenAll`/`WhenAny` start
 * their children together, `CallActivityWithRetry` runs DurableTask.Core's retry loop (a retry timer after
 * every failed attempt, backoff, max interval, retry timeout) and timers longer than
 * `maximumShortTimerDuration` are split into `longRunningTimerIntervalDuration` segments. Sequence ids are
 * handed out in that order while the history is replayed event by event, and every scheduling event already
 * in the history must meet the same kind of action with the same sequence id — otherwise the replay fails
 * with a non-determinism error, as DurableTask.Core's `NonDeterministicOrchestrationException`.
 *
 * The result: the actions this episode adds (with their ids) and whether the orchestrator continued as new.
 */
import { EventType, type HistoryEvent } from './history.js';

export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

export interface RetryOptionsJson {
  readonly firstRetryIntervalInMilliseconds: number;
  readonly maxNumberOfAttempts: number;
  readonly backoffCoefficient?: number;
  readonly maxRetryIntervalInMilliseconds?: number;
  readonly retryTimeoutInMilliseconds?: number;
}

/** An action as the JavaScript library serializes it (JSON). */
export interface OrchestratorActionJson {
  readonly actionType: number;
  readonly functionName?: string;
  readonly input?: unknown;
  readonly retryOptions?: RetryOptionsJson;
  readonly instanceId?: string;
  readonly fireAt?: string;
  readonly isCanceled?: boolean;
  readonly externalEventName?: string;
  readonly compoundActions?: readonly OrchestratorActionJson[];
}

export type ScheduledItem =
  | { readonly kind: 'activity'; readonly id: number; readonly name: string; readonly input: unknown }
  | { readonly kind: 'timer'; readonly id: number; readonly fireAt: string }
  | {
      readonly kind: 'subOrchestration';
      readonly id: number;
      readonly name: string;
      readonly instanceId: string;
      readonly input: unknown;
    };

export interface ShimOptions {
  readonly instanceId: string;
  /** Used for a sub-orchestration started without an instance id: "<executionId>:<sequence id>", as DTFx. */
  readonly executionId?: string | undefined;
  readonly parentInstanceId?: string | null | undefined;
  /** The extension refuses to schedule a function that is not registered (ThrowIfFunctionDoesNotExist). */
  readonly functionExists?: ((name: string, kind: 'activity' | 'orchestration') => boolean) | undefined;
  readonly maximumShortTimerMs: number;
  readonly longRunningTimerIntervalMs: number;
}

export interface ShimResult {
  /** Actions scheduled for the first time in this episode, by ascending sequence id. */
  readonly newItems: readonly ScheduledItem[];
  /** Set when a ContinueAsNew action was replayed: the new input. */
  readonly continueAsNew?: { readonly input: unknown } | undefined;
}

export class NonDeterminismError extends Error {
  override readonly name = 'NonDeterministicOrchestrationException';
  constructor(detail: string) {
    super(`Non-Deterministic workflow detected: ${detail}`);
  }
}

export class UnsupportedActionError extends Error {}

/** What the extension throws while replaying an invalid call; it fails the orchestration. */
export class ReplayArgumentError extends Error {
  override readonly name = 'ArgumentException';
}

/** JS `Utils.processInput` JSON-encodes string inputs; the extension sees the decoded value. */
export function decodeActionInput(input: unknown): unknown {
  if (typeof input === 'string') {
    try {
      return JSON.parse(input);
    } catch {
      return input;
    }
  }
  return input;
}

/** The extension's RetryOptions.DefaultMaxRetryinterval (RetryOptions.cs, v3.x). */
export const DEFAULT_MAX_RETRY_INTERVAL_MS = 6 * 86_400_000;

/** Newtonsoft `JToken.Value<int>()` (RetryOptionsConverter reads every interval as an Int32). */
const INT32_MAX = 2_147_483_647;

/**
 * The limits the extension puts on retry options before scheduling (extension v3.x):
 * - RetryOptionsConverter reads the millisecond fields with `Value<int>()`: above Int32.MaxValue the
 *   conversion throws OverflowException;
 * - DurableOrchestrationContext.CallDurableTaskFunctionAsync checks MaxRetryInterval, then
 *   FirstRetryInterval, with the provider's ValidateDelayTime: the Azure Storage provider refuses more
 *   than MaximumDelayTime (6 days) with "The Azure Storage provider supports a maximum of 6 days for
 *   time-based delays". An absent maxRetryInterval is the extension's default, 6 days, which passes.
 * - DurableTask.Core RetryOptions refuses a first interval that is not positive.
 * Each fails the orchestration (an ArgumentException while replaying), not the task.
 */
export function checkRetryOptions(retry: RetryOptionsJson, maximumDelayMs: number): void {
  const fields = [
    'firstRetryIntervalInMilliseconds',
    'maxRetryIntervalInMilliseconds',
    'retryTimeoutInMilliseconds',
  ] as const;
  for (const f of fields) {
    const v = retry[f];
    if (v !== undefined && (v > INT32_MAX || v < -INT32_MAX - 1)) {
      throw new ReplayArgumentError('Value was either too large or too small for an Int32.');
    }
  }
  const days = maximumDelayMs / 86_400_000;
  const tooLong = `The Azure Storage provider supports a maximum of ${days} days for time-based delays`;
  const max = retry.maxRetryIntervalInMilliseconds;
  if (max !== undefined && max > maximumDelayMs) {
    throw new ReplayArgumentError(`${tooLong} (Parameter 'MaxRetryInterval')`);
  }
  if (retry.firstRetryIntervalInMilliseconds > maximumDelayMs) {
    throw new ReplayArgumentError(`${tooLong} (Parameter 'FirstRetryInterval')`);
  }
  if (!(retry.firstRetryIntervalInMilliseconds > 0)) {
    throw new ReplayArgumentError(
      "Invalid interval.  Specify a TimeSpan value greater then TimeSpan.Zero. (Parameter 'firstRetryInterval')",
    );
  }
}

/** DurableTask.Core RetryInterceptor.ComputeNextDelay; 0 means "stop retrying". */
export function computeRetryDelayMs(
  options: RetryOptionsJson,
  attempt: number,
  firstAttemptMs: number,
  nowMs: number,
): number {
  const timeout = options.retryTimeoutInMilliseconds;
  const expiration =
    timeout !== undefined && timeout > 0 ? firstAttemptMs + timeout : Number.POSITIVE_INFINITY;
  if (!(nowMs < expiration)) return 0;
  const coefficient = options.backoffCoefficient ?? 1;
  const next = options.firstRetryIntervalInMilliseconds * coefficient ** attempt;
  // Absent, MaxRetryInterval is the extension's default (RetryOptions.DefaultMaxRetryinterval, 6 days).
  const cap = options.maxRetryIntervalInMilliseconds ?? DEFAULT_MAX_RETRY_INTERVAL_MS;
  return Math.min(next, cap);
}

type Listener = () => void;

class SimTask {
  done = false;
  failed = false;
  value: unknown;
  private listeners: Listener[] = [];
  constructor(private readonly queue: Listener[]) {}
  settle(failed: boolean, value?: unknown): void {
    if (this.done) return;
    this.done = true;
    this.failed = failed;
    this.value = value;
    for (const l of this.listeners) this.queue.push(l);
    this.listeners = [];
  }
  onDone(listener: Listener): void {
    if (this.done) this.queue.push(listener);
    else this.listeners.push(listener);
  }
}

const DTFX_ACTION_CLASS: Record<ScheduledItem['kind'], string> = {
  activity: 'ScheduleTaskOrchestratorAction',
  timer: 'CreateTimerOrchestratorAction',
  subOrchestration: 'CreateSubOrchestrationAction',
};

export function replayEpisode(
  actions: readonly OrchestratorActionJson[],
  events: readonly HistoryEvent[],
  options: ShimOptions,
): ShimResult {
  const queue: Listener[] = [];
  const pending = new Map<number, SimTask>();
  const unconfirmed = new Map<number, ScheduledItem>();
  const waiters = new Map<string, SimTask[]>();
  const buffered = new Map<string, unknown[]>();
  let nextId = 0;
  let now = 0;
  let continueAsNew: { input: unknown } | undefined;

  const drain = () => {
    while (queue.length > 0) queue.shift()!();
  };
  const completed = (value?: unknown) => {
    const t = new SimTask(queue);
    t.settle(false, value);
    return t;
  };
  const schedule = (make: (id: number) => ScheduledItem): SimTask => {
    const id = nextId++;
    unconfirmed.set(id, make(id));
    const t = new SimTask(queue);
    pending.set(id, t);
    return t;
  };
  const createTimer = (fireAtMs: number) =>
    schedule((id) => ({ kind: 'timer', id, fireAt: new Date(fireAtMs).toISOString() }));

  /**
   * DurableOrchestrationContext.CreateTimer (extension v3.x): a timer further away than
   * `maximumShortTimerDuration` becomes a loop of segments — the first at now + `longRunningTimerIntervalDuration`,
   * then, after each fires, the remaining time if it is shorter than that interval, else another interval.
   */
  const timer = (fireAtMs: number, canceled: boolean): SimTask => {
    const result = new SimTask(queue);
    const interval = options.longRunningTimerIntervalMs;
    const step = (segmentAtMs: number, last: boolean) => {
      const segment = createTimer(segmentAtMs);
      if (canceled) {
        result.settle(true, new Error('canceled'));
        return;
      }
      segment.onDone(() => {
        const remaining = fireAtMs - now;
        if (last || remaining <= 0) return result.settle(false);
        if (remaining < interval) step(now + remaining, true);
        else step(now + interval, false);
      });
    };
    if (fireAtMs - now > options.maximumShortTimerMs) step(now + interval, false);
    else step(fireAtMs, true);
    return result;
  };

  const withRetry = (retry: RetryOptionsJson | undefined, attemptOnce: () => SimTask): SimTask => {
    if (!retry) throw new UnsupportedActionError('A retry action arrived without retryOptions.');
    checkRetryOptions(retry, options.maximumShortTimerMs);
    const result = new SimTask(queue);
    const firstAttempt = now;
    let attempt = 0;
    const tryOnce = () => {
      const t = attemptOnce();
      t.onDone(() => {
        if (!t.failed) return result.settle(false, t.value);
        const delay = computeRetryDelayMs(retry, attempt, firstAttempt, now);
        if (delay <= 0) return result.settle(true, t.value);
        createTimer(now + delay).onDone(() => {
          attempt++;
          if (attempt < retry.maxNumberOfAttempts) tryOnce();
          else result.settle(true, t.value);
        });
      });
    };
    tryOnce();
    return result;
  };

  const waitForEvent = (name: string): SimTask => {
    const key = name.toLowerCase();
    const t = new SimTask(queue);
    const buf = buffered.get(key);
    if (buf && buf.length > 0) {
      t.settle(false, buf.shift());
      return t;
    }
    const list = waiters.get(key) ?? [];
    list.push(t);
    waiters.set(key, list);
    return t;
  };

  const requireFunction = (name: string, kind: 'activity' | 'orchestration') => {
    if (options.functionExists && !options.functionExists(name, kind)) {
      const what = kind === 'activity' ? 'an activity' : 'an orchestrator';
      throw new ReplayArgumentError(
        `The function '${name}' doesn't exist, is disabled, or is not ${what} function.`,
      );
    }
  };
  const activity = (a: OrchestratorActionJson) => {
    requireFunction(a.functionName ?? '', 'activity');
    return () =>
      schedule((id) => ({
        kind: 'activity',
        id,
        name: a.functionName ?? '',
        input: decodeActionInput(a.input),
      }));
  };
  const subOrchestration = (a: OrchestratorActionJson) => {
    requireFunction(a.functionName ?? '', 'orchestration');
    const given = a.instanceId?.toLowerCase();
    if (
      given &&
      (given === options.instanceId.toLowerCase() || given === options.parentInstanceId?.toLowerCase())
    ) {
      throw new ReplayArgumentError(
        'The instance ID of a sub-orchestration must be different than the instance ID of a parent orchestration.',
      );
    }
    return () =>
      schedule((id) => ({
        kind: 'subOrchestration',
        id,
        name: a.functionName ?? '',
        instanceId: a.instanceId || `${options.executionId ?? options.instanceId}:${id}`,
        input: a.input,
      }));
  };

  const invoke = (a: OrchestratorActionJson): SimTask => {
    switch (a.actionType) {
      case ActionType.CallActivity:
        return activity(a)();
      case ActionType.CallActivityWithRetry:
        return withRetry(a.retryOptions, activity(a));
      case ActionType.CallSubOrchestrator:
        return subOrchestration(a)();
      case ActionType.CallSubOrchestratorWithRetry:
        return withRetry(a.retryOptions, subOrchestration(a));
      case ActionType.ContinueAsNew:
        continueAsNew = { input: decodeActionInput(a.input) };
        return completed();
      case ActionType.CreateTimer:
        return timer(Date.parse(a.fireAt ?? ''), a.isCanceled === true);
      case ActionType.WaitForExternalEvent:
        return waitForEvent(a.externalEventName ?? '');
      case ActionType.WhenAll: {
        const children = (a.compoundActions ?? []).map(invoke);
        const result = new SimTask(queue);
        const check = () => {
          if (children.every((c) => c.done)) {
            const failed = children.find((c) => c.failed);
            result.settle(failed !== undefined, failed?.value);
          }
        };
        for (const c of children) c.onDone(check);
        if (children.length === 0) result.settle(false);
        return result;
      }
      case ActionType.WhenAny: {
        const children = (a.compoundActions ?? []).map(invoke);
        const result = new SimTask(queue);
        for (const c of children) c.onDone(() => result.settle(false, c));
        return result;
      }
      default:
        throw new UnsupportedActionError(
          `The local Durable host does not support action type ${a.actionType} (entities and callHttp are not used by this app).`,
        );
    }
  };

  const runFrom = (index: number) => {
    const a = actions[index];
    if (!a) return;
    invoke(a).onDone(() => runFrom(index + 1));
  };

  const confirm = (e: HistoryEvent, kind: ScheduledItem['kind'], describe: string) => {
    const id = e.EventId;
    const item = unconfirmed.get(id);
    if (!item) {
      throw new NonDeterminismError(
        `A previous execution of this orchestration scheduled ${describe} with sequence ID ${id}, but the current replay execution hasn't (yet?) scheduled this task. Was a change made to the orchestrator code after this instance had already started running?`,
      );
    }
    if (item.kind !== kind) {
      throw new NonDeterminismError(
        `A previous execution of this orchestration scheduled ${describe} with sequence number ${id}, but the current orchestration replay instead produced a ${DTFX_ACTION_CLASS[item.kind]} action with this sequence number. Was a change made to the orchestrator code after this instance had already started running?`,
      );
    }
    if (item.kind === 'activity' && item.name.toLowerCase() !== (e.Name ?? '').toLowerCase()) {
      throw new NonDeterminismError(
        `A previous execution of this orchestration scheduled an activity task with sequence number ${id} named '${e.Name}', but the current orchestration replay instead scheduled an activity task named '${item.name}' with this sequence number. Was a change made to the orchestrator code after this instance had already started running?`,
      );
    }
    if (item.kind === 'subOrchestration') {
      if (item.name.toLowerCase() !== (e.Name ?? '').toLowerCase() || item.instanceId !== e.InstanceId) {
        throw new NonDeterminismError(
          `A previous execution of this orchestration scheduled a sub-orchestration with sequence number ${id} named '${e.Name}' and instance ID '${e.InstanceId}', but the current orchestration replay instead scheduled '${item.name}' with instance ID '${item.instanceId}'. Was a change made to the orchestrator code after this instance had already started running?`,
        );
      }
    }
    unconfirmed.delete(id);
  };

  const complete = (id: number | undefined, failed: boolean, value?: unknown) => {
    if (id === undefined) return;
    const t = pending.get(id);
    if (!t) return;
    pending.delete(id);
    t.settle(failed, value);
  };

  for (const e of events) {
    switch (e.EventType) {
      case EventType.OrchestratorStarted:
        now = Date.parse(e.Timestamp);
        break;
      case EventType.ExecutionStarted:
        runFrom(0);
        break;
      case EventType.TaskScheduled:
        confirm(e, 'activity', `an activity task named '${e.Name}'`);
        break;
      case EventType.TimerCreated:
        confirm(e, 'timer', 'a timer task');
        break;
      case EventType.SubOrchestrationInstanceCreated:
        confirm(e, 'subOrchestration', `a sub-orchestration named '${e.Name}'`);
        break;
      case EventType.TaskCompleted:
      case EventType.SubOrchestrationInstanceCompleted:
        complete(e.TaskScheduledId, false, e.Result);
        break;
      case EventType.TaskFailed:
      case EventType.SubOrchestrationInstanceFailed:
        complete(e.TaskScheduledId, true, e.Reason);
        break;
      case EventType.TimerFired:
        complete(e.TimerId, false);
        break;
      case EventType.EventRaised: {
        const key = (e.Name ?? '').toLowerCase();
        // The extension keeps waiters on a stack: the newest wait gets the event (a WhenAny in a loop abandons older ones).
        const waiter = waiters.get(key)?.pop();
        if (waiter) waiter.settle(false, e.Input);
        else buffered.set(key, [...(buffered.get(key) ?? []), e.Input]);
        break;
      }
      default:
        break;
    }
    drain();
  }

  const newItems = [...unconfirmed.values()].sort((a, b) => a.id - b.id);
  return { newItems, continueAsNew };
}

/** Action identity used by the prefix rule: type, name (case-insensitive), instance id, event name. */
export function actionSignature(a: OrchestratorActionJson): string {
  const children = a.compoundActions ? `[${a.compoundActions.map(actionSignature).join(',')}]` : '';
  const name = (a.functionName ?? a.externalEventName ?? '').toLowerCase();
  return `${a.actionType}:${name}:${a.instanceId ?? ''}${children}`;
}
