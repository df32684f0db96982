/**
 * How the Durable extension records a failed out-of-process activity: `Reason` ("Activity function 'X'
 * failed: <message>") and `Details` (the serialized exception). Structured `FailureDetails` are attached only
 * when the worker sent them — the JavaScript library does so when an exception-properties provider is
 * registered (`df.app.setExceptionPropertiesProvider`), serializing them as the error message.
 */
import type { FailureDetails } from './history.js';

interface ProvidedFailurePayload {
  errorType: string;
  errorMessage: string;
  stackTrace?: string;
  isNonRetriable?: boolean;
  properties?: Record<string, unknown>;
}

function parseProvidedPayload(message: string): ProvidedFailurePayload | undefined {
  if (!message.startsWith('{')) return undefined;
  try {
    const p = JSON.parse(message) as Partial<ProvidedFailurePayload>;
    if (typeof p.errorType === 'string' && typeof p.errorMessage === 'string')
      return p as ProvidedFailurePayload;
  } catch {
    // not a payload produced by an exception-properties provider
  }
  return undefined;
}

export function failureDetailsOf(err: unknown): FailureDetails {
  if (err instanceof Error) {
    const provided = parseProvidedPayload(err.message);
    if (provided) {
      return {
        ErrorType: provided.errorType,
        ErrorMessage: provided.errorMessage,
        StackTrace: provided.stackTrace,
        IsNonRetriable: provided.isNonRetriable ?? false,
        Properties: provided.properties,
      };
    }
    return {
      ErrorType: err.name || 'Error',
      ErrorMessage: err.message,
      StackTrace: err.stack,
      IsNonRetriable: false,
    };
  }
  return {
    ErrorType: 'Error',
    ErrorMessage: typeof err === 'string' ? err : JSON.stringify(err),
    IsNonRetriable: false,
  };
}

export interface ActivityFailureRecord {
  readonly reason: string;
  readonly details: string;
  readonly failureDetails?: FailureDetails | undefined;
}

export function activityFailureRecord(functionName: string, err: unknown): ActivityFailureRecord {
  const provided = err instanceof Error ? parseProvidedPayload(err.message) : undefined;
  const plain = failureDetailsOf(err);
  const message = provided ? provided.errorMessage : plain.ErrorMessage;
  const type = provided ? provided.errorType : plain.ErrorType;
  return {
    reason: `Activity function '${functionName}' failed: ${message}`,
    details: JSON.stringify({ ErrorType: type, Message: message }),
    failureDetails: provided ? failureDetailsOf(err) : undefined,
  };
}
