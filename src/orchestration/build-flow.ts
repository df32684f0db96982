/**
 * The build orchestration (deterministic: time only from the replay-safe clock, I/O only in activities),
 * in three parts:
 *
 *   prepare        one step (buildPrepare): preflight → builder identity → persistent roles → source
 *                  version → polling plan → (unforced) up-to-date check
 *   runWithGrant   grant Image Contributor on every distribution target → template → start run → poll
 *                  (one sub-orchestration per run that continues as new; cancel event; deadline → cancel)
 *                  finally: clean up a partial distribution (cancelled or failed run) → archive logs
 *                  → SBOM/report/provenance from the archived log → revoke Image Contributor — on success, failure, timeout, cancel (also while waiting
 *                  for the grant) and unexpected errors
 *   finish         promote the image (current marker, retention) → record → notify
 *
 * The grant is made before the template is created, so that role-assignment propagation runs alongside the
 * template creation. A run (or template creation) that Image Builder refuses for lack of rights is "not yet
 * effective": the flow shows phase `waiting-for-grant` and retries on durable timers with backoff until the
 * grant is GRANT_PROPAGATION_TIMEOUT_MINUTES old, then fails with GrantPropagationTimeout.
 *
 * Custom status: BuildProgress. Output: BuildOutput. Every phase is written to the build record — by the
 * step that starts the phase (its input carries the record patch, src/activities/run-step.ts), so that a
 * phase costs no activity call of its own; the final record is a step of its own on every path.
 * History per build: docs/architecture.md.
 */
import type { BuilderIdentity } from '../activities/builder-identity.js';
import { GRANT_NOT_EFFECTIVE, type RunHandle, type RunStatus } from '../activities/run/image-run.js';
import type { PhaseRecord } from '../activities/run-step.js';
import type {
  CollectSupplyChainInput,
  SupplyChainResult,
} from '../activities/supply-chain/collect-supply-chain.js';
import type { BuildRecordPatch, BuildRef, BuildStatus } from '../records/build-records.js';
import type { FlowLogger } from '../telemetry/logger.js';
import { callStep, StepFailure } from './activity-call.js';
import { type BuildFailure, FAILURE, failureOf } from './build-failure.js';
import {
  type BuildInput,
  type BuildOutput,
  type BuildPhase,
  type BuildProgress,
  type BuildResult,
  CANCEL_EVENT,
  NOTIFY_ACTIVITY,
  type SupplyChainFields,
} from './contracts.js';
import type { DurableTask, Flow, OrchestrationPort } from './durable-port.js';
import { grantWaitSeconds } from './grant-wait.js';
import type { PollRunInput, PollRunOutcome } from './poll-run.js';
import { nextPollDelaySeconds, type PollingPolicy } from './polling-schedule.js';
import { cancelNotConfirmed, deadlineFailure, type RunContext, terminalVerdict } from './run-outcome.js';
import { waitForStartSlot } from './start-delay.js';
import { type AnyStep, POLL_RUN_ORCHESTRATOR, type StepInput, type StepResult, steps } from './steps.js';

export { isImageBuilderTimeout } from './run-outcome.js';

/** Extra time after the deadline for a cancelled run to reach Canceled before the build gives up on it. */
export const CANCEL_GRACE_SECONDS = 30 * 60;

export interface PollingPlan extends PollingPolicy {
  /** Where the logs of this build will be archived (shown before they exist). */
  readonly logLocation: string;
  /** How long after the grant a refusal still counts as "not yet effective" (GRANT_PROPAGATION_TIMEOUT_MINUTES). */
  readonly grantPropagationTimeoutSeconds: number;
}

