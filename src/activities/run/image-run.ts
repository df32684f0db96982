/**
 * The Image Builder run: start it without waiting for the long-running operation (builds take 20-60
 * minutes; activities must stay short), read its status, cancel it.
 *
 * Two things real Azure does that the status reads must survive:
 * - Image Builder checks the builder identity's rights on every distribution target when the run is invoked,
 *   and refuses the run at once without them ("Not authorized to access the resource …/images/… Please check
 *   the user assigned identity has the correct permissions", MicrosoftDocs/azure-docs issue 99193). A role
 *   assignment made minutes before may not be effective yet (Azure RBAC troubleshooting: changes can take
 *   minutes to take effect), so `startRun` reports that refusal as GrantNotEffective and the orchestration
 *   retries on durable timers.
 * - A run refused or failed before Image Builder updates `lastRunStatus` leaves the previous run's status in
 *   place. The status read compares `lastRunStatus.startTime` with the one seen before the run was requested,
 *   and asks the run's own long-running operation what happened while they are the same.
 */
import { restorePoller } from '@azure/arm-imagebuilder';
import { ClassifiedError, classifyError, permanent, statusOf } from '../../azure/errors.js';
import type { ActivityDeps } from '../deps.js';

export interface RunRef {
  readonly templateName: string;
}

/** Input of the start-run step. */
export interface StartRunInput extends RunRef {
  /**
   * The orchestration's time when it first asked for this run (the same on every retry of the step). A run
   * of the template that started after it (less CLOCK_SKEW_ALLOWANCE_MS) was started by an earlier attempt
   * whose answer was lost: it is adopted, never started twice.
   */
  readonly requestedAfter?: string | undefined;
}

/** How far Image Builder's clock may be behind the orchestration's when comparing start times. */
export const CLOCK_SKEW_ALLOWANCE_MS = 60_000;

/**
 * The start time of a run this step already started, when lastRunStatus shows one: started after
 * `requestedAfter` (with the skew allowance) and not a refusal for rights (such a run is asked again once
 * the grant is effective).
 */
export function adoptableRunStart(
  last:
    | { startTime?: Date | undefined; runState?: string | undefined; message?: string | undefined }
    | undefined,
  requestedAfter: string | undefined,
): string | undefined {
  const after = requestedAfter !== undefined ? Date.parse(requestedAfter) : Number.NaN;
  const start = last?.startTime?.getTime();
  if (Number.isNaN(after) || start === undefined || start < after - CLOCK_SKEW_ALLOWANCE_MS) return undefined;
  if (last?.runState === 'Failed' && isAuthorizationRefusal(undefined, last.message)) return undefined;
  return last!.startTime!.toISOString();
}

/** What the status reads need to tell this run from the template's previous one. */
export interface RunHandle extends RunRef {
  /** lastRunStatus.startTime before this run was requested (undefined: the template never ran). */
  readonly previousRunStartTime?: string | undefined;
  /** The run's long-running operation (serialized poller), to learn a failure lastRunStatus does not show. */
  readonly operation?: string | undefined;
  /** ISO time the run was requested. */
  readonly requestedAt?: string | undefined;
}

export interface RunStatus {
  readonly runState: string | undefined;
  readonly runSubState: string | undefined;
  readonly message: string | undefined;
  readonly startTime: string | undefined;
  readonly endTime: string | undefined;
  /** Artifact ids of the run outputs (managed image id, gallery version id), when the run ended well. */
  readonly artifactIds: readonly string[];
  /** lastRunStatus still shows the previous run: this one has not been registered yet (or never was). */
  readonly stale?: boolean | undefined;
}

export const TERMINAL_RUN_STATES = ['Succeeded', 'PartiallySucceeded', 'Failed', 'Canceled'] as const;

export function isTerminalRunState(state: string | undefined): boolean {
  return state !== undefined && (TERMINAL_RUN_STATES as readonly string[]).includes(state);
}

/** Code of a run (or template creation) refused for lack of rights that may simply not be effective yet. */
export const GRANT_NOT_EFFECTIVE = 'GrantNotEffective';

