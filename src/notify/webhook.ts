/**
 * Posts a build's terminal summary to the optional notification webhook, with retries and exponential
 * backoff. It never throws: a failing webhook must never fail a build. HTTPS only (any other scheme is
 * refused before a connection is made), redirects are never followed (a 3xx is a final failure: a
 * redirect could carry the summary to another host), and the whole delivery - attempts, waits and
 * Retry-After included - ends within a time budget (default 60 s). The URL is never logged in full (chat
 * webhooks carry their secret in the path or query) - only its origin.
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

/** One POST within `timeoutMs`: resolves with the status and the Retry-After header; never follows a redirect. */
export type WebhookTransport = (
  url: URL,
  body: string,
  timeoutMs: number,
) => Promise<{ readonly status: number; readonly retryAfter: string | null }>;

/** The transport: fetch with `redirect: 'manual'` (a 3xx comes back as is, nothing is followed). */
export function fetchTransport(doFetch: typeof fetch): WebhookTransport {
  return async (url, body, timeoutMs) => {
    const res = await doFetch(url.href, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    await res.body?.cancel().catch(() => undefined);
    return { status: res.status, retryAfter: res.headers.get('retry-after') };
  };
}

export interface DeliveryOptions {
  /** The fetch to post with (default: the global one, looked up at call time). */
  readonly fetch?: typeof fetch | undefined;
  readonly transport?: WebhookTransport | undefined;
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  /** Total attempts (default 5). */
  readonly attempts?: number | undefined;
  /** First backoff delay; doubles each retry, with jitter (default 1000 ms). */
  readonly baseDelayMs?: number | undefined;
  /** Cap on one backoff delay, also on a server's Retry-After (default 30 s). */
  readonly maxDelayMs?: number | undefined;
  /** Per-attempt timeout (default 10 s). */
  readonly timeoutMs?: number | undefined;
  /** The whole delivery, waits included, ends within this (default 60 s). */
  readonly totalBudgetMs?: number | undefined;
  readonly random?: (() => number) | undefined;
  readonly now?: (() => number) | undefined;
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
  const target = originOf(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { delivered: false, attempts: 0, lastError: 'the webhook URL is not a URL', target };
  }
  if (parsed.protocol !== 'https:') {
    return {
      delivered: false,
      attempts: 0,
      lastError: `the webhook URL must use https (got ${parsed.protocol.replace(/:$/, '')}); nothing was sent`,
      target,
    };
  }
  const transport =
    options.transport ?? fetchTransport(options.fetch ?? ((input, init) => globalThis.fetch(input, init)));
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;
  const attempts = Math.max(1, options.attempts ?? 5);
  const base = options.baseDelayMs ?? 1000;
  const max = options.maxDelayMs ?? 30_000;
  const perAttempt = options.timeoutMs ?? 10_000;
  const random = options.random ?? Math.random;
  const deadline = now() + (options.totalBudgetMs ?? 60_000);
  const body = JSON.stringify(summary);
  let lastError: string | undefined;
  let status: number | undefined;
  let attempt = 0;
  while (attempt < attempts) {
    const remaining = deadline - now();
    if (remaining <= 0) {
      lastError = `${lastError ? `${lastError}; ` : ''}time budget exhausted`;
      break;
    }
    attempt++;
    let wait: number | undefined;
    try {
      const res = await transport(parsed, body, Math.min(perAttempt, remaining));
      status = res.status;
      if (res.status >= 200 && res.status < 300)
        return { delivered: true, attempts: attempt, status, target };
      if (res.status >= 300 && res.status < 400) {
        lastError = `HTTP ${res.status}: redirect not followed`;
        return { delivered: false, attempts: attempt, status, lastError, target };
      }
      lastError = `HTTP ${res.status}`;
      if (!isRetryableStatus(res.status))
        return { delivered: false, attempts: attempt, status, lastError, target };
      wait = retryAfterMs(res.retryAfter);
    } catch (e) {
      lastError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      // Never echo the URL (or its path and query, where chat webhooks keep their secret) in an error.
      for (const secret of [url, parsed.href, `${parsed.pathname}${parsed.search}`].filter(
        (x) => x.length > 1,
      ))
        lastError = lastError.split(secret).join(secret === url || secret === parsed.href ? target : '/…');
    }
    if (attempt < attempts) {
      const delay = Math.min(max, wait ?? backoffDelayMs(attempt, base, max, random));
      if (now() + delay >= deadline) {
        lastError = `${lastError}; time budget exhausted`;
        break;
      }
      await sleep(delay);
    }
  }
  return { delivered: false, attempts: attempt, status, lastError, target };
}