interface FlowState {
  phase: BuildPhase;
  templateName?: string | undefined;
  sourceVersion?: string | undefined;
  runState?: string | undefined;
  runSubState?: string | undefined;
  nextPollAt?: string | undefined;
  logLocation?: string | undefined;
  imageId?: string | undefined;
  logs: string[];
  error?: BuildFailure | undefined;
  logArchivalError?: BuildFailure | undefined;
  phaseTimestamps: Record<string, string>;
  durations: Record<string, number>;
  /** When the grant was made, and (once known) when it took effect / was removed. */
  grantedAt?: Date | undefined;
  grantEffectiveAt?: Date | undefined;
  grantRevokedAt?: Date | undefined;
  /** Authorization refusals seen while waiting for the grant. */
  grantRefusals: number;
  /** Image Builder status polls so far (telemetry). */
  polls: number;
  /** Since when the build waits for the grant (shown in the status). */
  waitingSince?: Date | undefined;
  /** SBOM, provenance and vulnerability counts collected after archival (src/supply-chain). */
  supplyChain?: SupplyChainResult | undefined;
  /** Every artifact of a successful run (managed image, gallery versions): all get the provenance tags. */
  artifactIds?: readonly string[] | undefined;
}

function validateInput(raw: unknown): BuildInput {
  const i = raw as Partial<BuildInput> | undefined;
  for (const f of ['buildId', 'definition', 'requestedAt'] as const) {
    if (!i || typeof i[f] !== 'string' || i[f] === '') {
      throw new Error(
        `BuildInput.${f} is required (a non-empty string); start builds through POST /api/builds`,
      );
    }
  }
  return i as BuildInput;
}

const seconds = (from: Date, to: Date) => Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));

/** UTC yyyyMMdd of a date (the managed image name's date part). */
export function utcDateStamp(d: Date): string {
  return d.toISOString().slice(0, 10).replace(/-/g, '');
}

const SILENT: FlowLogger = { info: () => {}, warn: () => {}, error: () => {} };

export function* buildFlow(df: OrchestrationPort, log: FlowLogger = SILENT): Flow<BuildOutput> {
  const input = validateInput(df.getInput());
  yield* waitForStartSlot(df, input);
  const startedAt = df.currentUtcDateTime;
  const ref: BuildRef = {
    buildId: input.buildId,
    definition: input.definition,
    requestedAt: input.requestedAt,
  };
  const state: FlowState = {
    phase: 'queued',
    logs: [],
    phaseTimestamps: {},
    durations: {},
    grantRefusals: 0,
    polls: 0,
  };
  const now = () => df.currentUtcDateTime;
  let phaseStart = startedAt;

  const grantView = () =>
    state.grantedAt
      ? {
          grantedAt: state.grantedAt.toISOString(),
          ...(state.waitingSince && !state.grantEffectiveAt
            ? { grantWaitSeconds: seconds(state.grantedAt, now()) }
            : {}),
          ...(state.grantEffectiveAt
            ? { grantPropagationSeconds: seconds(state.grantedAt, state.grantEffectiveAt) }
            : {}),
        }
      : {};

  const publish = () =>
    df.setCustomStatus({
      buildId: input.buildId,
      definition: input.definition,
      phase: state.phase,
      runState: state.runState,
      runSubState: state.runSubState,
      templateName: state.templateName,
      startedAt: startedAt.toISOString(),
      elapsedSeconds: seconds(startedAt, now()),
      nextPollAt: state.nextPollAt,
      logLocation: state.logLocation,
      ...grantView(),
    } satisfies BuildProgress);

  /** The final record (and rare phases): a record step of its own. */
  function* record(patch: BuildRecordPatch): Flow<void> {
    try {
      yield* callStep(df, steps.recordBuild, { ref, patch });
    } catch (e) {
      // A record that cannot be written must not fail (or hide) the build itself.
      log.warn(`build record update failed: ${(e as Error).message}`);
    }
  }

  /** Enters a phase (durations, custom status) and returns its record, for the step that starts it. */
  function mark(phase: BuildPhase, extra: BuildRecordPatch = {}): PhaseRecord {
    if (state.phase !== 'queued')
      state.durations[state.phase] = (state.durations[state.phase] ?? 0) + seconds(phaseStart, now());
    phaseStart = now();
    state.phase = phase;
    state.phaseTimestamps[phase] = phaseStart.toISOString();
    publish();
    return {
      ref,
      patch: { status: 'Running', phase, phaseTimestamps: { [phase]: phaseStart.toISOString() }, ...extra },
    };
  }

  /** Enters a phase that no step starts (waiting for the grant): recorded by a record step. */
  function* enter(phase: BuildPhase, extra: BuildRecordPatch = {}): Flow<void> {
    yield* record(mark(phase, extra).patch);
  }

  const ctx: Ctx = { df, input, ref, state, log, publish, record, mark, enter, now };
  const prepared = yield* prepare(ctx);
  let result: BuildResult = prepared.result;
  let runSeconds: number | undefined;
  if (prepared.proceed && prepared.identity && prepared.plan && prepared.sourceVersion) {
    const r = yield* runWithGrant(ctx, prepared.identity, prepared.plan, prepared.sourceVersion);
    result = r.result;
    runSeconds = r.runSeconds;
  }
  return yield* finish(ctx, result, prepared.upToDate, runSeconds, startedAt);
}

