/**
 * The build's steps, typed: one entry per activity, with the activity function it runs. The name, the
 * input type and the result type come from this one place: `callStep(df, steps.startRun, input)` checks
 * the input against the activity's parameter and returns the activity's result type, and
 * src/functions/build-activities.ts registers every entry. Adding a step is adding one line here (see
 * docs/contributing.md).
 */
import type { ActivityDeps } from '../activities/deps.js';
import { cleanupPartialImages } from '../activities/image/cleanup-partial.js';
import { promoteImage } from '../activities/image/promote-image.js';
import { archiveBuildLogs } from '../activities/logs/archive-build-logs.js';
import { prepareBuild } from '../activities/prepare-build.js';
import { recordBuild } from '../activities/record-build.js';
import { grantImageContributor } from '../activities/roles/image-contributor.js';
import { revokeUnlessOthersRunning } from '../activities/roles/janitor.js';
import { cancelRun, startRun } from '../activities/run/image-run.js';
import { pollRunStatus } from '../activities/run/poll-status.js';
import { recordedStep } from '../activities/run-step.js';
import { collectSupplyChain } from '../activities/supply-chain/collect-supply-chain.js';
import { deployTemplate } from '../activities/template/deploy-template.js';

/** One step: the activity name and the function the activity runs. */
export interface Step<N extends string = string, I = never, O = unknown> {
  readonly name: N;
  readonly run: (deps: ActivityDeps, input: I) => Promise<O>;
}

// biome-ignore lint/suspicious/noExplicitAny: the widest step, for constraints only
export type AnyStep = Step<string, any, unknown>;
export type StepInput<S extends AnyStep> = Parameters<S['run']>[1];
export type StepResult<S extends AnyStep> = Awaited<ReturnType<S['run']>>;

/** A step named `name` that runs `run` (which may take any part of ActivityDeps). */
export function defineStep<const N extends string, I, O>(
  name: N,
  run: (deps: ActivityDeps, input: I) => Promise<O>,
): Step<N, I, O> {
  return { name, run };
}

export const steps = {
  prepare: defineStep('buildPrepare', recordedStep(prepareBuild)),
  grantImageContributor: defineStep('buildGrantImageContributor', recordedStep(grantImageContributor)),
  deployTemplate: defineStep('buildDeployTemplate', recordedStep(deployTemplate)),
  startRun: defineStep('buildStartRun', recordedStep(startRun)),
  runStatus: defineStep('buildGetRunStatus', pollRunStatus),
  cancelRun: defineStep('buildCancelRun', recordedStep(cancelRun)),
  cleanupPartialImages: defineStep('buildCleanupPartialImages', cleanupPartialImages),
  archiveLogs: defineStep('buildArchiveLogs', recordedStep(archiveBuildLogs)),
  collectSupplyChain: defineStep('buildCollectSupplyChain', collectSupplyChain),
  revokeImageContributor: defineStep('buildRevokeImageContributor', recordedStep(revokeUnlessOthersRunning)),
  promoteImage: defineStep('buildPromoteImage', promoteImage),
  recordBuild: defineStep('buildRecord', recordBuild),
} as const;

export type StepKey = keyof typeof steps;

/** Activity names, derived from the registry. */
export const ACTIVITY = Object.fromEntries(Object.entries(steps).map(([k, s]) => [k, s.name])) as {
  readonly [K in StepKey]: (typeof steps)[K]['name'];
};

/** Every step, for registration. */
export const ALL_STEPS: readonly AnyStep[] = Object.values(steps);

/** Sub-orchestration that polls a run until it ends or the deadline passes (continue-as-new in between). */
export const POLL_RUN_ORCHESTRATOR = 'buildPollRunOrchestrator';

/** Timer function that removes stale Image Contributor grants. */
export const JANITOR_TIMER = 'buildImageContributorJanitor';
