/**
 * What a finished Image Builder run means for the build: a pure function of the run's terminal status and
 * what the build itself did (asked to cancel, hit its deadline). No I/O; tested on its own.
 */
import type { RunStatus } from '../activities/run/image-run.js';
import { type BuildFailure, FAILURE } from './build-failure.js';
import type { BuildResult } from './contracts.js';

export interface RunContext {
  /** The build asked Image Builder to cancel (cancel request or deadline). */
  readonly cancelRequested: boolean;
  /** The cancel was the build's deadline (buildTimeoutInMinutes + DEADLINE_MARGIN_MINUTES). */
  readonly timedOut: boolean;
  /** The deadline in minutes (for the message). */
  readonly deadlineMinutes: number;
}

export interface RunVerdict {
  readonly result: BuildResult;
  readonly error?: BuildFailure | undefined;
}

/**
 * Signs that a failure is an authorization refusal. Image Builder wraps some of them in "Timedout […]"
 * (danielsollondon/azvmimagebuilder issue 20: `Timedout [compute.ImagesClient#Delete: … StatusCode=403 …
 * AuthorizationFailed`), which is a permission problem, not a build timeout.
 */
const AUTHORIZATION =
  /AuthorizationFailed|StatusCode=403|\b403\b|does not have authorization|Not authorized to access|LinkedAuthorizationFailed/i;

/**
 * What Image Builder reports when a run exceeds buildTimeoutInMinutes: "Failed while waiting for packerizer:
 * Timeout waiting for microservice to complete: 'context deadline exceeded'" (image-builder-troubleshoot.md,
 * "Build timeout"). Only that counts as a timeout; the word "timed out" alone does not.
 */
const REAL_TIMEOUT =
  /Timeout waiting for microservice to complete|context deadline exceeded|exceeded (?:the )?buildTimeoutInMinutes/i;

export function isImageBuilderTimeout(message: string | undefined): boolean {
  if (message === undefined) return false;
  if (AUTHORIZATION.test(message)) return false;
  return REAL_TIMEOUT.test(message);
}

/** Is a run failure an authorization refusal (a missing or not yet effective role assignment)? */
export function isAuthorizationFailure(message: string | undefined): boolean {
  return message !== undefined && AUTHORIZATION.test(message);
}

export function deadlineFailure(deadlineMinutes: number): BuildFailure {
  return {
    code: FAILURE.buildTimedOut,
    message: `the run did not finish within ${deadlineMinutes} minutes (buildTimeoutInMinutes + DEADLINE_MARGIN_MINUTES); it was cancelled`,
  };
}

/** The build's result for a run in a terminal state (Succeeded, PartiallySucceeded, Failed, Canceled). */
export function terminalVerdict(status: RunStatus, ctx: RunContext): RunVerdict {
  const rs = status.runState;
  if (rs === 'Succeeded') return { result: 'Succeeded' };
  if (rs === 'Canceled') {
    if (ctx.timedOut) return { result: 'TimedOut', error: deadlineFailure(ctx.deadlineMinutes) };
    if (ctx.cancelRequested) {
      return {
        result: 'Canceled',
        error: { code: FAILURE.canceledByRequest, message: 'the build was cancelled on request' },
      };
    }
    return {
      result: 'Canceled',
      error: {
        code: FAILURE.runCanceled,
        message: status.message || 'the run was cancelled outside this build',
      },
    };
  }
  if (rs === 'Failed' && isImageBuilderTimeout(status.message)) {
    return {
      result: 'TimedOut',
      error: {
        code: FAILURE.buildTimedOut,
        message: status.message ?? 'the build exceeded buildTimeoutInMinutes',
      },
    };
  }
  const where = status.runSubState ? `${status.runSubState}: ` : '';
  const what = status.message || rs || 'unknown';
  const fix = isAuthorizationFailure(status.message)
    ? ' — the builder identity lacks a right on a distribution target: check that IMAGE_CONTRIBUTOR_ROLE_ID grants images/* and galleries/images/versions/* and that every target is covered (docs/troubleshooting.md)'
    : '';
  return {
    result: 'Failed',
    error: {
      code: rs === 'PartiallySucceeded' ? FAILURE.runPartiallySucceeded : FAILURE.runFailed,
      message: `${where}${what}${fix}`,
    },
  };
}

/** The result when the run did not reach a terminal state before the (extended) deadline after a cancel. */
export function cancelNotConfirmed(ctx: RunContext, graceMinutes: number): RunVerdict {
  return {
    result: ctx.timedOut ? 'TimedOut' : 'Canceled',
    error: {
      code: FAILURE.cancelNotConfirmed,
      message: `the run did not reach Canceled within ${graceMinutes} minutes of the cancel request`,
    },
  };
}