interface Ctx {
  readonly df: OrchestrationPort;
  readonly input: BuildInput;
  readonly ref: BuildRef;
  readonly state: FlowState;
  readonly log: FlowLogger;
  readonly publish: () => void;
  readonly record: (patch: BuildRecordPatch) => Flow<void>;
  readonly mark: (phase: BuildPhase, extra?: BuildRecordPatch) => PhaseRecord;
  readonly enter: (phase: BuildPhase, extra?: BuildRecordPatch) => Flow<void>;
  readonly now: () => Date;
}

interface Prepared {
  readonly result: BuildResult;
  readonly proceed: boolean;
  readonly upToDate: boolean;
  readonly identity?: BuilderIdentity | undefined;
  readonly plan?: PollingPlan | undefined;
  readonly sourceVersion?: string | undefined;
}

/** Everything read-only or persistent before the grant, in one step; decides whether there is anything to build. */
function* prepare(c: Ctx): Flow<Prepared> {
  const { df, input, state } = c;
  try {
    const record = c.mark('preflight', {
      trigger: input.trigger,
      reason: input.reason,
      requestedBy: input.requestedBy,
      instanceId: df.instanceId,
      startedAt: c.now().toISOString(),
    });
    const p = yield* callStep(df, steps.prepare, {
      definition: input.definition,
      buildId: input.buildId,
      force: input.force,
      record,
    });
    state.sourceVersion = p.sourceVersion;
    state.logLocation = p.plan.logLocation;
    const check = p.upToDate;
    if (check?.upToDate && check.imageId) {
      c.log.info(`up to date: ${check.reason}`);
      state.templateName = check.templateName;
      state.imageId = check.imageId;
      state.logLocation = undefined;
      return { result: 'Succeeded', proceed: false, upToDate: true };
    }
    return {
      result: 'Failed',
      proceed: true,
      upToDate: false,
      identity: p.identity,
      plan: p.plan,
      sourceVersion: p.sourceVersion,
    };
  } catch (e) {
    state.error = failureOf(e);
    c.log.error(`build failed in ${state.phase}: ${state.error.code}: ${state.error.message}`);
    return { result: 'Failed', proceed: false, upToDate: false };
  }
}

/**
 * Calls a step that Image Builder may refuse while the grant is not yet effective (template creation with
 * a gallery target, the run), entering phase `phase` (its record goes with the step). A GrantNotEffective
 * failure is retried on durable timers with backoff until the grant is `timeoutSeconds` old; meanwhile the
 * phase is `waiting-for-grant`, and a cancel request ends the wait ('cancelled').
 */
