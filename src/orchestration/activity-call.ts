/**
 * Calling an activity from the flow with durable retries: transient failures (429, 5xx, network) are
 * retried after a durable timer with exponential backoff (honouring Retry-After); permanent ones are not.
 * Activities return ActivityOutcome data, so the decision does not depend on how a host serialises errors.
 */
import type { ClassifiedFailure } from '../azure/errors.js';
import type { Flow, OrchestrationPort } from './durable-port.js';
import type { AnyStep, StepInput, StepResult } from './steps.js';

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly firstDelaySeconds: number;
  readonly maxDelaySeconds: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, firstDelaySeconds: 15, maxDelaySeconds: 300 };

/** A failure that ends the step (permanent, or transient after the last attempt). */
export class StepFailure extends Error {
  constructor(
    readonly step: string,
    readonly failure: ClassifiedFailure,
    readonly attempts: number,
  ) {
    super(`${step}: ${failure.code}: ${failure.message}`);
    this.name = 'StepFailure';
  }
}

/** Backoff before attempt `attempt + 1` (seconds): 15, 30, 60, 120, 240, capped; never below Retry-After. */
export function backoffSeconds(policy: RetryPolicy, attempt: number, retryAfterMs?: number): number {
  const exp = Math.min(policy.maxDelaySeconds, policy.firstDelaySeconds * 2 ** (attempt - 1));
  const hint = retryAfterMs !== undefined ? Math.ceil(retryAfterMs / 1000) : 0;
  return Math.min(policy.maxDelaySeconds, Math.max(exp, hint));
}

type Outcome<T> = { ok: true; value: T } | { ok: false; failure: ClassifiedFailure };

function isOutcome(v: unknown): v is Outcome<unknown> {
  return typeof v === 'object' && v !== null && 'ok' in v;
}

/**
 * Calls a step of the registry (src/orchestration/steps.ts): the input must be the activity's input, and
 * the result has the activity's result type.
 */
export function* callStep<S extends AnyStep>(
  df: OrchestrationPort,
  step: S,
  input: NoInfer<StepInput<S>>,
  policy: RetryPolicy = DEFAULT_RETRY,
): Flow<StepResult<S>> {
  const name = step.name;
  for (let attempt = 1; ; attempt++) {
    let result: unknown;
    try {
      result = yield df.callActivity(name, input);
    } catch (e) {
      // The activity threw past its outcome wrapper (host-level failure): not retried.
      throw new StepFailure(
        name,
        { kind: 'permanent', code: 'ActivityFailed', message: (e as Error).message ?? String(e) },
        attempt,
      );
    }
    if (!isOutcome(result)) {
      throw new StepFailure(
        name,
        { kind: 'permanent', code: 'BadActivityResult', message: 'activity returned no outcome' },
        attempt,
      );
    }
    if (result.ok) return result.value as StepResult<S>;
    const f = result.failure;
    if (f.kind === 'transient' && attempt < policy.maxAttempts) {
      const wait = backoffSeconds(policy, attempt, f.retryAfterMs);
      yield df.createTimer(new Date(df.currentUtcDateTime.getTime() + wait * 1000));
      continue;
    }
    throw new StepFailure(name, f, attempt);
  }
}
