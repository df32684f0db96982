/**
 * Fault injection per operation: a rule matches a method (or `*`) and a path regular expression
 * (case-insensitive, tested against the URL path without the query) and makes the next `times` matching
 * calls fail; without `times` the fault is permanent until cleared.
 */

/**
 * `403`/`404` are permanent-failure kinds (AuthorizationFailed / ResourceNotFound), for the fault matrix.
 * `crash` answers the call normally, saves the state, then kills the emulator's own process with SIGKILL:
 * the effect is applied and the caller (the app, in the same `npm run local` process) dies before it can
 * record the answer. Only an emulator whose state outlives its process accepts it (`crashFaults`).
 */
export type FaultKind = '429' | '500' | '503' | 'reset' | 'delay' | '403' | '404' | 'crash';
const KINDS: readonly FaultKind[] = ['429', '500', '503', 'reset', 'delay', '403', '404', 'crash'];

export interface FaultSpec {
  readonly method?: string;
  /** Regular expression source matched against the request path. */
  readonly path: string;
  readonly kind: FaultKind;
  /** How many matching calls fail; omit for a permanent fault. */
  readonly times?: number;
  /** For `delay`: real milliseconds to wait before answering normally. */
  readonly delayMs?: number;
  /** For `429`/`503`: the Retry-After seconds (default 1). */
  readonly retryAfterSeconds?: number;
}

export interface ActiveFault extends FaultSpec {
  readonly id: number;
  remaining: number;
  hits: number;
}

/** Active faults as plain data (persistence.ts); `remaining: null` is a permanent fault. */
export interface FaultSnapshot {
  readonly nextId: number;
  readonly faults: readonly (Omit<ActiveFault, 'remaining'> & { remaining: number | null })[];
}

export class FaultInjector {
  private faults: ActiveFault[] = [];
  private nextId = 1;

  /** @param crashFaults whether `crash` faults are accepted (the state must outlive the process). */
  constructor(private readonly crashFaults = false) {}

  add(spec: FaultSpec): ActiveFault {
    if (!KINDS.includes(spec.kind)) {
      throw new Error(`fault kind must be one of ${KINDS.join(', ')} (got ${String(spec.kind)})`);
    }
    if (spec.kind === 'crash' && !this.crashFaults) {
      throw new Error(
        'fault kind crash kills the process the emulator runs in; only an emulator with a state file accepts it (npm run local -- --state DIR)',
      );
    }
    if (spec.kind === 'crash' && spec.times === undefined) {
      throw new Error(
        'a crash fault needs times (e.g. 1): a permanent one would kill every restart at the same call',
      );
    }
    if (typeof spec.path !== 'string' || spec.path.length === 0) {
      throw new Error(
        'fault path must be a non-empty regular expression source, e.g. "/imageTemplates/[^/]+/run$"',
      );
    }
    new RegExp(spec.path, 'i');
    if (spec.times !== undefined && (!Number.isInteger(spec.times) || spec.times < 1)) {
      throw new Error('fault times must be a whole number >= 1, or omitted for a permanent fault');
    }
    const fault: ActiveFault = {
      ...spec,
      id: this.nextId++,
      remaining: spec.times ?? Number.POSITIVE_INFINITY,
      hits: 0,
    };
    this.faults.push(fault);
    return fault;
  }

  /** The fault to apply to this call, consuming one of its `times`. */
  take(method: string, path: string): ActiveFault | undefined {
    const f = this.faults.find(
      (x) =>
        x.remaining > 0 &&
        (x.method === undefined || x.method === '*' || x.method.toUpperCase() === method.toUpperCase()) &&
        new RegExp(x.path, 'i').test(path),
    );
    if (!f) return undefined;
    f.remaining -= 1;
    f.hits += 1;
    return f;
  }

  list(): readonly ActiveFault[] {
    return this.faults;
  }

  clear(): void {
    this.faults = [];
  }

  snapshot(): FaultSnapshot {
    return {
      nextId: this.nextId,
      faults: this.faults.map((f) => ({
        ...f,
        remaining: Number.isFinite(f.remaining) ? f.remaining : null,
      })),
    };
  }

  restore(saved: FaultSnapshot): void {
    this.nextId = saved.nextId;
    this.faults = saved.faults.map((f) => ({
      ...f,
      remaining: f.remaining === null ? Number.POSITIVE_INFINITY : f.remaining,
    }));
  }
}