function* callWithGrant<S extends AnyStep>(
  c: Ctx,
  step: S,
  stepInput: (record: PhaseRecord | undefined) => StepInput<S>,
  phase: BuildPhase,
  extra: BuildRecordPatch,
  timeoutSeconds: number,
  cancelEvent: DurableTask,
): Flow<StepResult<S> | 'cancelled'> {
  const { df, state } = c;
  for (let refusal = 0; ; ) {
    try {
      // The first attempt starts the phase (its record goes with the step); retries while waiting for the
      // grant keep phase waiting-for-grant, and the phase is entered again (a record step) once it works.
      const waiting = state.waitingSince !== undefined;
      const record = waiting ? undefined : c.mark(phase, extra);
      const value = yield* callStep(df, step, stepInput(record));
      if (waiting) {
        state.waitingSince = undefined;
        yield* c.enter(phase, extra);
      }
      return value;
    } catch (e) {
      if (!(e instanceof StepFailure) || e.failure.code !== GRANT_NOT_EFFECTIVE || !state.grantedAt) throw e;
      refusal++;
      state.grantRefusals++;
      const waited = seconds(state.grantedAt, c.now());
      const delay = grantWaitSeconds(refusal, waited, timeoutSeconds);
      if (delay === 0) {
        throw new StepFailure(
          step.name,
          {
            kind: 'permanent',
            code: FAILURE.grantPropagationTimeout,
            message: `the Image Contributor grant did not take effect within ${Math.round(timeoutSeconds / 60)} minutes of being made (role assignment propagation; Image Builder refused ${state.grantRefusals} time(s)). Image Builder said: ${e.failure.message}. If the assignment exists, raise GRANT_PROPAGATION_TIMEOUT_MINUTES; otherwise check IMAGE_CONTRIBUTOR_ROLE_ID and the app's right to assign it on every distribution target (docs/troubleshooting.md)`,
          },
          refusal,
        );
      }
      if (!state.waitingSince) {
        state.waitingSince = c.now();
        yield* c.enter('waiting-for-grant');
      }
      c.log.info(
        `${step.name} refused (grant not yet effective ${waited}s after it was made); next try in ${delay}s`,
      );
      const fireAt = new Date(c.now().getTime() + delay * 1000);
      state.nextPollAt = fireAt.toISOString();
      c.publish();
      const winner = yield df.Task.any([df.createTimer(fireAt), cancelEvent]);
      state.nextPollAt = undefined;
      if (winner === cancelEvent) return 'cancelled';
    }
  }
}

interface RunResult {
  readonly result: BuildResult;
  readonly runSeconds?: number | undefined;
}

