/**
 * The one failure shape of a build: a stable code (see docs/troubleshooting.md) and a message that says what
 * happened and, where the app knows it, the fix. Every path that ends a build unsuccessfully produces one.
 */
import type { ClassifiedFailure } from '../azure/errors.js';
import { StepFailure } from './activity-call.js';

export interface BuildFailure {
  readonly code: string;
  readonly message: string;
}

/** Codes the flow itself produces (activities add theirs: PreflightFailed, TemplateProvisioningFailed…). */
export const FAILURE = {
  /** The run (or template creation) was refused for lack of rights: the grant has not taken effect yet. */
  grantNotEffective: 'GrantNotEffective',
  /** The grant did not take effect within GRANT_PROPAGATION_TIMEOUT_MINUTES. */
  grantPropagationTimeout: 'GrantPropagationTimeout',
  buildTimedOut: 'BuildTimedOut',
  canceledByRequest: 'CanceledByRequest',
  runCanceled: 'RunCanceled',
  runFailed: 'RunFailed',
  runPartiallySucceeded: 'RunPartiallySucceeded',
  cancelNotConfirmed: 'CancelNotConfirmed',
  logArchivalFailed: 'LogArchivalFailed',
  /** The scan step found a fixable finding at or above the gate's severity (src/supply-chain/gate.ts). */
  vulnerabilityGateFailed: 'VulnerabilityGateFailed',
  unexpected: 'UnexpectedError',
} as const;

/** The BuildFailure of anything a step threw. */
export function failureOf(e: unknown): BuildFailure {
  if (e instanceof StepFailure) return { code: e.failure.code, message: e.failure.message };
  return { code: FAILURE.unexpected, message: (e as Error)?.message ?? String(e) };
}

/** The classified failure a step ended with, if it was one. */
export function stepFailureOf(e: unknown): ClassifiedFailure | undefined {
  return e instanceof StepFailure ? e.failure : undefined;
}
