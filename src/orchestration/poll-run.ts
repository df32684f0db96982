/**
 * The polling sub-orchestration: one per run. Durable timers on the adaptive schedule, one status read per
 * timer; each read records a changed run state or sub-state in the build row itself (steps.runStatus), so
 * the parent orchestration hears from it only when the run ends or the deadline passes. Every
 * POLLS_PER_EXECUTION polls it continues as new, carrying its state in the input: the history of an
 * execution stays bounded (a few dozen events) however long the run takes. See docs/architecture.md,
 * "History per build".
 */
import type { RunHandle, RunStatus } from '../activities/run/image-run.js';
import { isTerminalRunState } from '../activities/run/image-run.js';
import type { BuildRecordPatch, BuildRef } from '../records/build-records.js';
import { callStep } from './activity-call.js';
import type { Flow, OrchestrationPort } from './durable-port.js';
import { nextPollDelaySeconds, type PollingPolicy } from './polling-schedule.js';
import { steps } from './steps.js';

/** Polls per execution before the sub-orchestration continues as new. */
export const POLLS_PER_EXECUTION = 6;

export interface PollRunInput {
  readonly templateName: string;
  /** The run to read (tells it from the template's previous run). */
  readonly run?: RunHandle | undefined;
  readonly policy: PollingPolicy;
  /** ISO time the run was started (orchestration clock). */
  readonly runStartedAt: string;
  readonly lastRunState?: string | undefined;
  readonly lastSubState?: string | undefined;
  readonly firstPoll: boolean;
  /** The build row the reads record into (none: nothing is recorded). */
  readonly ref?: BuildRef | undefined;
  /** Written with the first read (the `polling` phase). */
  readonly patch?: BuildRecordPatch | undefined;
  /** Polls made by earlier executions of this instance. */
  readonly polls?: number | undefined;
  /** The last status read by an earlier execution. */
  readonly lastStatus?: RunStatus | undefined;
  /** Executions before this one (continue-as-new count). */
  readonly generation?: number | undefined;
}

export type PollRunOutcome =
  | { readonly kind: 'terminal'; readonly status: RunStatus; readonly polls: number }
  | { readonly kind: 'deadline'; readonly status: RunStatus | undefined; readonly polls: number };

export interface PollProgress {
  readonly templateName: string;
  readonly nextPollAt: string | undefined;
  readonly runState: string | undefined;
  readonly runSubState: string | undefined;
  readonly polls: number;
  readonly generation: number;
}

export function* pollRunFlow(df: OrchestrationPort): Flow<PollRunOutcome | undefined> {
  const input = df.getInput() as PollRunInput;
  const started = Date.parse(input.runStartedAt);
  const run = input.run ?? { templateName: input.templateName };
  const generation = input.generation ?? 0;
  let last = input.lastStatus;
  let runState = input.lastRunState;
  let subState = input.lastSubState;
  let firstPoll = input.firstPoll;
  let patch = input.patch;
  let polls = input.polls ?? 0;
  for (let here = 0; ; ) {
    const now = df.currentUtcDateTime.getTime();
    const elapsedSeconds = Math.floor((now - started) / 1000);
    const delay = nextPollDelaySeconds(input.policy, { elapsedSeconds, runSubState: subState, firstPoll });
    if (delay === 0) return { kind: 'deadline', status: last, polls };
    if (here >= POLLS_PER_EXECUTION) {
      df.continueAsNew({
        ...input,
        run,
        lastRunState: runState,
        lastSubState: subState,
        firstPoll,
        patch,
        polls,
        lastStatus: last,
        generation: generation + 1,
      } satisfies PollRunInput);
      return undefined;
    }
    const fireAt = new Date(now + delay * 1000);
    df.setCustomStatus({
      templateName: input.templateName,
      nextPollAt: fireAt.toISOString(),
      runState,
      runSubState: subState,
      polls,
      generation,
    } satisfies PollProgress);
    yield df.createTimer(fireAt);
    last = yield* callStep(df, steps.runStatus, {
      run,
      ref: input.ref,
      patch,
      lastRunState: runState,
      lastSubState: subState,
    });
    polls++;
    here++;
    firstPoll = false;
    patch = undefined;
    runState = last.runState;
    subState = last.runSubState;
    if (isTerminalRunState(last.runState)) return { kind: 'terminal', status: last, polls };
  }
}