/** The grant and everything it covers; the finally removes it on every path. */
function* runWithGrant(
  c: Ctx,
  identity: BuilderIdentity,
  plan: PollingPlan,
  sourceVersion: string,
): Flow<RunResult> {
  const { df, input, state } = c;
  let result: BuildResult = 'Failed';
  let run: RunHandle | undefined;
  let runStartedAt: Date | undefined;
  let runEndedAt: Date | undefined;
  let grantAttempted = false;
  let partial = false;
  // A cancel request that arrives before the run starts (e.g. while waiting for the grant) is honoured too.
  const cancelEvent = df.waitForExternalEvent(CANCEL_EVENT);
  try {
    grantAttempted = true;
    const grant = yield* callStep(df, steps.grantImageContributor, {
      definition: input.definition,
      principalId: identity.principalId,
      record: c.mark('grant', { sourceImageVersion: sourceVersion }),
    });
    state.grantedAt = c.now();
    c.log.info(`Image Contributor granted on ${grant.scopes.join(', ')}`);

    const template = yield* callWithGrant(
      c,
      steps.deployTemplate,
      (record) => ({
        definition: input.definition,
        buildId: input.buildId,
        sourceVersion,
        builderIdentityId: identity.id,
        imageDate: utcDateStamp(c.now()),
        record,
      }),
      'template',
      {},
      plan.grantPropagationTimeoutSeconds,
      cancelEvent,
    );
    let started: RunHandle | 'cancelled' = 'cancelled';
    if (template !== 'cancelled') {
      state.templateName = template.templateName;
      state.logs.push(...template.archivedLogs);
      c.log.info(`template ${template.templateName}: ${template.action} (${template.reason})`);
      // requestedAfter: fixed when first asked, so a retry adopts a run an earlier attempt started.
      const requestedAfter = c.now().toISOString();
      started = yield* callWithGrant(
        c,
        steps.startRun,
        (record) => ({ templateName: template.templateName, requestedAfter, record }),
        'run',
        { templateName: template.templateName },
        plan.grantPropagationTimeoutSeconds,
        cancelEvent,
      );
    }
    if (started === 'cancelled') {
      result = 'Canceled';
      state.error = {
        code: FAILURE.canceledByRequest,
        message:
          'the build was cancelled on request while it waited for the Image Contributor grant to take effect',
      };
    } else {
      run = started;
      state.grantEffectiveAt = c.now();
      runStartedAt = c.now();
      const polling = c.mark('polling', {
        runState: 'Running',
        grantPropagationSeconds: seconds(state.grantedAt, state.grantEffectiveAt),
      });
      const outcome = yield* pollUntilDone(c, run, plan, runStartedAt, cancelEvent, polling.patch);
      runEndedAt = c.now();
      result = outcome.result;
      if (outcome.error) state.error = outcome.error;
      state.runState = outcome.status?.runState ?? state.runState;
      state.runSubState = outcome.status?.runSubState ?? state.runSubState;
      if (result === 'Succeeded') state.imageId = outcome.status?.artifactIds[0];
      if (result === 'Succeeded') state.artifactIds = outcome.status?.artifactIds;
      partial = result !== 'Succeeded';
    }
  } catch (e) {
    result = 'Failed';
    state.error = failureOf(e);
    c.log.error(`build failed in ${state.phase}: ${state.error.code}: ${state.error.message}`);
    if (run && !runEndedAt) {
      partial = true;
      // The run may still be going (e.g. its status could not be read): ask Image Builder to stop it.
      try {
        yield* callStep(df, steps.cancelRun, { templateName: run.templateName });
      } catch (ce) {
        c.log.warn(`cancel after failure failed: ${(ce as Error).message}`);
      }
    }
  } finally {
    if (run && partial) {
      // Cancelled or failed runs can leave a partial image or gallery version behind
      // (image-builder-troubleshoot.md): remove what this run distributed before anything else.
      try {
        yield* callStep(df, steps.cleanupPartialImages, {
          definition: input.definition,
          templateName: run.templateName,
        });
      } catch (e) {
        c.log.warn(`cleaning up a partial distribution failed: ${(e as Error).message}`);
      }
    }
    if (run) {
      try {
        const archived = yield* callStep(df, steps.archiveLogs, {
          definition: input.definition,
          buildId: input.buildId,
          templateName: run.templateName,
          runState: state.runState ?? 'unknown',
          record: c.mark('archiving'),
        });
        state.logs.push(...archived.logs);
      } catch (e) {
        c.log.warn(`log archival failed: ${(e as Error).message}`);
        state.logArchivalError = { code: FAILURE.logArchivalFailed, message: (e as Error).message };
        state.error ??= state.logArchivalError;
      }
      yield* collectSupplyChain(c, {
        definition: input.definition,
        buildId: input.buildId,
        requestedAt: input.requestedAt,
        templateName: run.templateName,
        sourceVersion,
        builderIdentityId: identity.id,
        result,
        imageId: state.imageId,
        runStartedAt: runStartedAt?.toISOString(),
        runEndedAt: runEndedAt?.toISOString(),
        at: c.now().toISOString(),
      });
    }
    if (grantAttempted) {
      try {
        yield* callStep(df, steps.revokeImageContributor, {
          principalId: identity.principalId,
          definition: input.definition,
          buildId: input.buildId,
          now: c.now().toISOString(),
          record: c.mark('revoking'),
        });
        state.grantRevokedAt = c.now();
      } catch (e) {
        // The janitor removes it later; the build still reports what happened.
        c.log.warn(`revoking Image Contributor failed (the janitor will retry): ${(e as Error).message}`);
      }
    }
  }
  const runSeconds = runStartedAt && runEndedAt ? seconds(runStartedAt, runEndedAt) : undefined;
  return { result, runSeconds };
}

/** SBOM, report and provenance from the archived log; a gate failure names the finding (src/supply-chain). */
function* collectSupplyChain(c: Ctx, stepInput: CollectSupplyChainInput): Flow<void> {
  try {
    const sc = yield* callStep(c.df, steps.collectSupplyChain, stepInput);
    c.state.supplyChain = sc;
    if (sc.failure && (!c.state.error || c.state.error.code === FAILURE.runFailed))
      c.state.error = sc.failure;
  } catch (e) {
    // The image and its logs do not depend on it; the record shows no SBOM/provenance links.
    c.log.warn(`collecting the SBOM and provenance failed: ${(e as Error).message}`);
  }
}

