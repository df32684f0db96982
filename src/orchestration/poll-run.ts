/**
 * The polling sub-orchestration: durable timers on the adaptive schedule, one status read per timer.
 * It returns to the build orchestration when the run's sub-state changes (so the parent's custom status
 * follows the run), when the run ends, at the deadline, or after a batch of polls — which keeps both
 * histories bounded however long the build runs.
 */
import type { RunHandle, RunStatus } from '../activities/run/image-run.js';
import { isTerminalRunState } from '../activities/run/image-run.js';
import { callStep } from './activity-call.js';
import { ACTIVITY } from './activity-names.js';
import type { Flow, OrchestrationPort } from './durable-port.js';
import { nextPollDelaySeconds, type PollingPolicy } from './polling-schedule.js';

export const POLLS_PER_EPISODE = 10;

export interface PollRunInput {
  readonly templateName: string;
  /** The run to read (tells it from the template's previous run); older inputs carry only templateName. */
  readonly run?: RunHandle | undefined;
  readonly policy: PollingPolicy;
  /** ISO time the run was started (orchestration clock). */
  readonly runStartedAt: string;
  readonly lastSubState?: string | undefined;
  readonly firstPoll: boolean;
}

export type PollRunOutcome =
  | { readonly kind: 'terminal'; readonly status: RunStatus; readonly polls: number }
  | { readonly kind: 'progress'; readonly status: RunStatus; readonly polls: number }
  | { readonly kind: 'deadline'; readonly status: RunStatus | undefined; readonly polls: number };

export interface PollProgress {
  readonly templateName: string;
  readonly nextPollAt: string | undefined;
  readonly runSubState: string | undefined;
  readonly polls: number;
}

export function* pollRunFlow(df: OrchestrationPort): Flow<PollRunOutcome> {
  const input = df.getInput() as PollRunInput;
  const started = Date.parse(input.runStartedAt);
  let last: RunStatus | undefined;
  let subState = input.lastSubState;
  let firstPoll = input.firstPoll;
  for (let polls = 0; ; ) {
    const now = df.currentUtcDateTime.getTime();
    const elapsedSeconds = Math.floor((now - started) / 1000);
    const delay = nextPollDelaySeconds(input.policy, { elapsedSeconds, runSubState: subState, firstPoll });
    if (delay === 0) return { kind: 'deadline', status: last, polls };
    const fireAt = new Date(now + delay * 1000);
    df.setCustomStatus({
      templateName: input.templateName,
      nextPollAt: fireAt.toISOString(),
      runSubState: subState,
      polls,
    } satisfies PollProgress);
    yield df.createTimer(fireAt);
    last = yield* callStep<RunStatus>(
      df,
      ACTIVITY.runStatus,
      input.run ?? { templateName: input.templateName },
    );
    polls++;
    firstPoll = false;
    if (isTerminalRunState(last.runState)) return { kind: 'terminal', status: last, polls };
    if (last.runSubState !== subState || polls >= POLLS_PER_EPISODE)
      return { kind: 'progress', status: last, polls };
    subState = last.runSubState;
  }
}
