/** Errors the durable client API maps to the HTTP status codes the Durable extension uses. */
import { formatTimeSpanConstant } from './timespan.js';

/** The named function does not exist or is not an orchestrator (extension: ArgumentException -> 400). */
export class UnknownFunctionError extends Error {
  override readonly name = 'ArgumentException';
}

/** A client argument the extension rejects with ArgumentException (HTTP 400), e.g. an invalid instance id. */
export class InvalidArgumentError extends Error {
  override readonly name = 'ArgumentException';
}

/** Start refused by `overridableExistingInstanceStates` (extension: InvalidOperationException -> 500). */
export class InstanceExistsError extends Error {
  override readonly name = 'InvalidOperationException';
}

/** No such instance (404). */
export class InstanceNotFoundError extends Error {
  override readonly name = 'InstanceNotFound';
  constructor(instanceId: string) {
    super(`No instance with ID '${instanceId}' found.`);
  }
}

/** The instance already finished (410 Gone). */
export class InstanceGoneError extends Error {
  override readonly name = 'InstanceGone';
  constructor(instanceId: string, status: string) {
    super(`The instance '${instanceId}' is ${status}; the operation applies only to running instances.`);
  }
}

/**
 * An invocation ran past host.json `functionTimeout`. Message as the WebJobs SDK's FunctionExecutor words
 * it ("Timeout value of {0} was exceeded by function: {1}", function short name "Functions.<name>").
 */
export class FunctionTimeoutError extends Error {
  override readonly name = 'FunctionTimeoutException';
  constructor(limitMs: number, functionName: string) {
    super(
      `Timeout value of ${formatTimeSpanConstant(limitMs)} was exceeded by function: Functions.${functionName}`,
    );
  }
}
