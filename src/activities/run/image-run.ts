/**
 * The Image Builder run: start it without waiting for the long-running operation (builds take 20-60
 * minutes; activities must stay short), read its status, cancel it.
 */
import { statusOf } from '../../azure/errors.js';
import type { ActivityDeps } from '../deps.js';

export interface RunRef {
  readonly templateName: string;
}

export interface RunStatus {
  readonly runState: string | undefined;
  readonly runSubState: string | undefined;
  readonly message: string | undefined;
  readonly startTime: string | undefined;
  readonly endTime: string | undefined;
  /** Artifact ids of the run outputs (managed image id, gallery version id), when the run ended well. */
  readonly artifactIds: readonly string[];
}

export const TERMINAL_RUN_STATES = ['Succeeded', 'PartiallySucceeded', 'Failed', 'Canceled'] as const;

export function isTerminalRunState(state: string | undefined): boolean {
  return state !== undefined && (TERMINAL_RUN_STATES as readonly string[]).includes(state);
}

type Deps = Pick<ActivityDeps, 'config' | 'clients' | 'log'>;

const MANAGED_IMAGE_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/images\/([^/]+)$/i;

/**
 * A managed image cannot be overwritten by a distribution (Image Builder fails at Distributing). A rerun of
 * an unchanged template (forced build) targets the same, content-named image: the previous image of
 * identical content is deleted first. Returns the ids deleted.
 */
export async function clearManagedImageTargets(
  deps: Deps & Pick<ActivityDeps, 'sleep'>,
  input: RunRef,
): Promise<string[]> {
  const t = await deps.clients.imageBuilder.virtualMachineImageTemplates.get(
    deps.config.resourceGroups.imageBuilder,
    input.templateName,
  );
  const deleted: string[] = [];
  for (const d of t.distribute ?? []) {
    const imageId =
      (d as { type?: string; imageId?: string }).type === 'ManagedImage'
        ? (d as { imageId?: string }).imageId
        : undefined;
    const m = imageId ? MANAGED_IMAGE_ID.exec(imageId) : null;
    if (!imageId || !m) continue;
    try {
      await deps.clients.compute.images.get(m[1]!, m[2]!);
    } catch (e) {
      if (statusOf(e) === 404) continue;
      throw e;
    }
    await deps.clients.compute.images.beginDeleteAndWait(m[1]!, m[2]!, { updateIntervalInMs: 1000 });
    deleted.push(imageId);
    deps.log(
      `deleted ${imageId}: a rerun of ${input.templateName} rebuilds this image (same content) under the same name`,
    );
  }
  return deleted;
}

/** Sends the run request (accepted = 202 with an operation to poll) and returns at once. */
export async function startRun(
  deps: Deps & Pick<ActivityDeps, 'sleep'>,
  input: RunRef,
): Promise<{ startedAt: string; replacedImages: string[] }> {
  const replacedImages = await clearManagedImageTargets(deps, input);
  const rg = deps.config.resourceGroups.imageBuilder;
  const ops = deps.clients.imageBuilder.virtualMachineImageTemplates;
  try {
    const poller = ops.run(rg, input.templateName);
    await poller.submitted();
  } catch (e) {
    // 409 "already has a build in progress": an earlier attempt of this step started the run and its
    // answer was lost (timed out, connection reset, host crashed after the request). The orchestration
    // owns the template, so that run is this build's: carry on polling it instead of failing.
    if (statusOf(e) !== 409) throw e;
    const t = await ops.get(rg, input.templateName);
    if (t.lastRunStatus?.runState !== 'Running') throw e;
    deps.log(`run of ${input.templateName} already in progress (started by an earlier attempt); polling it`);
    return { startedAt: (t.lastRunStatus.startTime ?? new Date()).toISOString(), replacedImages };
  }
  deps.log(`run of ${input.templateName} accepted`);
  return { startedAt: new Date().toISOString(), replacedImages };
}

export async function getRunStatus(deps: Deps, input: RunRef): Promise<RunStatus> {
  const rg = deps.config.resourceGroups.imageBuilder;
  const ops = deps.clients.imageBuilder.virtualMachineImageTemplates;
  const t = await ops.get(rg, input.templateName);
  const s = t.lastRunStatus;
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
    startTime: s?.startTime?.toISOString(),
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
