/**
 * A small deterministic driver for the build flow's generators (unit tests of the orchestration logic,
 * without a host): activities answer from a script, timers move a fake clock, sub-orchestrations run
 * inline (continue-as-new restarts one with its new input), and an external event can be raised at a virtual time (it wins a Task.any against a
 * sub-orchestration whose next timer lies later).
 */
import type { DurableTask, Flow, OrchestrationPort } from '../../src/orchestration/durable-port.js';

type Task =
  | { kind: 'activity'; name: string; input: unknown }
  | { kind: 'timer'; at: number }
  | { kind: 'sub'; name: string; input: unknown; id: string | undefined; state?: SubState }
  | { kind: 'event'; name: string }
  | { kind: 'any'; tasks: Task[] };

interface SubState {
  gen: Flow<unknown>;
  df: FakeDf;
  pending: { value: unknown; throw: boolean };
  done?: { value: unknown; threw: boolean };
}

export type ActivityHandler = (name: string, input: unknown, nowMs: number) => unknown;

export interface DriverLog {
  activities: { name: string; input: unknown; at: number }[];
  timers: { at: number; by: string }[];
  subOrchestrations: string[];
  statuses: unknown[];
  /** Most status reads in one execution of a sub-orchestration (continue-as-new starts a new one). */
  maxPollsPerSub: number;
  /** Continue-as-new calls of sub-orchestrations. */
  continuedAsNew: number;
}

export class FakeDf implements OrchestrationPort {
  readonly Task = { any: (tasks: DurableTask[]) => ({ kind: 'any', tasks }) as Task };
  isReplaying = false;
  /** Set by continueAsNew: the input of the next execution. */
  continued: { input: unknown } | undefined;
  constructor(
    readonly instanceId: string,
    private readonly input: unknown,
    readonly clock: { now: number },
    readonly log: DriverLog,
    readonly name: string,
  ) {}
  get currentUtcDateTime(): Date {
    return new Date(this.clock.now);
  }
  getInput(): unknown {
    return this.input;
  }
  callActivity(name: string, input?: unknown): DurableTask {
    return { kind: 'activity', name, input } as Task;
  }
  callSubOrchestrator(name: string, input?: unknown, instanceId?: string): DurableTask {
    return { kind: 'sub', name, input, id: instanceId } as Task;
  }
  createTimer(fireAt: Date): DurableTask {
    return { kind: 'timer', at: fireAt.getTime() } as Task;
  }
  waitForExternalEvent(name: string): DurableTask {
    return { kind: 'event', name } as Task;
  }
  setCustomStatus(status: unknown): void {
    this.log.statuses.push(status);
  }
  continueAsNew(input: unknown): void {
    this.continued = { input };
  }
}

export interface DriverOptions {
  readonly activity: ActivityHandler;
  readonly subFlows: Record<string, (df: OrchestrationPort) => Flow<unknown>>;
  /** Virtual time (ms) at which the named event is raised. */
  readonly raise?: { name: string; atMs: number; data?: unknown } | undefined;
  readonly startMs?: number;
}

