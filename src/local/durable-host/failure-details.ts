/** FailureDetails for a thrown value, as the Durable extension records them for a failed activity. */
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
