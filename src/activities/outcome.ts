/**
 * Activities return their result as data, failures included, so that the orchestrator can tell a
 * transient failure (retry with backoff) from a permanent one (stop) without depending on how a host
 * serialises exceptions.
 */
import { type ClassifiedFailure, classifyError } from '../azure/errors.js';
import { DefinitionNotFoundError } from './deps.js';

export type ActivityOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly failure: ClassifiedFailure };

export async function toOutcome<T>(work: () => Promise<T>): Promise<ActivityOutcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (e) {
    if (e instanceof DefinitionNotFoundError) {
      return { ok: false, failure: { kind: 'permanent', code: e.code, message: e.message } };
    }
    const failure = classifyError(e);
    // Keep the failure small and free of request details (headers, tokens): code, status, message.
    return {
      ok: false,
      failure: {
        kind: failure.kind,
        code: failure.code,
        message: failure.message.slice(0, 2000),
        ...(failure.statusCode !== undefined ? { statusCode: failure.statusCode } : {}),
        ...(failure.retryAfterMs !== undefined ? { retryAfterMs: failure.retryAfterMs } : {}),
      },
    };
  }
}
