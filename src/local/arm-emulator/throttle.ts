/**
 * ARM's per-subscription throttling as token buckets (the 2024 ARM limits: reads 250 tokens refilled at
 * 25/s, writes and deletes 200 refilled at 10/s). Buckets refill in real time: throttling is about the
 * real request rate, not the simulated clock.
 * Sources: https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling
 * (the token-bucket table: per subscription and principal, reads 250 + 25/s, writes 200 + 10/s, deletes
 * 200 + 10/s) and the announcement https://azure.microsoft.com/updates/azure-resource-manager-throttling/
 * (13 March 2024: "the read bucket size is 250 tokens", writes "refills at a rate of 10 tokens per second").
 */

export interface BucketSettings {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

export interface ThrottleSettings {
  readonly reads: BucketSettings;
  readonly writes: BucketSettings;
  readonly deletes: BucketSettings;
  /** Retry-After (seconds) on a 429 when the bucket computes less. */
  readonly minRetryAfterSeconds: number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = {
  reads: { capacity: 250, refillPerSecond: 25 },
  writes: { capacity: 200, refillPerSecond: 10 },
  deletes: { capacity: 200, refillPerSecond: 10 },
  minRetryAfterSeconds: 1,
};

export type RequestKind = 'reads' | 'writes' | 'deletes';

export function requestKindOf(method: string): RequestKind {
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD') return 'reads';
  if (m === 'DELETE') return 'deletes';
  return 'writes';
}

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private settings: BucketSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = settings.capacity;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(
      this.settings.capacity,
      this.tokens + ((t - this.last) / 1000) * this.settings.refillPerSecond,
    );
    this.last = t;
  }

  /** Takes one token; returns the remaining whole tokens, or undefined when empty. */
  take(): number | undefined {
    this.refill();
    if (this.tokens < 1) return undefined;
    this.tokens -= 1;
    return Math.floor(this.tokens);
  }

  remaining(): number {
    this.refill();
    return Math.floor(this.tokens);
  }

  /** Seconds until one token is available. */
  secondsUntilToken(): number {
    this.refill();
    if (this.tokens >= 1) return 0;
    return Math.ceil((1 - this.tokens) / this.settings.refillPerSecond);
  }

  configure(settings: BucketSettings): void {
    this.refill();
    this.settings = settings;
    this.tokens = Math.min(this.tokens, settings.capacity);
  }

  fill(): void {
    this.tokens = this.settings.capacity;
    this.last = this.now();
  }
}

export interface ThrottleDecision {
  readonly allowed: boolean;
  readonly kind: RequestKind;
  readonly remaining: number;
  readonly retryAfterSeconds: number;
}

export class SubscriptionThrottle {
  private readonly buckets = new Map<string, Record<RequestKind, TokenBucket>>();

  constructor(
    private settings: ThrottleSettings = DEFAULT_THROTTLE,
    private readonly now: () => number = Date.now,
  ) {}

  private bucketsOf(subscriptionId: string): Record<RequestKind, TokenBucket> {
    const key = subscriptionId.toLowerCase();
    let b = this.buckets.get(key);
    if (!b) {
      b = {
        reads: new TokenBucket(this.settings.reads, this.now),
        writes: new TokenBucket(this.settings.writes, this.now),
        deletes: new TokenBucket(this.settings.deletes, this.now),
      };
      this.buckets.set(key, b);
    }
    return b;
  }

  check(subscriptionId: string, method: string): ThrottleDecision {
    const kind = requestKindOf(method);
    const bucket = this.bucketsOf(subscriptionId)[kind];
    const remaining = bucket.take();
    if (remaining === undefined) {
      return {
        allowed: false,
        kind,
        remaining: 0,
        retryAfterSeconds: Math.max(this.settings.minRetryAfterSeconds, bucket.secondsUntilToken()),
      };
    }
    return { allowed: true, kind, remaining, retryAfterSeconds: 0 };
  }

  configure(settings: Partial<ThrottleSettings>): void {
    this.settings = { ...this.settings, ...settings };
    for (const b of this.buckets.values()) {
      b.reads.configure(this.settings.reads);
      b.writes.configure(this.settings.writes);
      b.deletes.configure(this.settings.deletes);
    }
  }

  current(): ThrottleSettings {
    return this.settings;
  }

  reset(): void {
    this.buckets.clear();
  }
}
