/**
 * The orchestration engine: episodes, activities, timers, sub-orchestrations, external events, terminate,
 * purge and continue-as-new over persisted instance records.
 *
 * One episode = the instance's waiting events appended after an OrchestratorStarted event stamped with clock
 * time, the registered orchestrator replayed over the whole history (a fresh invocation context every time),
 * its cumulative action list checked (prefix rule, then the extension's replay via `replayEpisode`) and the
 * newly scheduled work recorded. Every change is saved before anything acts on it, so a stop between two
 * steps loses nothing and repeats no completed activity.
 */
import { randomUUID } from 'node:crypto';
import type { VirtualClock } from '../clock.js';
import {
  FunctionTimeoutError,
  InstanceExistsError,
  InstanceGoneError,
  InstanceNotFoundError,
  InvalidArgumentError,
  UnknownFunctionError,
} from './errors.js';
import { activityFailureRecord, failureDetailsOf } from './failure-details.js';
import { EventType, type FailureDetails, type HistoryEvent, history, toJsonText } from './history.js';
import {
  type InstanceRecord,
  type InstanceStore,
  isTerminal,
  type PendingActivity,
  type RuntimeStatus,
} from './instance-store.js';
import { fromTypedData, type InvocationLog, invokeRegisteredFunction, toTypedJson } from './invoke.js';
import { callOrchestrator, checkEpisode, orchestrationTriggerPayload } from './orchestrator-episode.js';
import type { RegisteredFunction } from './registry.js';
import type { ScheduledItem } from './replay-shim.js';

export interface InstanceStatus {
  readonly name: string;
  readonly instanceId: string;
  readonly runtimeStatus: RuntimeStatus;
  readonly input: unknown;
  readonly output: unknown;
  readonly customStatus: unknown;
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
  readonly failureDetails?: FailureDetails | undefined;
  readonly history?: readonly HistoryEvent[] | undefined;
}

export interface InstanceQuery {
  readonly runtimeStatus?: readonly string[] | undefined;
  readonly createdTimeFrom?: Date | undefined;
  readonly createdTimeTo?: Date | undefined;
  readonly instanceIdPrefix?: string | undefined;
}

export interface EpisodeInfo {
  readonly instanceId: string;
  readonly name: string;
  readonly episode: number;
  readonly runtimeStatus: RuntimeStatus;
  /**
   * History events of the execution this episode belongs to, after the episode. For an episode that
   * continued as new: the finished execution's events, its last episode included (the history now holds
   * only the new execution's).
   */
  readonly historyEvents: number;
}

export interface EngineOptions {
  readonly clock: VirtualClock;
  readonly store: InstanceStore;
  readonly functions: ReadonlyMap<string, RegisteredFunction>;
  readonly activityConcurrency: number;
  readonly maximumShortTimerMs: number;
  readonly longRunningTimerIntervalMs: number;
  /** host.json `functionTimeout` (ms; undefined = no limit), enforced on activities. */
  readonly functionTimeoutMs?: number | undefined;
  /** host.json extensions.durableTask.overridableExistingInstanceStates */
  readonly overridableExistingInstanceStates: 'NonRunningStates' | 'AnyState';
  readonly log: InvocationLog;
  readonly onEpisode?: ((info: EpisodeInfo) => void) | undefined;
}

/** DurableClient.MaxInstanceIdLength (extension v3.x, ContextImplementations/DurableClient.cs). */
export const MAX_INSTANCE_ID_LENGTH = 256;

/**
 * The instance-id rules of DurableClient.StartNewAsync (extension v3.x): no leading '@', none of
 * '/', '\\', '?', '#' or a control character (char.IsControl: U+0000–U+001F, U+007F–U+009F), at most 256
 * characters. Each is an ArgumentException (HTTP 400). The extension swaps the ArgumentException arguments
 * for the first two rules, so .NET words them "instanceId (Parameter '<rule>')"; kept verbatim.
 */
