/**
 * Posts a build's terminal summary to the optional notification webhook, with retries and exponential
 * backoff. It never throws: a failing webhook must never fail a build. The URL is never logged in full
 * (chat webhooks carry their secret in the path or query) - only its origin.
 */
import type { BuildOutput } from '../orchestration/contracts.js';

export interface BuildSummary {
  readonly kind: 'jumpbox-image-build';
  readonly buildId: string;
  readonly definition: string;
  readonly result: string;
  readonly imageId?: string | undefined;
  readonly sourceImageVersion?: string | undefined;
  readonly templateName?: string | undefined;
  readonly error?: { readonly code: string; readonly message: string } | undefined;
  readonly logs: readonly string[];
  readonly durations: Readonly<Record<string, number>>;
  readonly text: string;
}

export function summaryOf(output: BuildOutput): BuildSummary {
  const text =
    output.result === 'Succeeded'
      ? `Image build ${output.buildId} of ${output.definition} succeeded: ${output.imageId ?? '(no image id)'}`
      : `Image build ${output.buildId} of ${output.definition} ${output.result.toLowerCase()}${
          output.error ? `: ${output.error.code}: ${output.error.message}` : ''
        }`;
  return {
    kind: 'jumpbox-image-build',
    buildId: output.buildId,
    definition: output.definition,
    result: output.result,
    imageId: output.imageId,
    sourceImageVersion: output.sourceImageVersion,
    templateName: output.templateName,
    error: output.error,
    logs: output.logs ?? [],
    durations: output.durations ?? {},
    text,
  };
}

export interface DeliveryOptions {
  readonly fetch?: typeof fetch | undefined;
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  /** Total attempts (default 5). */
  readonly attempts?: number | undefined;
  /** First backoff delay; doubles each retry, with jitter (default 1000 ms). */
  readonly baseDelayMs?: number | undefined;
  /** Cap on one backoff delay, also on a server's Retry-After (default 30 s). */
  readonly maxDelayMs?: number | undefined;
  /** Per-attempt timeout (default 10 s). */
  readonly timeoutMs?: number | undefined;
  readonly random?: (() => number) | undefined;
}

export interface DeliveryReport {
  readonly delivered: boolean;
  readonly attempts: number;
  readonly status?: number | undefined;
  readonly lastError?: string | undefined;
  /** Webhook origin (never the full URL). */
  readonly target: string;
}

/** 408, 429 and 5xx are worth retrying; other statuses are final. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Delay before retry number `retry` (1-based): exponential with +-20% jitter, capped. */
export function backoffDelayMs(retry: number, baseMs: number, maxMs: number, random: () => number): number {
  const exp = Math.min(maxMs, baseMs * 2 ** (retry - 1));
  return Math.round(Math.min(maxMs, exp * (0.8 + 0.4 * random())));
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

export async function deliverSummary(
  url: string,
  summary: BuildSummary,
  options: DeliveryOptions = {},
): Promise<DeliveryReport> {
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const attempts = Math.max(1, options.attempts ?? 5);
  const base = options.baseDelayMs ?? 1000;
  const max = options.maxDelayMs ?? 30_000;
  const random = options.random ?? Math.random;
  const target = originOf(url);
  let lastError: string | undefined;
  let status: number | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let wait: number | undefined;
    try {
      const res = await doFetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(summary),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        redirect: 'error',
      });
      status = res.status;
      await res.body?.cancel().catch(() => undefined);
      if (res.ok) return { delivered: true, attempts: attempt, status, target };
      lastError = `HTTP ${res.status}`;
      if (!isRetryableStatus(res.status))
        return { delivered: false, attempts: attempt, status, lastError, target };
      wait = retryAfterMs(res.headers.get('retry-after'));
    } catch (e) {
      lastError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      // Never echo the URL back through an error message.
      lastError = lastError.split(url).join(target);
    }
    if (attempt < attempts) await sleep(Math.min(max, wait ?? backoffDelayMs(attempt, base, max, random)));
  }
  return { delivered: false, attempts, status, lastError, target };
}