/**
 * An authorization refusal by Image Builder: ARM's AuthorizationFailed (403), or Image Builder's own
 * "Not authorized to access the resource … Please check the user assigned identity has the correct
 * permissions" (MicrosoftDocs/azure-docs issue 99193; Azure/azvmimagebuilder issue 60).
 */
export function isAuthorizationRefusal(code: string | undefined, message: string | undefined): boolean {
  return (
    /^(AuthorizationFailed|LinkedAuthorizationFailed|Unauthorized|Forbidden|Http403)$/i.test(code ?? '') ||
    /Not authorized to access the resource|does not have authorization to perform action/i.test(message ?? '')
  );
}

/** Lets an authorization refusal through as GrantNotEffective; everything else keeps its classification. */
export function refusalAsGrantNotEffective(e: unknown): unknown {
  const f = classifyError(e);
  if (f.kind === 'permanent' && isAuthorizationRefusal(f.code, f.message)) {
    return permanent(GRANT_NOT_EFFECTIVE, f.message);
  }
  return e;
}

type Deps = Pick<ActivityDeps, 'config' | 'clients' | 'log'>;

/** Looks at a just-requested run at most this many times before handing back to the orchestration. */
export const RUN_ACCEPTANCE_CHECKS = 3;

/**
 * Sends the run request and returns once Image Builder has registered the run (lastRunStatus shows a new
 * startTime) or after a few short looks at its operation: a run refused at once (missing rights) fails here,
 * as GrantNotEffective, instead of surfacing later as a failure of "the run".
 */
export async function startRun(
  deps: Deps & Partial<Pick<ActivityDeps, 'sleep' | 'lroPollIntervalMs'>>,
  input: StartRunInput,
): Promise<RunHandle & { startedAt: string }> {
  const rg = deps.config.resourceGroups.imageBuilder;
  const ops = deps.clients.imageBuilder.virtualMachineImageTemplates;
  const before = await ops.get(rg, input.templateName);
  const previousRunStartTime = before.lastRunStatus?.startTime?.toISOString();
  const requestedAt = new Date().toISOString();
  const adopted = adoptableRunStart(before.lastRunStatus, input.requestedAfter);
  if (adopted !== undefined) {
    // An earlier attempt of this step started the run (its answer was lost): adopt it, do not run again.
    deps.log(`run of ${input.templateName} started at ${adopted} by an earlier attempt; adopting it`);
    return {
      templateName: input.templateName,
      previousRunStartTime: undefined,
      requestedAt,
      startedAt: adopted,
    };
  }
  try {
    const poller = ops.run(rg, input.templateName);
    await poller.submitted();
    // A permanent 404 on the operation status: the operation cannot be followed, the template can.
    let operationLost = false;
    for (let i = 0; i < RUN_ACCEPTANCE_CHECKS; i++) {
      if (!operationLost) {
        try {
          await poller.poll();
        } catch (e) {
          if (statusOf(e) !== 404) throw refusalAsGrantNotEffective(e);
          operationLost = true;
          deps.log(`the run operation of ${input.templateName} answered 404; reading lastRunStatus instead`);
        }
      }
      const state = operationLost ? undefined : poller.operationState;
      if (state?.status === 'failed' || state?.status === 'canceled') {
        throw refusalAsGrantNotEffective(
          state.error ?? Object.assign(new Error('the run operation failed'), { code: 'RunRefused' }),
        );
      }
      if (state?.status === 'succeeded') break;
      const now = (await ops.get(rg, input.templateName)).lastRunStatus?.startTime?.toISOString();
      if (now !== undefined && now !== previousRunStartTime) break; // the run is registered
      if (i < RUN_ACCEPTANCE_CHECKS - 1 && deps.sleep) {
        await deps.sleep(Math.min(deps.lroPollIntervalMs ?? 2000, 1000 * 2 ** i));
      }
    }
    const operation = operationLost ? undefined : await poller.serialize();
    deps.log(`run of ${input.templateName} accepted`);
    return {
      templateName: input.templateName,
      previousRunStartTime,
      operation,
      requestedAt,
      startedAt: requestedAt,
    };
  } catch (e) {
    if (e instanceof ClassifiedError) throw e;
    // 409 "already has a build in progress" while the template shows a Running run: an earlier attempt of
    // this step started it and its answer was lost (timed out, connection reset, host crashed after the
    // request). The orchestration owns the template, so that run is this build's: adopt it. Its start
    // time is already in lastRunStatus, so there is no earlier start time to compare with.
    if (statusOf(e) === 409 && before.lastRunStatus?.runState === 'Running') {
      deps.log(
        `run of ${input.templateName} already in progress (started by an earlier attempt); adopting it`,
      );
      return {
        templateName: input.templateName,
        previousRunStartTime: undefined,
        requestedAt,
        startedAt: before.lastRunStatus.startTime?.toISOString() ?? requestedAt,
      };
    }
    throw refusalAsGrantNotEffective(e);
  }
}

