/**
 * Error classification for Azure calls: transient (worth retrying with backoff) or permanent.
 *
 * Transient: 408, 429, 5xx, and network failures (reset, refused, timeout, DNS) — plus the few ARM
 * codes that say "try again" on a 4xx (AnotherOperationInProgress, RetryableError...).
 * Permanent: every other 4xx (validation, authorization, not found, conflict), and anything unknown.
 */

export type FailureKind = 'transient' | 'permanent';

/** A failure in a serialisable shape (crosses the activity boundary as data). */
export interface ClassifiedFailure {
  readonly kind: FailureKind;
  readonly code: string;
  readonly message: string;
  readonly statusCode?: number | undefined;
  /** Server hint (Retry-After), milliseconds. */
  readonly retryAfterMs?: number | undefined;
}

const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'REQUEST_SEND_ERROR',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const TRANSIENT_ARM_CODES = new Set([
  'anotheroperationinprogress',
  'retryableerror',
  'toomanyrequests',
  'serverbusy',
  'serviceunavailable',
  'internalservererror',
  'gatewaytimeout',
  'operationtimedout',
]);

/** An error an activity raises on purpose, already classified (e.g. preflight violations: permanent). */
export class ClassifiedError extends Error {
  constructor(readonly failure: ClassifiedFailure) {
    super(failure.message);
    this.name = 'ClassifiedError';
  }
}

export function permanent(code: string, message: string): ClassifiedError {
  return new ClassifiedError({ kind: 'permanent', code, message });
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  statusCode?: unknown;
  status?: unknown;
  details?: unknown;
  response?: { headers?: { get?(name: string): string | undefined } | Record<string, unknown> } | undefined;
  cause?: unknown;
}

function retryAfterMs(e: ErrorLike): number | undefined {
  const headers = e.response?.headers;
  let raw: unknown;
  if (headers && typeof (headers as { get?: unknown }).get === 'function') {
    raw = (headers as { get(name: string): string | undefined }).get('retry-after');
  } else if (headers) {
    raw = (headers as Record<string, unknown>)['retry-after'];
  }
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  return undefined;
}

/** The ARM error code of an SDK RestError, when the body carried one. */
function armCode(e: ErrorLike): string | undefined {
  if (typeof e.code === 'string' && e.code !== '' && !/^E[A-Z_]+$/.test(e.code)) return e.code;
  const details = e.details as { error?: { code?: unknown } } | undefined;
  if (details && typeof details.error?.code === 'string') return details.error.code;
  return undefined;
}

export function classifyError(error: unknown): ClassifiedFailure {
  if (error instanceof ClassifiedError) return error.failure;
  if (typeof error !== 'object' || error === null) {
    return { kind: 'permanent', code: 'UnknownError', message: String(error) };
  }
  const e = error as ErrorLike;
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : String(error);
  const statusCode =
    typeof e.statusCode === 'number' ? e.statusCode : typeof e.status === 'number' ? e.status : undefined;
  const code = armCode(e);
  const netCode =
    typeof e.code === 'string' && TRANSIENT_NETWORK_CODES.has(e.code)
      ? e.code
      : typeof (e.cause as ErrorLike | undefined)?.code === 'string' &&
          TRANSIENT_NETWORK_CODES.has((e.cause as ErrorLike).code as string)
        ? ((e.cause as ErrorLike).code as string)
        : undefined;
  const base = { message, statusCode, retryAfterMs: retryAfterMs(e) };
  if (statusCode !== undefined && TRANSIENT_STATUS.has(statusCode)) {
    return { kind: 'transient', code: code ?? `Http${statusCode}`, ...base };
  }
  if (code !== undefined && TRANSIENT_ARM_CODES.has(code.toLowerCase())) {
    return { kind: 'transient', code, ...base };
  }
  if (statusCode === undefined && netCode !== undefined) {
    return { kind: 'transient', code: netCode, ...base };
  }
  if (statusCode === undefined && (e.name === 'AbortError' || e.name === 'TimeoutError')) {
    return { kind: 'transient', code: String(e.name), ...base };
  }
  return {
    kind: 'permanent',
    code:
      code ??
      (statusCode !== undefined ? `Http${statusCode}` : typeof e.name === 'string' ? e.name : 'Error'),
    ...base,
  };
}

export function isTransient(error: unknown): boolean {
  return classifyError(error).kind === 'transient';
}

/** HTTP status of an SDK error, if any. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const s = (error as ErrorLike).statusCode ?? (error as ErrorLike).status;
  return typeof s === 'number' ? s : undefined;
}

/** ARM error code of an SDK error, if any. */
export function armErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  return armCode(error as ErrorLike);
}