/** Record and output of the build, the image promoted when it succeeded, the notification. */
function* finish(
  c: Ctx,
  result: BuildResult,
  upToDate: boolean,
  runSeconds: number | undefined,
  startedAt: Date,
): Flow<BuildOutput> {
  const { df, input, state } = c;
  if (result === 'Succeeded' && state.imageId && !upToDate) {
    try {
      yield* callStep(df, steps.promoteImage, {
        definition: input.definition,
        imageId: state.imageId,
        buildId: input.buildId,
        builtAt: c.now().toISOString(),
        artifactIds: state.artifactIds,
        provenance: state.supplyChain?.provenance,
        provenanceSha256: state.supplyChain?.provenanceSha256,
      });
    } catch (e) {
      c.log.warn(`promoting the image failed: ${(e as Error).message}`);
    }
  }

  // The final record below is the recording phase (no record of its own).
  c.mark('recording');
  state.durations.recording = 0;
  const totalSeconds = seconds(startedAt, c.now());
  const grantSeconds =
    state.grantedAt && state.grantRevokedAt ? seconds(state.grantedAt, state.grantRevokedAt) : undefined;
  const grantPropagationSeconds =
    state.grantedAt && state.grantEffectiveAt ? seconds(state.grantedAt, state.grantEffectiveAt) : undefined;
  const grant =
    state.grantedAt !== undefined
      ? {
          grantedAt: state.grantedAt.toISOString(),
          ...(grantSeconds !== undefined ? { grantSeconds } : {}),
          ...(grantPropagationSeconds !== undefined ? { propagationSeconds: grantPropagationSeconds } : {}),
          refusals: state.grantRefusals,
        }
      : undefined;
  const sc = supplyChainView(state.supplyChain);
  const output: BuildOutput = {
    buildId: input.buildId,
    definition: input.definition,
    result,
    imageId: state.imageId,
    sourceImageVersion: state.sourceVersion,
    templateName: state.templateName,
    logs: [...new Set(state.logs)],
    error: state.error,
    ...(state.logArchivalError ? { logArchivalError: state.logArchivalError } : {}),
    durations: {
      ...state.durations,
      ...(runSeconds !== undefined ? { run: runSeconds } : {}),
      total: totalSeconds,
    },
    ...(grant ? { grant } : {}),
    ...(upToDate ? { upToDate: true } : {}),
    ...sc,
  };
  state.phase = 'done';
  c.publish();
  yield* c.record({
    status: result as BuildStatus,
    phase: 'done',
    runState: state.runState,
    runSubState: state.runSubState,
    imageId: state.imageId,
    templateName: state.templateName,
    sourceImageVersion: state.sourceVersion,
    logUrls: output.logs,
    error: state.error,
    logArchivalError: state.logArchivalError,
    finishedAt: c.now().toISOString(),
    durationSeconds: totalSeconds,
    runDurationSeconds: result === 'Succeeded' ? runSeconds : undefined,
    phaseTimestamps: { done: c.now().toISOString() },
    grantSeconds,
    grantPropagationSeconds,
    grantRefusals: state.grantedAt !== undefined ? state.grantRefusals : undefined,
    polls: state.polls,
    ...(upToDate ? { upToDate: true } : {}),
    ...sc,
  });
  try {
    yield df.callActivity(NOTIFY_ACTIVITY, output);
  } catch (e) {
    c.log.warn(`notification failed: ${(e as Error).message}`);
  }
  return output;
}

/** The build's supply-chain fields (record and output): links, their SHA-256 and counts, only those that exist. */
function supplyChainView(sc: SupplyChainResult | undefined): SupplyChainFields {
  if (!sc) return {};
  return {
    ...(sc.sbom ? { sbom: sc.sbom } : {}),
    ...(sc.sbom && sc.sbomSha256 ? { sbomSha256: sc.sbomSha256 } : {}),
    ...(sc.provenance ? { provenance: sc.provenance } : {}),
    ...(sc.provenance && sc.provenanceSha256 ? { provenanceSha256: sc.provenanceSha256 } : {}),
    ...(sc.vulnerabilities ? { vulnerabilities: sc.vulnerabilities } : {}),
    ...(sc.vulnerabilities && sc.vulnerabilitiesSha256
      ? { vulnerabilitiesSha256: sc.vulnerabilitiesSha256 }
      : {}),
  };
}

interface PollResult {
  readonly result: BuildResult;
  readonly status: RunStatus | undefined;
  readonly error?: BuildFailure | undefined;
}

