/**
 * The build orchestration (deterministic: time only from the replay-safe clock, I/O only in activities):
 *
 *   preflight → builder identity → persistent roles → source version → template → grant Image Contributor
 *   → start run → poll (sub-orchestration, adaptive durable timers; cancel event; deadline → cancel)
 *   → archive logs → tag image → record
 *   finally: revoke Image Contributor — on success, failure, timeout, cancel request and unexpected errors.
 *
 * Custom status: BuildProgress. Output: BuildOutput. Every phase is written to the build record.
 */
import type { BuilderIdentity } from '../activities/builder-identity.js';
import type { LastSuccessfulBuild } from '../activities/last-successful-build.js';
import type { ArchiveResult } from '../activities/logs/archive-logs.js';
import type { RunStatus } from '../activities/run/image-run.js';
import type { SourceImage } from '../activities/source-version.js';
import type { TemplateDeployment } from '../activities/template/deploy-template.js';
import type { BuildRecordPatch, BuildStatus } from '../records/build-records.js';
import { callStep, StepFailure } from './activity-call.js';
import { ACTIVITY, POLL_RUN_ORCHESTRATOR } from './activity-names.js';
import {
  type BuildInput,
  type BuildOutput,
  type BuildPhase,
  type BuildProgress,
  type BuildResult,
  CANCEL_EVENT,
  NOTIFY_ACTIVITY,
} from './contracts.js';
import type { DurableTask, Flow, OrchestrationPort } from './durable-port.js';
import type { PollRunInput, PollRunOutcome } from './poll-run.js';
import { nextPollDelaySeconds, type PollingPolicy } from './polling-schedule.js';

/** Extra time after the deadline for a cancelled run to reach Canceled before the build gives up on it. */
export const CANCEL_GRACE_SECONDS = 30 * 60;

