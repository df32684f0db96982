/**
 * One orchestrator episode, host side: the Durable extension's orchestration trigger payload, the call
 * through the registered handler (a failed orchestrator still returns its state after the
 * `$OutOfProcData$` label of its error message) and the checks of the returned actions — the extension's
 * replay (`replayEpisode`) and the prefix rule against the previous episode.
 */
import type { FailureDetails, HistoryEvent } from './history.js';
import { fromTypedData, type InvocationLog, invokeRegisteredFunction, toTypedJson } from './invoke.js';
import type { RegisteredFunction } from './registry.js';
import {
  actionSignature,
  NonDeterminismError,
  type OrchestratorActionJson,
  ReplayArgumentError,
  replayEpisode,
  type ShimOptions,
  type ShimResult,
  UnsupportedActionError,
} from './replay-shim.js';
import { formatTimeSpan } from './timespan.js';

const OUT_OF_PROC_LABEL = '\n\n$OutOfProcData$:';

/** The orchestrator's state as the JavaScript library returns it (OrchestratorState, JSON). */
export interface OrchestratorStateJson {
  readonly isDone?: boolean;
  readonly actions?: OrchestratorActionJson[][];
  readonly output?: unknown;
  readonly error?: string;
  readonly customStatus?: unknown;
}

export interface TriggerContext {
  readonly instanceId: string;
  readonly parentInstanceId: string | null;
  /** Parsed input of the current execution. */
  readonly input: unknown;
  /** Events of earlier episodes (replayed) followed by this episode's new events. */
  readonly pastEvents: readonly HistoryEvent[];
  readonly newEvents: readonly HistoryEvent[];
  readonly maximumShortTimerMs: number;
  readonly longRunningTimerIntervalMs: number;
}

/** The `orchestrationTrigger` binding data the extension sends (schema V4 via upperSchemaVersionNew). */
export function orchestrationTriggerPayload(c: TriggerContext) {
  return {
    history: [
      ...c.pastEvents.map((e) => ({ ...e, IsPlayed: true })),
      ...c.newEvents.map((e) => ({ ...e, IsPlayed: false })),
    ],
    input: c.input,
    instanceId: c.instanceId,
    isReplaying: c.pastEvents.length > 0,
    parentInstanceId: c.parentInstanceId,
    upperSchemaVersion: 1,
    upperSchemaVersionNew: 3,
    longRunningTimerIntervalDuration: formatTimeSpan(c.longRunningTimerIntervalMs),
    maximumShortTimerDuration: formatTimeSpan(c.maximumShortTimerMs),
    defaultHttpAsyncRequestSleepTimeMillseconds: 30_000,
  };
}

export interface OrchestratorReply {
  readonly state: OrchestratorStateJson | undefined;
  /** Set when the orchestrator threw (its message, as the extension reports it). */
  readonly error: string | undefined;
}

export async function callOrchestrator(
  fn: RegisteredFunction,
  payload: unknown,
  log: InvocationLog,
): Promise<OrchestratorReply> {
  try {
    const rv = await invokeRegisteredFunction(fn, { trigger: toTypedJson(payload), log });
    return { state: fromTypedData(rv) as OrchestratorStateJson, error: undefined };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const at = message.indexOf(OUT_OF_PROC_LABEL);
    if (at < 0) return { state: undefined, error: message };
    const state = JSON.parse(message.slice(at + OUT_OF_PROC_LABEL.length)) as OrchestratorStateJson;
    return { state, error: state.error ?? message.slice(0, at) };
  }
}

export type EpisodeCheck =
  | { readonly ok: true; readonly outcome: ShimResult; readonly signatures: string[] }
  | { readonly ok: false; readonly failure: FailureDetails };

/** Replays the actions as the extension does, then applies the prefix rule. */
export function checkEpisode(
  actions: readonly OrchestratorActionJson[],
  events: readonly HistoryEvent[],
  previousSignatures: readonly string[],
  options: ShimOptions,
): EpisodeCheck {
  try {
    const outcome = replayEpisode(actions, events, options);
    const signatures = actions.map(actionSignature);
    previousSignatures.forEach((previous, i) => {
      if (signatures[i] !== previous) {
        throw new NonDeterminismError(
          `the orchestrator's actions no longer extend those of its previous episode: action #${i} was '${previous}' and is now '${signatures[i] ?? 'missing'}'.`,
        );
      }
    });
    return { ok: true, outcome, signatures };
  } catch (err) {
    const expected =
      err instanceof NonDeterminismError ||
      err instanceof UnsupportedActionError ||
      err instanceof ReplayArgumentError;
    if (!expected) throw err;
    return { ok: false, failure: { ErrorType: err.name, ErrorMessage: err.message, IsNonRetriable: true } };
  }
}
