/**
 * One build as the API shows it: the stored record merged with the live orchestration status, when the
 * definition's instance is currently (or was last) running THIS build.
 */
import type { BuildOutput, BuildResult } from '../orchestration/contracts.js';
import { type BuildRecord, type BuildStatus, isTerminalStatus } from '../records/build-records.js';
import { buildIdOf, type InstanceSnapshot } from '../triggers/orchestration-port.js';

export interface BuildView {
  readonly buildId: string;
  readonly definition: string;
  readonly status: BuildStatus;
  readonly terminal: boolean;
  readonly imageId?: string | undefined;
  readonly error?: { readonly code: string; readonly message: string } | undefined;
  readonly record: BuildRecord | null;
  readonly runtime: {
    readonly instanceId: string;
    readonly runtimeStatus: string;
    readonly customStatus?: unknown;
    readonly output?: unknown;
    readonly createdTime?: string | undefined;
    readonly lastUpdatedTime?: string | undefined;
  } | null;
}

const RESULTS: ReadonlySet<string> = new Set<BuildResult>(['Succeeded', 'Failed', 'Canceled', 'TimedOut']);

function asOutput(v: unknown): Partial<BuildOutput> | undefined {
  return v && typeof v === 'object' ? (v as Partial<BuildOutput>) : undefined;
}

/** Status from the live instance alone (undefined when it says nothing definite). */
function liveStatus(s: InstanceSnapshot): BuildStatus | undefined {
  switch (s.runtimeStatus) {
    case 'Pending':
      return 'Queued';
    case 'Running':
    case 'ContinuedAsNew':
    case 'Suspended':
      return 'Running';
    case 'Completed': {
      const r = asOutput(s.output)?.result;
      return r && RESULTS.has(r) ? r : 'Succeeded';
    }
    case 'Failed':
      return 'Failed';
    case 'Terminated':
    case 'Canceled':
      return 'Canceled';
    default:
      return undefined;
  }
}

/**
 * Undefined when neither a record nor a live instance knows the build.
 * A terminal record wins (the orchestration records the result, then notifies, then completes).
 */
export function buildView(
  buildId: string,
  definition: string,
  record: BuildRecord | undefined,
  snapshot: InstanceSnapshot | undefined,
): BuildView | undefined {
  const live = snapshot && buildIdOf(snapshot) === buildId ? snapshot : undefined;
  if (!record && !live) return undefined;
  const fromLive = live ? liveStatus(live) : undefined;
  // The definition's instance now runs (or ran) another build while this record never reached an end:
  // its orchestration was terminated and replaced before it could record a result.
  const replacedBy =
    !live && record && !isTerminalStatus(record.status) && snapshot ? buildIdOf(snapshot) : undefined;
  const status: BuildStatus =
    record && isTerminalStatus(record.status)
      ? record.status
      : replacedBy
        ? 'Failed'
        : (fromLive ?? record?.status ?? 'Queued');
  const output = live ? asOutput(live.output) : undefined;
  let error = output?.error ?? record?.error;
  if (!error && replacedBy) {
    error = {
      code: 'Abandoned',
      message: `the orchestration of this build ended without recording a result; the definition has since run build ${replacedBy}`,
    };
  }
  if (!error && live?.runtimeStatus === 'Failed') {
    error = {
      code: 'OrchestrationFailed',
      message: typeof live.output === 'string' ? live.output : 'the orchestration failed',
    };
  }
  if (!error && live?.runtimeStatus === 'Terminated' && !(record && isTerminalStatus(record.status))) {
    error = { code: 'Terminated', message: 'the orchestration was terminated' };
  }
  return {
    buildId,
    definition,
    status,
    terminal: isTerminalStatus(status),
    imageId: output?.imageId ?? record?.imageId,
    error: isTerminalStatus(status) && status !== 'Succeeded' ? error : undefined,
    record: record ?? null,
    runtime: live
      ? {
          instanceId: live.instanceId,
          runtimeStatus: live.runtimeStatus,
          customStatus: withRecordedRun(live.customStatus, record),
          output: live.output,
          createdTime: live.createdTime,
          lastUpdatedTime: live.lastUpdatedTime,
        }
      : null,
  };
}

/**
 * While a build polls, its run state and sub-state are recorded by the polling steps (the build's own custom
 * status shows them once the run has ended): show the recorded ones in the live status.
 */
function withRecordedRun(customStatus: unknown, record: BuildRecord | undefined): unknown {
  if (!record || typeof customStatus !== 'object' || customStatus === null) return customStatus;
  const cs = customStatus as Record<string, unknown>;
  if (cs.phase !== 'polling' || record.runSubState === undefined) return customStatus;
  return {
    ...cs,
    runState: cs.runState ?? record.runState,
    runSubState: cs.runSubState ?? record.runSubState,
  };
}