export function checkInstanceId(id: string): string {
  if (id.startsWith('@')) {
    throw new InvalidArgumentError(
      "instanceId (Parameter 'Orchestration instance ids must not start with @.')",
    );
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the rule is about control characters
  if (/[/\\?#\u0000-\u001f\u007f-\u009f]/.test(id)) {
    throw new InvalidArgumentError(
      "instanceId (Parameter 'Orchestration instance ids must not contain /, \\, #, ?, or control characters.')",
    );
  }
  if (id.length > MAX_INSTANCE_ID_LENGTH) {
    throw new InvalidArgumentError(
      `Instance ID lengths must not exceed ${MAX_INSTANCE_ID_LENGTH} characters.`,
    );
  }
  return id;
}

/** The extension's limit on a custom status: 16 KB of UTF-16 (DurableOrchestrationContext.SetCustomStatus). */
export const MAX_CUSTOM_STATUS_KB = 16;

/**
 * Why the extension refuses this custom status, or undefined. The out-of-process shim passes a non-null
 * customStatus to SetCustomStatus, which serializes it and measures `(int)(UTF-16 bytes / 1024.0)` KB
 * (MessagePayloadDataConverter.Serialize); over 16 the ArgumentException fails the orchestration.
 */
export function customStatusRefusal(customStatus: unknown): string | undefined {
  if (customStatus === undefined || customStatus === null) return undefined;
  const kb = Math.floor((JSON.stringify(customStatus).length * 2) / 1024);
  if (kb <= MAX_CUSTOM_STATUS_KB) return undefined;
  return `The UTF-16 size of the JSON-serialized payload must not exceed ${MAX_CUSTOM_STATUS_KB} KB. The current payload size is ${kb.toLocaleString('en-US')} KB.`;
}

function parseJson(text: string | undefined): unknown {
  return text === undefined ? null : JSON.parse(text);
}

export class DurableEngine {
  private readonly byLowerName = new Map<string, RegisteredFunction>();
  private readonly running = new Map<string, Promise<void>>();
  private pumpPromise: Promise<void> | undefined;
  private pumpAgain = false;
  private stopping = false;
  private started = false;
  private readonly changeListeners = new Set<() => void>();

  constructor(private readonly o: EngineOptions) {
    for (const fn of o.functions.values()) this.byLowerName.set(fn.name.toLowerCase(), fn);
    this.recoverParentNotifications();
  }

  /**
   * A stop between saving a finished sub-orchestration and notifying its parent would leave the parent
   * waiting: on start, deliver every such outcome that neither the parent's history nor its inbox holds.
   */
  private recoverParentNotifications(): void {
    const completions = new Set<number>([
      EventType.SubOrchestrationInstanceCompleted,
      EventType.SubOrchestrationInstanceFailed,
    ]);
    for (const child of [...this.o.store.all()]) {
      const link = child.parent;
      if (!link || !isTerminal(child.status)) continue;
      const parent = this.o.store.get(link.instanceId);
      if (!parent || parent.executionId !== link.executionId || isTerminal(parent.status)) continue;
      const known = [...parent.history, ...parent.inbox].some(
        (e) => completions.has(e.EventType) && e.TaskScheduledId === link.taskScheduledId,
      );
      if (known) continue;
      const failure =
        child.status === 'Completed'
          ? undefined
          : (child.failure ?? {
              ErrorType: 'OrchestrationTerminated',
              ErrorMessage: `Terminated: ${parseJson(child.output) ?? ''}`,
              IsNonRetriable: true,
            });
      this.notifyParent(child, failure);
    }
  }

  // ---- client operations -------------------------------------------------------------------------------

  startOrchestration(name: string, input?: unknown, instanceId?: string): string {
    const fn = this.byLowerName.get(name.toLowerCase());
    if (fn?.trigger !== 'orchestration') {
      throw new UnknownFunctionError(
        `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function. Additional info: registered orchestrators are ${this.namesOf('orchestration')}.`,
      );
    }
    const id = instanceId ? checkInstanceId(instanceId) : randomUUID().replaceAll('-', '');
    const existing = this.o.store.get(id);
    if (
      existing &&
      !isTerminal(existing.status) &&
      this.o.overridableExistingInstanceStates === 'NonRunningStates'
    ) {
      throw new InstanceExistsError(
        `An Orchestration instance with the status ${existing.status} already exists.`,
      );
    }
    this.createInstance(fn.name, id, input, undefined);
    this.kick();
    return id;
  }

  raiseEvent(instanceId: string, eventName: string, data?: unknown): void {
    const inst = this.require(instanceId);
    if (isTerminal(inst.status)) throw new InstanceGoneError(instanceId, inst.status);
    inst.inbox.push(history.eventRaised(this.o.clock.nowDate(), eventName, data));
    this.touch(inst);
    this.o.store.save(inst);
    this.kick();
  }

  terminate(instanceId: string, reason?: string): void {
    const inst = this.require(instanceId);
    if (isTerminal(inst.status)) throw new InstanceGoneError(instanceId, inst.status);
    const now = this.o.clock.nowDate();
    const output = toJsonText(reason ?? '');
    inst.history.push(
      history.orchestratorStarted(now),
      history.executionTerminated(now, reason),
      history.executionCompleted(now, 'Terminated', output),
      history.orchestratorCompleted(now),
    );
    inst.status = 'Terminated';
    inst.output = output;
    inst.inbox = [];
    inst.activities = [];
    inst.timers = [];
    this.touch(inst);
    this.o.store.save(inst);
    this.notifyParent(inst, {
      ErrorType: 'OrchestrationTerminated',
      ErrorMessage: `Terminated: ${reason ?? ''}`,
      IsNonRetriable: true,
    });
    this.changed();
  }

  purge(instanceId: string): boolean {
    return this.o.store.delete(instanceId);
  }

  purgeWhere(query: InstanceQuery): number {
    let n = 0;
    for (const inst of [...this.o.store.all()]) {
      if (isTerminal(inst.status) && this.matches(inst, query))
        n += this.o.store.delete(inst.instanceId) ? 1 : 0;
    }
    return n;
  }

  getStatus(
    instanceId: string,
    opts: { showHistory?: boolean; showInput?: boolean } = {},
  ): InstanceStatus | undefined {
    const inst = this.o.store.get(instanceId);
    return inst ? this.toStatus(inst, opts) : undefined;
  }

  list(query: InstanceQuery, opts: { showInput?: boolean } = {}): InstanceStatus[] {
    return [...this.o.store.all()].filter((i) => this.matches(i, query)).map((i) => this.toStatus(i, opts));
  }

  history(instanceId: string): readonly HistoryEvent[] {
    return this.o.store.get(instanceId)?.history ?? [];
  }

  // ---- driving ---------------------------------------------------------------------------------------------

  /** Runs episodes and activities until nothing is runnable and no activity is in flight. */
  async settle(): Promise<void> {
    if (!this.started) return;
    for (;;) {
      this.kick();
      if (this.pumpPromise) await this.pumpPromise;
      if (this.running.size > 0) {
        await Promise.race(this.running.values());
        continue;
      }
      if (!this.stopping && (this.nextRunnable() || this.hasDueTimer())) continue;
      return;
    }
  }

  /** Earliest pending durable timer of a live instance (ms), if any. */
  nextTimerDue(): number | undefined {
    let min: number | undefined;
    for (const inst of this.o.store.all()) {
      if (isTerminal(inst.status)) continue;
      for (const t of inst.timers) {
        const at = Date.parse(t.fireAt);
        if (min === undefined || at < min) min = at;
      }
    }
    return min;
  }

  /** Registers a one-shot listener for any instance change; returns an unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Tracks background work (activities, trigger invocations) for settle(). */
  track(key: string, work: Promise<void>): void {
    const p = work.finally(() => {
      this.running.delete(key);
      this.kick();
    });
    this.running.set(key, p);
  }

  /** Begins processing (resumed instances included). */
  start(): void {
    this.started = true;
    this.kick();
  }

  kick(): void {
    if (this.stopping || !this.started) return;
    if (this.pumpPromise) {
      this.pumpAgain = true;
      return;
    }
    this.pumpPromise = this.pump().finally(() => {
      this.pumpPromise = undefined;
    });
  }

  /** Stops starting new work and waits for the episode and activities in flight (their results are saved). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.pumpPromise) await this.pumpPromise;
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  private async pump(): Promise<void> {
    do {
      this.pumpAgain = false;
      for (;;) {
        if (this.stopping) return;
        this.fireDueTimers();
        this.dispatchActivities();
        const inst = this.nextRunnable();
        if (!inst) break;
        try {
          await this.runEpisode(inst);
        } catch (err) {
          this.failUnexpectedly(inst, err);
        }
      }
    } while (this.pumpAgain);
  }

  private nextRunnable(): InstanceRecord | undefined {
    for (const inst of this.o.store.all()) {
      if (inst.inbox.length > 0 && !isTerminal(inst.status)) return inst;
    }
    return undefined;
  }

  private hasDueTimer(): boolean {
    const next = this.nextTimerDue();
    return next !== undefined && next <= this.o.clock.now();
  }

  private fireDueTimers(): void {
    const nowMs = this.o.clock.now();
    for (const inst of this.o.store.all()) {
      if (isTerminal(inst.status)) continue;
      const due = inst.timers.filter((t) => Date.parse(t.fireAt) <= nowMs);
      if (due.length === 0) continue;
      inst.timers = inst.timers.filter((t) => !due.includes(t));
      for (const t of due) inst.inbox.push(history.timerFired(new Date(nowMs), t.id, t.fireAt));
      this.o.store.save(inst);
    }
  }

  private dispatchActivities(): void {
    if (this.stopping) return;
    for (const inst of this.o.store.all()) {
      if (isTerminal(inst.status)) continue;
      for (const act of inst.activities) {
        const key = `activity|${inst.instanceId}|${act.executionId}|${act.id}`;
        if (this.running.has(key)) continue;
        if (this.runningActivities() >= this.o.activityConcurrency) return;
        this.track(key, this.runActivity(inst.instanceId, act));
      }
    }
  }

  private runningActivities(): number {
    let n = 0;
    for (const key of this.running.keys()) if (key.startsWith('activity|')) n++;
    return n;
  }

  private async runActivity(instanceId: string, act: PendingActivity): Promise<void> {
    const fn = this.byLowerName.get(act.name.toLowerCase());
    let event: HistoryEvent;
    if (fn?.trigger !== 'activity') {
      const message = `The function '${act.name}' doesn't exist, is disabled, or is not an activity function. Registered activities: ${this.namesOf('activity')}.`;
      event = history.taskFailed(
        this.o.clock.nowDate(),
        act.id,
        `Activity function '${act.name}' failed: ${message}`,
        JSON.stringify({ ErrorType: 'FunctionFailedException', Message: message }),
      );
    } else {
      const deadline = this.activityDeadline(fn.name);
      try {
        const rv = await Promise.race([
          invokeRegisteredFunction(fn, { trigger: toTypedJson(act.input), log: this.o.log }),
          deadline.expired,
        ]);
        event = history.taskCompleted(this.o.clock.nowDate(), act.id, fromTypedData(rv));
      } catch (err) {
        if (err instanceof FunctionTimeoutError) {
          event = history.taskFailed(
            this.o.clock.nowDate(),
            act.id,
            `Activity function '${fn.name}' failed: ${err.message}`,
            JSON.stringify({ ErrorType: err.name, Message: err.message }),
          );
        } else {
          const f = activityFailureRecord(fn.name, err);
          event = history.taskFailed(this.o.clock.nowDate(), act.id, f.reason, f.details, f.failureDetails);
        }
      } finally {
        deadline.clear();
      }
    }
    const inst = this.o.store.get(instanceId);
    if (!inst || inst.executionId !== act.executionId || isTerminal(inst.status)) return;
    inst.activities = inst.activities.filter((a) => a.id !== act.id);
    inst.inbox.push(event);
    this.o.store.save(inst);
  }

  /**
   * host.json `functionTimeout` for an activity, counted on the shared clock: the WebJobs SDK cancels the
   * invocation with FunctionTimeoutException and the extension records the task as failed
   * (TaskActivityShim: FunctionTimeoutError is "treated as a user error", see
   * src/WebJobs.Extensions.DurableTask/Listener/WrappedFunctionResult.cs). In manual clock mode the
   * deadline passes only when something moves the clock.
   */
  private activityDeadline(name: string): { expired: Promise<never>; clear: () => void } {
    const limit = this.o.functionTimeoutMs;
    if (limit === undefined) return { expired: new Promise<never>(() => {}), clear: () => {} };
    const clock = this.o.clock;
    const due = clock.now() + limit;
    let stopListening = () => {};
    let realTimer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      const check = (now: number) => {
        if (now < due) return;
        stopListening();
        if (realTimer) clearTimeout(realTimer);
        reject(new FunctionTimeoutError(limit, name));
      };
      stopListening = clock.onAdvance(check);
      const realDelay = clock.realDelayUntil(due);
      if (Number.isFinite(realDelay)) realTimer = setTimeout(() => check(clock.now()), realDelay + 1);
    });
    expired.catch(() => {});
    return {
      expired,
      clear: () => {
        stopListening();
        if (realTimer) clearTimeout(realTimer);
      },
    };
  }

  private async runEpisode(inst: InstanceRecord): Promise<void> {
    const fn = this.byLowerName.get(inst.name.toLowerCase());
    const now = this.o.clock.nowDate();
    const consumed = inst.inbox.length;
    const newEvents = [history.orchestratorStarted(now), ...inst.inbox.slice(0, consumed)];
    const full = [...inst.history, ...newEvents];

    const reply =
      fn?.trigger === 'orchestration'
        ? await callOrchestrator(
            fn,
            orchestrationTriggerPayload({
              instanceId: inst.instanceId,
              parentInstanceId: inst.parent?.instanceId ?? null,
              input: parseJson(inst.input),
              pastEvents: inst.history,
              newEvents,
              maximumShortTimerMs: this.o.maximumShortTimerMs,
              longRunningTimerIntervalMs: this.o.longRunningTimerIntervalMs,
            }),
            this.o.log,
          )
        : {
            state: undefined,
            error: `The function '${inst.name}' doesn't exist, is disabled, or is not an orchestrator function.`,
          };
    const { state, error } = reply;

    // The instance may have been terminated or purged while the orchestrator ran.
    const current = this.o.store.get(inst.instanceId);
    if (current !== inst || isTerminal(inst.status)) return;

    const check = checkEpisode(state?.actions?.[0] ?? [], full, inst.actionSignatures, {
      instanceId: inst.instanceId,
      parentInstanceId: inst.parent?.instanceId,
      executionId: inst.executionId,
      functionExists: (name, kind) => this.byLowerName.get(name.toLowerCase())?.trigger === kind,
      maximumShortTimerMs: this.o.maximumShortTimerMs,
      longRunningTimerIntervalMs: this.o.longRunningTimerIntervalMs,
    });
    const statusRefusal = customStatusRefusal(state?.customStatus);
    let failure: FailureDetails | undefined = statusRefusal
      ? {
          ErrorType: 'OrchestrationFailureException',
          ErrorMessage: `Orchestrator function '${inst.name}' failed: ${statusRefusal}`,
          IsNonRetriable: false,
        }
      : check.ok
        ? undefined
        : check.failure;
    const outcome = check.ok ? check.outcome : undefined;
    if (check.ok) inst.actionSignatures = check.signatures;
    if (!failure && error !== undefined) {
      failure = {
        ErrorType: 'OrchestrationFailureException',
        ErrorMessage: `Orchestrator function '${inst.name}' failed: ${error}`,
        IsNonRetriable: false,
      };
    }

    inst.inbox.splice(0, consumed);
    inst.episodes++;
    let finishedExecutionEvents: number | undefined;
    if (state?.customStatus !== undefined && !statusRefusal)
      inst.customStatus = toJsonText(state.customStatus);
    if (inst.status === 'Pending' || inst.status === 'ContinuedAsNew') inst.status = 'Running';

    if (failure) {
      inst.history = [
        ...full,
        history.executionCompleted(now, 'Failed', toJsonText(failure.ErrorMessage), failure),
        history.orchestratorCompleted(now),
      ];
      this.finish(inst, 'Failed', toJsonText(failure.ErrorMessage), failure);
    } else if (outcome?.continueAsNew) {
      // The finished execution's last episode: its events, ExecutionCompleted (ContinuedAsNew) and
      // OrchestratorCompleted, as the extension writes them before the new execution starts.
      finishedExecutionEvents = full.length + 2;
      this.continueAsNew(inst, outcome.continueAsNew.input, now);
    } else if (state?.isDone) {
      const output = toJsonText(state.output);
      inst.history = [
        ...full,
        history.executionCompleted(now, 'Completed', output),
        history.orchestratorCompleted(now),
      ];
      this.finish(inst, 'Completed', output, undefined);
    } else {
      const scheduled = (outcome?.newItems ?? []).map((item) => this.schedule(inst, item, now));
      inst.history = [...full, ...scheduled, history.orchestratorCompleted(now)];
      this.touch(inst);
      this.o.store.save(inst);
    }
    this.o.onEpisode?.({
      instanceId: inst.instanceId,
      name: inst.name,
      episode: inst.episodes,
      runtimeStatus: inst.status,
      historyEvents: finishedExecutionEvents ?? inst.history.length,
    });
    this.changed();
  }

  /** A host-side fault while running an episode fails the instance instead of stalling the host. */
  private failUnexpectedly(inst: InstanceRecord, err: unknown): void {
    const failure = failureDetailsOf(err);
    const now = this.o.clock.nowDate();
    inst.inbox = [];
    inst.history = [
      ...inst.history,
      history.executionCompleted(now, 'Failed', toJsonText(failure.ErrorMessage), failure),
    ];
    this.finish(inst, 'Failed', toJsonText(failure.ErrorMessage), failure);
    this.changed();
  }

  private schedule(inst: InstanceRecord, item: ScheduledItem, now: Date): HistoryEvent {
    switch (item.kind) {
      case 'activity':
        inst.activities.push({
          executionId: inst.executionId,
          id: item.id,
          name: item.name,
          input: item.input,
        });
        return history.taskScheduled(now, item.id, item.name, item.input);
      case 'timer':
        inst.timers.push({ executionId: inst.executionId, id: item.id, fireAt: item.fireAt });
        return history.timerCreated(now, item.id, new Date(item.fireAt));
      case 'subOrchestration': {
        const fn = this.byLowerName.get(item.name.toLowerCase());
        this.createInstance(fn?.name ?? item.name, item.instanceId, item.input, {
          instanceId: inst.instanceId,
          executionId: inst.executionId,
          taskScheduledId: item.id,
          name: inst.name,
        });
        return history.subOrchestrationCreated(now, item.id, item.name, item.instanceId, item.input);
      }
    }
  }

  /**
   * Starts a new execution with the new input. Events the old execution received but never consumed are
   * dropped (the JavaScript API cannot ask for preserveUnprocessedEvents); events that arrived after the
   * episode (still in the inbox) are kept for the new execution, as the task hub keeps queued messages.
   */
  private continueAsNew(inst: InstanceRecord, input: unknown, now: Date): void {
    const inputJson = toJsonText(input);
    // The finished execution's history is dropped: continue-as-new starts a new one.
    inst.executionId = randomUUID().replaceAll('-', '');
    inst.input = inputJson;
    inst.history = [];
    inst.actionSignatures = [];
    inst.activities = [];
    inst.timers = [];
    inst.output = undefined;
    inst.status = 'ContinuedAsNew';
    const parentInfo = inst.parent
      ? {
          Name: this.o.store.get(inst.parent.instanceId)?.name ?? '',
          Version: '',
          TaskScheduleId: inst.parent.taskScheduledId,
          OrchestrationInstance: { InstanceId: inst.parent.instanceId, ExecutionId: inst.parent.executionId },
        }
      : null;
    inst.inbox = [
      history.executionStarted(now, inst.name, inst.instanceId, inst.executionId, input, parentInfo),
      ...inst.inbox,
    ];
    this.touch(inst);
    this.o.store.save(inst);
  }

  private finish(
    inst: InstanceRecord,
    status: 'Completed' | 'Failed',
    output: string,
    failure?: FailureDetails,
  ) {
    inst.status = status;
    inst.output = output;
    inst.failure = failure;
    inst.activities = [];
    inst.timers = [];
    this.touch(inst);
    this.o.store.save(inst);
    if (status === 'Completed') this.notifyParent(inst, undefined);
    else if (failure) this.notifyParent(inst, failure);
  }

  private notifyParent(child: InstanceRecord, failure: FailureDetails | undefined): void {
    const link = child.parent;
    if (!link) return;
    const parent = this.o.store.get(link.instanceId);
    if (!parent || parent.executionId !== link.executionId || isTerminal(parent.status)) return;
    const now = this.o.clock.nowDate();
    parent.inbox.push(
      failure
        ? history.subOrchestrationFailed(
            now,
            link.taskScheduledId,
            failure.ErrorMessage,
            JSON.stringify({ ErrorType: failure.ErrorType, Message: failure.ErrorMessage }),
          )
        : history.subOrchestrationCompleted(now, link.taskScheduledId, child.output),
    );
    this.o.store.save(parent);
    this.kick();
  }

  private createInstance(
    name: string,
    instanceId: string,
    input: unknown,
    parent: (InstanceRecord['parent'] & { name: string }) | undefined,
  ): InstanceRecord {
    const now = this.o.clock.nowDate();
    const executionId = randomUUID().replaceAll('-', '');
    const parentInfo = parent
      ? {
          Name: parent.name,
          Version: '',
          TaskScheduleId: parent.taskScheduledId,
          OrchestrationInstance: { InstanceId: parent.instanceId, ExecutionId: parent.executionId },
        }
      : null;
    const record: InstanceRecord = {
      instanceId,
      name,
      executionId,
      status: 'Pending',
      input: toJsonText(input),
      output: undefined,
      customStatus: undefined,
      failure: undefined,
      createdTime: now.toISOString(),
      lastUpdatedTime: now.toISOString(),
      history: [],
      inbox: [history.executionStarted(now, name, instanceId, executionId, input, parentInfo)],
      actionSignatures: [],
      activities: [],
      timers: [],
      parent: parent
        ? {
            instanceId: parent.instanceId,
            executionId: parent.executionId,
            taskScheduledId: parent.taskScheduledId,
          }
        : undefined,
      episodes: 0,
    };
    this.o.store.save(record);
    this.changed();
    return record;
  }

  private toStatus(
    inst: InstanceRecord,
    opts: { showHistory?: boolean; showInput?: boolean },
  ): InstanceStatus {
    return {
      name: inst.name,
      instanceId: inst.instanceId,
      runtimeStatus: inst.status,
      input: opts.showInput === false ? null : parseJson(inst.input),
      output: parseJson(inst.output),
      customStatus: parseJson(inst.customStatus),
      createdTime: inst.createdTime,
      lastUpdatedTime: inst.lastUpdatedTime,
      failureDetails: inst.failure,
      history: opts.showHistory ? [...inst.history] : undefined,
    };
  }

  private matches(inst: InstanceRecord, q: InstanceQuery): boolean {
    if (q.runtimeStatus && q.runtimeStatus.length > 0) {
      const wanted = q.runtimeStatus.map((s) => s.toLowerCase());
      if (!wanted.includes(inst.status.toLowerCase())) return false;
    }
    const created = Date.parse(inst.createdTime);
    if (q.createdTimeFrom && created < q.createdTimeFrom.getTime()) return false;
    if (q.createdTimeTo && created > q.createdTimeTo.getTime()) return false;
    if (q.instanceIdPrefix && !inst.instanceId.startsWith(q.instanceIdPrefix)) return false;
    return true;
  }

  private require(instanceId: string): InstanceRecord {
    const inst = this.o.store.get(instanceId);
    if (!inst) throw new InstanceNotFoundError(instanceId);
    return inst;
  }

  private touch(inst: InstanceRecord): void {
    inst.lastUpdatedTime = this.o.clock.nowDate().toISOString();
  }

  private changed(): void {
    for (const l of [...this.changeListeners]) l();
  }

  private namesOf(kind: RegisteredFunction['trigger']): string {
    const names = [...this.o.functions.values()].filter((f) => f.trigger === kind).map((f) => f.name);
    return names.length > 0 ? names.join(', ') : '(none)';
  }
}
