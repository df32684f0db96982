/**
 * Starts a build of one definition, at most one at a time, for every entry point (HTTP, timers, Event Grid).
 *
 * Race safety, in three layers:
 * 1. the orchestration instance id is derived from the definition alone (`buildInstanceId`), so all starts
 *    for a definition compete for ONE id;
 * 2. a status check first: an active instance (Pending, Running, ContinuedAsNew, Suspended) means "already
 *    running" and nothing is started;
 * 3. the residual race (two callers both see no active instance and both call startNew) is settled by the task
 *    hub: host.json sets `overridableExistingInstanceStates: NonRunningStates`, so the second start of an id
 *    that is now Pending/Running is refused. The refused caller re-reads the status and reports the winner.
 *    Where both starts are accepted (the Azure Storage provider checks the existing instance on the client
 *    side, then de-duplicates the two ExecutionStarted messages at run time so that only one executes), each
 *    caller re-reads the instance after its start and reports the build the instance actually carries.
 */
import { statusOf } from '../azure/errors.js';
import { type BuildInput, type BuildTrigger, buildInstanceId } from '../orchestration/contracts.js';
import type { BuildRecordStore } from '../records/build-records.js';
import { newBuildId } from './build-id.js';
import {
  type BuildOrchestrations,
  buildIdOf,
  type InstanceSnapshot,
  isActive,
} from './orchestration-port.js';

export interface StartBuildRequest {
  readonly definition: string;
  readonly trigger: BuildTrigger;
  readonly reason: string;
  readonly requestedBy: string;
  readonly force?: boolean | undefined;
  /** Durable wait before the build's first step (the monthly rebuild's start spread). */
  readonly startDelaySeconds?: number | undefined;
}

export type StartBuildOutcome =
  | {
      readonly outcome: 'started';
      readonly instanceId: string;
      readonly buildId: string;
      readonly input: BuildInput;
    }
  | {
      readonly outcome: 'already-running';
      readonly instanceId: string;
      /** The running build's id (undefined only if the instance carries none). */
      readonly buildId: string | undefined;
      readonly runtimeStatus: InstanceSnapshot['runtimeStatus'];
    };

export interface StartBuildDeps {
  readonly orchestrations: BuildOrchestrations;
  /** When given, the build's record is created (status Queued) right after the start is accepted. */
  readonly records?: Pick<BuildRecordStore, 'create'> | undefined;
  readonly log?: { warn(message: string): void } | undefined;
  readonly now?: () => Date;
  readonly newId?: (definition: string, at: Date) => string;
}

function running(snapshot: InstanceSnapshot): StartBuildOutcome {
  return {
    outcome: 'already-running',
    instanceId: snapshot.instanceId,
    buildId: buildIdOf(snapshot),
    runtimeStatus: snapshot.runtimeStatus,
  };
}

export async function startBuild(
  deps: StartBuildDeps,
  request: StartBuildRequest,
): Promise<StartBuildOutcome> {
  const instanceId = buildInstanceId(request.definition);
  const existing = await deps.orchestrations.status(instanceId);
  if (existing && isActive(existing.runtimeStatus)) return running({ ...existing, instanceId });

  const at = (deps.now ?? (() => new Date()))();
  const buildId = (deps.newId ?? newBuildId)(request.definition, at);
  const input: BuildInput = {
    buildId,
    definition: request.definition,
    trigger: request.trigger,
    reason: request.reason,
    requestedBy: request.requestedBy,
    force: request.force ?? false,
    requestedAt: at.toISOString(),
    ...(request.startDelaySeconds ? { startDelaySeconds: request.startDelaySeconds } : {}),
  };
  try {
    await deps.orchestrations.start(instanceId, input);
  } catch (e) {
    // Refused by the task hub (another start won the race) - or a real failure: the status tells which.
    const now = await deps.orchestrations.status(instanceId).catch(() => undefined);
    if (!now || !isActive(now.runtimeStatus)) throw e;
    // An error after the start was accepted (e.g. a lost response) still means this build runs.
    if (buildIdOf(now) === buildId) {
      await recordAccepted(deps, instanceId, input);
      return { outcome: 'started', instanceId, buildId, input };
    }
    return running({ ...now, instanceId });
  }
  // Confirm: a backend that accepts both racing starts (Azure Storage de-duplicates the ExecutionStarted
  // messages at run time and keeps the instance row's last writer) shows the winner's input here.
  const confirm = await deps.orchestrations.status(instanceId).catch(() => undefined);
  const winner = confirm ? buildIdOf(confirm) : undefined;
  if (confirm && isActive(confirm.runtimeStatus) && winner !== undefined && winner !== buildId) {
    return running({ ...confirm, instanceId });
  }
  await recordAccepted(deps, instanceId, input);
  return { outcome: 'started', instanceId, buildId, input };
}

/**
 * The row exists from the start so that listings show the build at once; the orchestration merges into it.
 * Written only after the start was accepted, so a refused start leaves no orphan row.
 */
async function recordAccepted(deps: StartBuildDeps, instanceId: string, input: BuildInput): Promise<void> {
  if (!deps.records) return;
  try {
    await deps.records.create({
      buildId: input.buildId,
      definition: input.definition,
      requestedAt: input.requestedAt,
      trigger: input.trigger,
      reason: input.reason,
      requestedBy: input.requestedBy,
      instanceId,
      status: 'Queued',
    });
  } catch (e) {
    // 409: the orchestration wrote it first (the usual order), nothing to do. Anything else: the build
    // runs anyway and records itself.
    if (statusOf(e) === 409) return;
    deps.log?.warn(`build ${input.buildId}: its record was not created here: ${(e as Error).message}`);
  }
}