export function runFlow<T>(
  flow: (df: OrchestrationPort) => Flow<T>,
  input: unknown,
  o: DriverOptions,
): { output: T; log: DriverLog; endMs: number } {
  const clock = { now: o.startMs ?? Date.UTC(2026, 0, 1) };
  const log: DriverLog = {
    activities: [],
    timers: [],
    subOrchestrations: [],
    statuses: [],
    maxPollsPerSub: 0,
    continuedAsNew: 0,
  };
  let eventDelivered = false;
  const df = new FakeDf('jumpbox-build-test', input, clock, log, 'root');

  /** Resolves a leaf task now, or returns undefined when it must wait (event not raised yet). */
  const settle = (t: Task, owner: FakeDf): { value: unknown; throw: boolean } => {
    switch (t.kind) {
      case 'activity': {
        log.activities.push({ name: t.name, input: t.input, at: clock.now });
        try {
          return { value: o.activity(t.name, t.input, clock.now), throw: false };
        } catch (e) {
          return { value: e, throw: true };
        }
      }
      case 'timer':
        log.timers.push({ at: t.at, by: owner.name });
        clock.now = Math.max(clock.now, t.at);
        return { value: undefined, throw: false };
      case 'sub': {
        const r = runSubToEnd(t);
        return { value: r.value, throw: r.threw };
      }
      case 'event':
        if (o.raise && o.raise.name === t.name) {
          clock.now = Math.max(clock.now, o.raise.atMs);
          eventDelivered = true;
          return { value: o.raise.data, throw: false };
        }
        throw new Error(`waiting forever for event ${t.name}`);
      case 'any':
        return settleAny(t, owner);
    }
  };

  const startSub = (t: Extract<Task, { kind: 'sub' }>): SubState => {
    if (!t.state) {
      log.subOrchestrations.push(t.id ?? t.name);
      const sdf = new FakeDf(t.id ?? 'sub', t.input, clock, log, t.name);
      const make = o.subFlows[t.name];
      if (!make) throw new Error(`no sub-flow ${t.name}`);
      t.state = { gen: make(sdf), df: sdf, pending: { value: undefined, throw: false } };
    }
    return t.state;
  };

  /** Advances a sub-orchestration until it ends, or (with stopBeforeMs) until its next timer lies later. */
  const stepSub = (t: Extract<Task, { kind: 'sub' }>, stopBeforeMs?: number): boolean => {
    const st = startSub(t);
    let polls = 0;
    while (!st.done) {
      const r = st.pending.throw ? st.gen.throw(st.pending.value) : st.gen.next(st.pending.value);
      if (r.done) {
        if (st.df.continued) {
          // A new execution of the same instance, with the new input.
          log.continuedAsNew++;
          log.maxPollsPerSub = Math.max(log.maxPollsPerSub, polls);
          polls = 0;
          const sdf = new FakeDf(st.df.instanceId, st.df.continued.input, clock, log, st.df.name);
          st.df = sdf;
          st.gen = o.subFlows[t.name]!(sdf);
          st.pending = { value: undefined, throw: false };
          continue;
        }
        st.done = { value: r.value, threw: false };
        break;
      }
      const next = r.value as Task;
      if (next.kind === 'timer' && stopBeforeMs !== undefined && next.at > stopBeforeMs) {
        // Park: re-yield this timer later.
        st.gen = resumeWith(st.gen, next);
        st.pending = { value: undefined, throw: false };
        return false;
      }
      if (next.kind === 'activity' && next.name === 'buildGetRunStatus') polls++;
      st.pending = settle(next, st.df);
    }
    log.maxPollsPerSub = Math.max(log.maxPollsPerSub, polls);
    return true;
  };

  const runSubToEnd = (t: Extract<Task, { kind: 'sub' }>) => {
    stepSub(t);
    return t.state!.done!;
  };

  const settleAny = (
    t: Extract<Task, { kind: 'any' }>,
    owner: FakeDf,
  ): { value: unknown; throw: boolean } => {
    const sub = t.tasks.find((x) => x.kind === 'sub') as Extract<Task, { kind: 'sub' }> | undefined;
    const ev = t.tasks.find((x) => x.kind === 'event') as Extract<Task, { kind: 'event' }> | undefined;
    const raiseAt = ev && o.raise && o.raise.name === ev.name && !eventDelivered ? o.raise.atMs : undefined;
    if (sub) {
      const finished = stepSub(sub, raiseAt);
      if (finished) return { value: sub, throw: false };
    }
    const timer = t.tasks.find((x) => x.kind === 'timer') as Extract<Task, { kind: 'timer' }> | undefined;
    if (timer && (raiseAt === undefined || timer.at <= raiseAt)) {
      settle(timer, owner);
      return { value: timer, throw: false };
    }
    if (ev) {
      settle(ev, owner);
      return { value: ev, throw: false };
    }
    throw new Error('Task.any with nothing that can complete');
  };

  const gen = flow(df);
  let pending: { value: unknown; throw: boolean } = { value: undefined, throw: false };
  for (let i = 0; i < 100_000; i++) {
    const r = pending.throw ? gen.throw(pending.value) : gen.next(pending.value);
    if (r.done) return { output: r.value, log, endMs: clock.now };
    const t = r.value as Task;
    if (t.kind === 'sub' && t.state?.done) {
      pending = t.state.done.threw
        ? { value: t.state.done.value, throw: true }
        : { value: t.state.done.value, throw: false };
      continue;
    }
    pending = settle(t, df);
  }
  throw new Error('flow did not finish');
}

/** A generator that first yields `first`, then continues `rest` with whatever `first` resolved to. */
function* resumeWith(rest: Flow<unknown>, first: Task): Flow<unknown> {
  const v = yield first;
  let r = rest.next(v);
  while (!r.done) {
    let sent: unknown;
    try {
      sent = yield r.value;
    } catch (e) {
      r = rest.throw(e);
      continue;
    }
    r = rest.next(sent);
  }
  return r.value;
}