export interface PollingPlan extends PollingPolicy {
  /** Where the logs of this build will be archived (shown before they exist). */
  readonly logLocation: string;
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
  error?: { code: string; message: string } | undefined;
  phaseTimestamps: Record<string, string>;
  durations: Record<string, number>;
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

export function* buildFlow(df: OrchestrationPort, log: (m: string) => void = () => {}): Flow<BuildOutput> {
  const input = validateInput(df.getInput());
  const startedAt = df.currentUtcDateTime;
  const ref = { buildId: input.buildId, definition: input.definition, requestedAt: input.requestedAt };
  const state: FlowState = { phase: 'queued', logs: [], phaseTimestamps: {}, durations: {} };
  const now = () => df.currentUtcDateTime;
  const elapsed = (from: Date = startedAt) =>
    Math.max(0, Math.round((now().getTime() - from.getTime()) / 1000));
  let phaseStart = startedAt;

  const publish = () =>
    df.setCustomStatus({
      buildId: input.buildId,
      definition: input.definition,
      phase: state.phase,
      runState: state.runState,
      runSubState: state.runSubState,
      templateName: state.templateName,
      startedAt: startedAt.toISOString(),
      elapsedSeconds: elapsed(),
      nextPollAt: state.nextPollAt,
      logLocation: state.logLocation,
    } satisfies BuildProgress);

  function* record(patch: BuildRecordPatch): Flow<void> {
    try {
      yield* callStep(df, ACTIVITY.recordBuild, { ref, patch });
    } catch (e) {
      // A record that cannot be written must not fail (or hide) the build itself.
      log(`build record update failed: ${(e as Error).message}`);
    }
  }

  function* enter(phase: BuildPhase, extra: BuildRecordPatch = {}): Flow<void> {
    if (state.phase !== 'queued')
      state.durations[state.phase] = (state.durations[state.phase] ?? 0) + elapsed(phaseStart);
    phaseStart = now();
    state.phase = phase;
    state.phaseTimestamps[phase] = phaseStart.toISOString();
    publish();
    yield* record({
      status: 'Running',
      phase,
      phaseTimestamps: { [phase]: phaseStart.toISOString() },
      ...extra,
    });
  }

  let result: BuildResult = 'Failed';
  let identity: BuilderIdentity | undefined;
  let runStarted = false;
  let runStartedAt: Date | undefined;
  let runEndedAt: Date | undefined;
  let grantAttempted = false;
  let upToDate = false;

  try {
    yield* enter('preflight', {
      trigger: input.trigger,
      reason: input.reason,
      requestedBy: input.requestedBy,
      instanceId: df.instanceId,
      startedAt: startedAt.toISOString(),
    });
    yield* callStep(df, ACTIVITY.preflight, { definition: input.definition });

    yield* enter('identity');
    identity = yield* callStep<BuilderIdentity>(df, ACTIVITY.builderIdentity, {});

    yield* enter('roles');
    yield* callStep(df, ACTIVITY.persistentRoles, {
      definition: input.definition,
      principalId: identity.principalId,
    });

    yield* enter('template');
    const source = yield* callStep<SourceImage>(df, ACTIVITY.sourceVersion, { definition: input.definition });
    state.sourceVersion = source.version;
    const template = yield* callStep<TemplateDeployment>(df, ACTIVITY.deployTemplate, {
      definition: input.definition,
      buildId: input.buildId,
      sourceVersion: source.version,
      builderIdentityId: identity.id,
    });
    state.templateName = template.templateName;
    state.logs.push(...template.archivedLogs);
    log(`template ${template.templateName}: ${template.action} (${template.reason})`);

    if (!input.force && template.action === 'reuse') {
      const last = yield* callStep<LastSuccessfulBuild | null>(df, ACTIVITY.lastSuccessfulBuild, {
        definition: input.definition,
      });
      if (
        last?.imageId &&
        last.imageExists &&
        last.templateName === template.templateName &&
        last.sourceImageVersion === source.version
      ) {
        log(
          `up to date: build ${last.buildId} made ${last.imageId} from the same template and source version`,
        );
        upToDate = true;
        result = 'Succeeded';
        state.imageId = last.imageId;
      }
    }
  } catch (e) {
    result = 'Failed';
    state.error = failureOf(e);
    log(`build failed in ${state.phase}: ${state.error.code}: ${state.error.message}`);
  }

  // The run, with the just-in-time grant: everything after the grant is covered by the finally.
  if (!upToDate && !state.error && identity && state.templateName) {
    const templateName = state.templateName;
    try {
      yield* enter('grant', { templateName, sourceImageVersion: state.sourceVersion });
      grantAttempted = true;
      yield* callStep(df, ACTIVITY.grantImageContributor, { principalId: identity.principalId });

      const plan = yield* callStep<PollingPlan>(df, ACTIVITY.pollingPolicy, {
        definition: input.definition,
        buildId: input.buildId,
      });
      state.logLocation = plan.logLocation;

      yield* enter('run');
      yield* callStep(df, ACTIVITY.startRun, { templateName });
      runStarted = true;
      runStartedAt = now();

      yield* enter('polling', { runState: 'Running' });
      const outcome = yield* pollUntilDone(df, input, state, plan, runStartedAt, publish, record);
      runEndedAt = now();
      result = outcome.result;
      if (outcome.error) state.error = outcome.error;
      state.runState = outcome.status?.runState ?? state.runState;
      state.runSubState = outcome.status?.runSubState ?? state.runSubState;
      if (result === 'Succeeded' || outcome.status?.runState === 'PartiallySucceeded') {
        state.imageId = outcome.status?.artifactIds[0];
      }
    } catch (e) {
      result = 'Failed';
      state.error = failureOf(e);
      log(`build failed in ${state.phase}: ${state.error.code}: ${state.error.message}`);
      if (runStarted && !runEndedAt) {
        // The run may still be going (e.g. its status could not be read): ask Image Builder to stop it.
        try {
          yield* callStep(df, ACTIVITY.cancelRun, { templateName: state.templateName });
        } catch (ce) {
          log(`cancel after failure failed: ${(ce as Error).message}`);
        }
      }
    } finally {
      // Always: archive what the run produced, then remove the just-in-time grant.
      if (runStarted && state.templateName) {
        try {
          yield* enter('archiving');
          const archived = yield* callStep<ArchiveResult>(df, ACTIVITY.archiveLogs, {
            definition: input.definition,
            buildId: input.buildId,
            templateName: state.templateName,
            runState: state.runState ?? 'unknown',
          });
          state.logs.push(...archived.logs);
        } catch (e) {
          log(`log archival failed: ${(e as Error).message}`);
          state.error ??= { code: 'LogArchivalFailed', message: (e as Error).message };
        }
      }
      if (grantAttempted && identity) {
        try {
          yield* enter('revoking');
          yield* callStep(df, ACTIVITY.revokeImageContributor, {
            principalId: identity.principalId,
            definition: input.definition,
          });
        } catch (e) {
          // The janitor removes it later; the build still reports what happened.
          log(`revoking Image Contributor failed (the janitor will retry): ${(e as Error).message}`);
        }
      }
    }
  }

  if (result === 'Succeeded' && state.imageId && !upToDate) {
    try {
      yield* callStep(df, ACTIVITY.tagImage, { imageId: state.imageId, buildId: input.buildId });
    } catch (e) {
      log(`tagging the image failed: ${(e as Error).message}`);
    }
  }

  yield* enter('recording');
  state.durations.recording = 0;
  const totalSeconds = elapsed();
  const runSeconds =
    runStartedAt && runEndedAt
      ? Math.round((runEndedAt.getTime() - runStartedAt.getTime()) / 1000)
      : undefined;
  const output: BuildOutput = {
    buildId: input.buildId,
    definition: input.definition,
    result,
    imageId: state.imageId,
    sourceImageVersion: state.sourceVersion,
    templateName: state.templateName,
    logs: [...new Set(state.logs)],
    error: state.error,
    durations: {
      ...state.durations,
      ...(runSeconds !== undefined ? { run: runSeconds } : {}),
      total: totalSeconds,
    },
    ...(upToDate ? { upToDate: true } : {}),
  };
  state.phase = 'done';
  publish();
  yield* record({
    status: result as BuildStatus,
    phase: 'done',
    runState: state.runState,
    runSubState: state.runSubState,
    imageId: state.imageId,
    templateName: state.templateName,
    sourceImageVersion: state.sourceVersion,
    logUrls: output.logs,
    error: state.error,
    finishedAt: now().toISOString(),
    durationSeconds: totalSeconds,
    runDurationSeconds: result === 'Succeeded' ? runSeconds : undefined,
    phaseTimestamps: { done: now().toISOString() },
    ...(upToDate ? { upToDate: true } : {}),
  });
  try {
    yield df.callActivity(NOTIFY_ACTIVITY, output);
  } catch (e) {
    log(`notification failed: ${(e as Error).message}`);
  }
  return output;
}

interface PollResult {
  readonly result: BuildResult;
  readonly status: RunStatus | undefined;
  readonly error?: { code: string; message: string } | undefined;
}

function* pollUntilDone(
  df: OrchestrationPort,
  input: BuildInput,
  state: FlowState,
  plan: PollingPlan,
  runStartedAt: Date,
  publish: () => void,
  record: (patch: BuildRecordPatch) => Flow<void>,
): Flow<PollResult> {
  const cancelEvent = df.waitForExternalEvent(CANCEL_EVENT);
  let policy: PollingPolicy = {
    minIntervalSeconds: plan.minIntervalSeconds,
    maxIntervalSeconds: plan.maxIntervalSeconds,
    expectedSeconds: plan.expectedSeconds,
    deadlineSeconds: plan.deadlineSeconds,
  };
  let cancelRequested = false;
  let timedOut = false;
  /** Asks Image Builder to cancel the run (user request or deadline), once the phase is shown. */
  function* requestCancel(): Flow<void> {
    cancelRequested = true;
    state.phase = 'cancelling';
    publish();
    yield* record({
      phase: 'cancelling',
      phaseTimestamps: { cancelling: df.currentUtcDateTime.toISOString() },
    });
    yield* callStep(df, ACTIVITY.cancelRun, { templateName: state.templateName });
  }
  let firstPoll = true;
  let last: RunStatus | undefined;
  for (let episode = 0; ; episode++) {
    const pollInput: PollRunInput = {
      templateName: state.templateName!,
      policy,
      runStartedAt: runStartedAt.toISOString(),
      lastSubState: state.runSubState,
      firstPoll,
    };
    // The episode's first timer, as the sub-orchestration will compute it (shown in the custom status).
    const firstDelay = nextPollDelaySeconds(policy, {
      elapsedSeconds: elapsedSince(df, runStartedAt),
      runSubState: state.runSubState,
      firstPoll,
    });
    state.nextPollAt =
      firstDelay > 0
        ? new Date(df.currentUtcDateTime.getTime() + firstDelay * 1000).toISOString()
        : undefined;
    publish();
    const poll: DurableTask = df.callSubOrchestrator(
      POLL_RUN_ORCHESTRATOR,
      pollInput,
      `${df.instanceId}:${input.buildId}:poll:${episode}`,
    );
    let outcome: PollRunOutcome;
    if (!cancelRequested) {
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
      outcome = (yield poll) as PollRunOutcome;
    } else {
      outcome = (yield poll) as PollRunOutcome;
    }
    firstPoll = false;
    if (outcome.status) {
      last = outcome.status;
      state.runState = last.runState;
      state.runSubState = last.runSubState;
    }
    state.nextPollAt = undefined;
    publish();
    if (outcome.kind === 'terminal') {
      const rs = outcome.status.runState;
      if (rs === 'Succeeded') return { result: 'Succeeded', status: outcome.status };
      if (rs === 'Canceled') {
        return timedOut
          ? { result: 'TimedOut', status: outcome.status, error: deadlineError(plan) }
          : cancelRequested
            ? {
                result: 'Canceled',
                status: outcome.status,
                error: { code: 'CanceledByRequest', message: 'the build was cancelled on request' },
              }
            : {
                result: 'Canceled',
                status: outcome.status,
                error: {
                  code: 'RunCanceled',
                  message: outcome.status.message ?? 'the run was cancelled outside this build',
                },
              };
      }
      if (rs === 'Failed' && isImageBuilderTimeout(outcome.status.message)) {
        return {
          result: 'TimedOut',
          status: outcome.status,
          error: {
            code: 'BuildTimedOut',
            message: outcome.status.message ?? 'the build exceeded buildTimeoutInMinutes',
          },
        };
      }
      return {
        result: 'Failed',
        status: outcome.status,
        error: {
          code: rs === 'PartiallySucceeded' ? 'RunPartiallySucceeded' : 'RunFailed',
          message: `${outcome.status.runSubState ? `${outcome.status.runSubState}: ` : ''}${outcome.status.message ?? rs ?? 'unknown'}`,
        },
      };
    }
    if (outcome.kind === 'deadline') {
      if (cancelRequested || timedOut) {
        return {
          result: timedOut ? 'TimedOut' : 'Canceled',
          status: last,
          error: {
            code: 'CancelNotConfirmed',
            message: `the run did not reach Canceled within ${CANCEL_GRACE_SECONDS / 60} minutes of the cancel request`,
          },
        };
      }
      timedOut = true;
      yield* requestCancel();
      policy = { ...policy, deadlineSeconds: elapsedSince(df, runStartedAt) + CANCEL_GRACE_SECONDS };
      continue;
    }
    // progress
    if (state.phase === 'polling')
      yield* record({ runState: state.runState, runSubState: state.runSubState });
  }
}

/** Image Builder ends a run that exceeds buildTimeoutInMinutes as Failed with a timeout message. */
export function isImageBuilderTimeout(message: string | undefined): boolean {
  return message !== undefined && /buildTimeoutInMinutes|timed?[ -]?out|deadline exceeded/i.test(message);
}

function failureOf(e: unknown): { code: string; message: string } {
  return e instanceof StepFailure
    ? { code: e.failure.code, message: e.failure.message }
    : { code: 'UnexpectedError', message: (e as Error)?.message ?? String(e) };
}

function elapsedSince(df: OrchestrationPort, from: Date): number {
  return Math.floor((df.currentUtcDateTime.getTime() - from.getTime()) / 1000);
}

function deadlineError(plan: PollingPlan): { code: string; message: string } {
  return {
    code: 'BuildTimedOut',
    message: `the run did not finish within ${Math.round(plan.deadlineSeconds / 60)} minutes (buildTimeoutInMinutes + DEADLINE_MARGIN_MINUTES); it was cancelled`,
  };
}