/** The run operation's failure, when it has failed (undefined while it runs or when it cannot be read). */
async function operationFailure(deps: Deps, operation: string): Promise<string | undefined> {
  try {
    const ops = deps.clients.imageBuilder.virtualMachineImageTemplates;
    const poller = restorePoller(deps.clients.imageBuilder, operation, ops.run);
    try {
      await poller.poll();
    } catch (e) {
      // 404: the operation is gone (or never readable); lastRunStatus tells instead, not a failure.
      if (statusOf(e) === 404) return undefined;
      return classifyError(e).message;
    }
    const s = poller.operationState;
    if (s?.status === 'failed' || s?.status === 'canceled') {
      return s.error?.message ?? `the run operation ended ${s.status}`;
    }
  } catch (e) {
    deps.log(`run operation could not be read: ${(e as Error).message}`);
  }
  return undefined;
}

export async function getRunStatus(deps: Deps, input: RunHandle): Promise<RunStatus> {
  const rg = deps.config.resourceGroups.imageBuilder;
  const ops = deps.clients.imageBuilder.virtualMachineImageTemplates;
  const t = await ops.get(rg, input.templateName);
  const s = t.lastRunStatus;
  const startTime = s?.startTime?.toISOString();
  const stale =
    input.requestedAt !== undefined &&
    (startTime === undefined ||
      (input.previousRunStartTime !== undefined && startTime === input.previousRunStartTime));
  if (stale) {
    // lastRunStatus is still the previous run's (or absent): what did this run's operation do?
    const failed = input.operation ? await operationFailure(deps, input.operation) : undefined;
    return {
      runState: failed !== undefined ? 'Failed' : 'Running',
      runSubState: undefined,
      message: failed,
      startTime: undefined,
      endTime: undefined,
      artifactIds: [],
      stale: true,
    };
  }
  const artifactIds: string[] = [];
  if (s?.runState === 'Succeeded' || s?.runState === 'PartiallySucceeded') {
    for await (const o of ops.listRunOutputs(rg, input.templateName)) {
      if (o.artifactId && (o.provisioningState === undefined || o.provisioningState === 'Succeeded')) {
        artifactIds.push(o.artifactId);
      }
    }
  }
  return {
    runState: s?.runState,
    runSubState: s?.runSubState,
    message: s?.message,
    startTime,
    endTime: s?.endTime?.toISOString(),
    artifactIds,
  };
}

/** Asks Image Builder to cancel the running build (does not wait). A run that is not running is fine. */
export async function cancelRun(deps: Deps, input: RunRef): Promise<{ requested: boolean }> {
  try {
    const poller = deps.clients.imageBuilder.virtualMachineImageTemplates.cancel(
      deps.config.resourceGroups.imageBuilder,
      input.templateName,
    );
    await poller.submitted();
    deps.log(`cancel of ${input.templateName} requested`);
    return { requested: true };
  } catch (e) {
    // 404: no template; 409: no run in progress (already finished) — nothing to cancel.
    if (statusOf(e) === 404 || statusOf(e) === 409) return { requested: false };
    throw e;
  }
}
