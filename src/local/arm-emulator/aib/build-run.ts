/**
 * Azure VM Image Builder's run state machine as a pure timeline on the virtual clock: the phases
 * (runSubState Queued -> Building -> Customizing -> [Optimizing] -> [Validating] -> Distributing), the
 * moments where something happens (customization ends, validation ends, distribution ends, the build
 * times out, a cancel completes), and the displayed state at any time. Side effects live in the caller.
 */
import type { BuildOutcome, PhaseDurations } from '../context.js';

export type RunSubState =
  | 'Queued'
  | 'Building'
  | 'Customizing'
  | 'Optimizing'
  | 'Validating'
  | 'Distributing';
export type RunState = 'Running' | 'Canceling' | 'Succeeded' | 'PartiallySucceeded' | 'Failed' | 'Canceled';

export interface Phase {
  readonly subState: RunSubState;
  readonly startMs: number;
  readonly endMs: number;
}

export interface RunPlan {
  readonly startMs: number;
  readonly phases: readonly Phase[];
  readonly outcome: BuildOutcome;
  /** Build timeout (buildTimeoutInMinutes, 0 = 240 minutes) in ms. */
  readonly timeoutMs: number;
  readonly cancelDurationMs: number;
  /** When a cancel was requested, if it was. */
  cancelAtMs?: number;
}

export type RunEventKind = 'customized' | 'validated' | 'distributed' | 'timeout' | 'canceled';

export interface RunEvent {
  readonly atMs: number;
  readonly kind: RunEventKind;
  /** The step failed (customizer or validation failure). */
  readonly failed: boolean;
}

export const DEFAULT_BUILD_TIMEOUT_MINUTES = 240;

export function timeoutMsOf(buildTimeoutInMinutes: number | undefined): number {
  const minutes =
    buildTimeoutInMinutes && buildTimeoutInMinutes > 0
      ? buildTimeoutInMinutes
      : DEFAULT_BUILD_TIMEOUT_MINUTES;
  return minutes * 60_000;
}

/** Lays out the phases from `startMs`; a `timeout` outcome makes customization outlast the timeout. */
export function planRun(
  startMs: number,
  durations: PhaseDurations,
  options: { optimize: boolean; validate: boolean; outcome: BuildOutcome; timeoutMs: number },
): RunPlan {
  const sequence: Array<[RunSubState, number]> = [
    ['Queued', durations.queued],
    ['Building', durations.building],
    [
      'Customizing',
      options.outcome === 'timeout'
        ? Math.max(durations.customizing, options.timeoutMs / 1000 + 3600)
        : durations.customizing,
    ],
  ];
  if (options.optimize) sequence.push(['Optimizing', durations.optimizing]);
  if (options.validate || options.outcome === 'validation-failure')
    sequence.push(['Validating', durations.validating]);
  sequence.push(['Distributing', durations.distributing]);
  let t = startMs;
  const phases: Phase[] = sequence.map(([subState, seconds]) => {
    const phase = { subState, startMs: t, endMs: t + Math.max(0, seconds) * 1000 };
    t = phase.endMs;
    return phase;
  });
  return {
    startMs,
    phases,
    outcome: options.outcome,
    timeoutMs: options.timeoutMs,
    cancelDurationMs: durations.canceling * 1000,
  };
}

function phaseEnd(plan: RunPlan, subState: RunSubState): number | undefined {
  return plan.phases.find((p) => p.subState === subState)?.endMs;
}

function isTerminal(e: RunEvent, continueOnValidationFailure: boolean): boolean {
  if (e.kind === 'customized') return e.failed;
  if (e.kind === 'validated') return e.failed && !continueOnValidationFailure;
  return true;
}

/** The run's events in time order, ending with the first terminal one. */
export function runEvents(plan: RunPlan, continueOnValidationFailure = false): RunEvent[] {
  const events: RunEvent[] = [];
  const customized = phaseEnd(plan, 'Customizing');
  if (customized !== undefined) {
    events.push({ atMs: customized, kind: 'customized', failed: plan.outcome === 'customizer-failure' });
  }
  const validated = phaseEnd(plan, 'Validating');
  if (validated !== undefined) {
    events.push({ atMs: validated, kind: 'validated', failed: plan.outcome === 'validation-failure' });
  }
  const distributed = phaseEnd(plan, 'Distributing');
  if (distributed !== undefined) events.push({ atMs: distributed, kind: 'distributed', failed: false });
  events.push({ atMs: plan.startMs + plan.timeoutMs, kind: 'timeout', failed: true });
  let ordered = events.sort((a, b) => a.atMs - b.atMs || order(a.kind) - order(b.kind));
  if (plan.cancelAtMs !== undefined) {
    const c = plan.cancelAtMs;
    ordered = ordered.filter((e) => e.atMs <= c);
    ordered.push({ atMs: c + plan.cancelDurationMs, kind: 'canceled', failed: false });
  }
  const cut = ordered.findIndex((e) => isTerminal(e, continueOnValidationFailure));
  return cut === -1 ? ordered : ordered.slice(0, cut + 1);
}

function order(kind: RunEventKind): number {
  return ['customized', 'validated', 'distributed', 'canceled', 'timeout'].indexOf(kind);
}

/** The sub-state at time `t` (the last phase once the plan has run out). */
export function subStateAt(plan: RunPlan, t: number): RunSubState {
  const phase = plan.phases.find((p) => t >= p.startMs && t < p.endMs) ?? plan.phases.at(-1)!;
  return t < plan.startMs ? 'Queued' : phase.subState;
}

/** What a still-running run shows at time `t`. */
export function displayedState(plan: RunPlan, t: number): { runState: RunState; runSubState: RunSubState } {
  if (plan.cancelAtMs !== undefined && t >= plan.cancelAtMs) {
    return { runState: 'Canceling', runSubState: subStateAt(plan, plan.cancelAtMs) };
  }
  return { runState: 'Running', runSubState: subStateAt(plan, t) };
}