function* pollUntilDone(
  c: Ctx,
  run: RunHandle,
  plan: PollingPlan,
  runStartedAt: Date,
  cancelEvent: DurableTask,
  pollingPatch: BuildRecordPatch,
): Flow<PollResult> {
  const { df, input, state } = c;
  let policy: PollingPolicy = {
    minIntervalSeconds: plan.minIntervalSeconds,
    maxIntervalSeconds: plan.maxIntervalSeconds,
    expectedSeconds: plan.expectedSeconds,
    deadlineSeconds: plan.deadlineSeconds,
  };
  let cancelRequested = false;
  let timedOut = false;
  const runCtx = (): RunContext => ({
    cancelRequested,
    timedOut,
    deadlineMinutes: Math.round(plan.deadlineSeconds / 60),
  });
  /** Asks Image Builder to cancel the run (user request or deadline); the step records the phase. */
  function* requestCancel(): Flow<void> {
    cancelRequested = true;
    state.phase = 'cancelling';
    c.publish();
    yield* callStep(df, steps.cancelRun, {
      templateName: run.templateName,
      record: {
        ref: c.ref,
        patch: { phase: 'cancelling', phaseTimestamps: { cancelling: df.currentUtcDateTime.toISOString() } },
      },
    });
  }
  let firstPoll = true;
  let last: RunStatus | undefined;
  // One polling sub-orchestration per run; a second one only after the deadline (or a cancel) to wait for
  // the cancellation within its grace period.
  for (let episode = 0; ; episode++) {
    const pollInput: PollRunInput = {
      templateName: run.templateName,
      run,
      policy,
      runStartedAt: runStartedAt.toISOString(),
      lastRunState: state.runState,
      lastSubState: state.runSubState,
      firstPoll,
      ref: c.ref,
      ...(firstPoll ? { patch: pollingPatch } : {}),
    };
    // The first timer, as the sub-orchestration will compute it (shown in the custom status).
    const firstDelay = nextPollDelaySeconds(policy, {
      elapsedSeconds: elapsedSince(df, runStartedAt),
      runSubState: state.runSubState,
      firstPoll,
    });
    state.nextPollAt =
      firstDelay > 0
        ? new Date(df.currentUtcDateTime.getTime() + firstDelay * 1000).toISOString()
        : undefined;
    c.publish();
    const poll: DurableTask = df.callSubOrchestrator(
      POLL_RUN_ORCHESTRATOR,
      pollInput,
      `${df.instanceId}:${input.buildId}:poll:${episode}`,
    );
    if (!cancelRequested) {
      // A user cancel races the whole polling sub-orchestration.
      const winner = yield df.Task.any([poll, cancelEvent]);
      if (winner === cancelEvent) {
        yield* requestCancel();
        // Give the cancellation time to finish beyond the original deadline.
        policy = {
          ...policy,
          deadlineSeconds: Math.max(
            policy.deadlineSeconds,
            elapsedSince(df, runStartedAt) + CANCEL_GRACE_SECONDS,
          ),
        };
      }
    }
    const outcome = (yield poll) as PollRunOutcome;
    firstPoll = false;
    state.polls += outcome.polls;
    if (outcome.status) {
      last = outcome.status;
      state.runState = last.runState;
      state.runSubState = last.runSubState;
    }
    state.nextPollAt = undefined;
    c.publish();
    if (outcome.kind === 'terminal') {
      const verdict = terminalVerdict(outcome.status, runCtx());
      return { ...verdict, status: outcome.status };
    }
    // deadline
    if (!cancelRequested) {
      timedOut = true;
      yield* requestCancel();
      policy = { ...policy, deadlineSeconds: elapsedSince(df, runStartedAt) + CANCEL_GRACE_SECONDS };
      continue;
    }
    // A user cancel extended the deadline the running sub-orchestration did not know of: poll on.
    if (elapsedSince(df, runStartedAt) < policy.deadlineSeconds) continue;
    return { ...cancelNotConfirmed(runCtx(), CANCEL_GRACE_SECONDS / 60), status: last };
  }
}

function elapsedSince(df: OrchestrationPort, from: Date): number {
  return Math.floor((df.currentUtcDateTime.getTime() - from.getTime()) / 1000);
}

export { deadlineFailure };
