/**
 * Eventual consistency of role assignments. ARM shows a created or deleted assignment at once (GET and
 * list), but authorization decisions change only after a propagation delay on the virtual clock: a new
 * grant is not yet effective, a revoked one keeps working. Azure documents "When you assign roles or
 * remove role assignments, it can take up to 10 minutes for changes to take effect"
 * (https://learn.microsoft.com/azure/role-based-access-control/troubleshooting#symptom---role-assignment-changes-are-not-being-detected).
 *
 * The delay is a fixed number of seconds or a range drawn per change from a seeded random source, so a
 * scenario replays the same delays.
 */
import type { Json } from './store.js';
import { normalizeId } from './store.js';

export type PropagationSpec = number | { readonly min: number; readonly max: number };

/** What `npm run simulate` and `npm run local` use: 30 s to 10 min, per change (see docs/emulator.md). */
export const REALISTIC_RBAC_PROPAGATION: PropagationSpec = { min: 30, max: 600 };

export interface PendingChange {
  readonly id: string;
  readonly change: 'create' | 'delete';
  readonly principalId: string;
  readonly scope: string;
  readonly roleDefinitionId: string;
  /** When the change takes effect for authorization (ISO 8601, virtual time). */
  readonly effectiveAt: string;
  readonly effectiveAtMs: number;
}

/** Checks a propagation spec; throws naming the field and the fix. */
export function validatePropagationSpec(value: unknown, field = 'rbacPropagationSeconds'): PropagationSpec {
  const ok = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  if (ok(value)) return value as number;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const { min, max } = value as { min?: unknown; max?: unknown };
    if (ok(min) && ok(max) && (min as number) <= (max as number))
      return { min: min as number, max: max as number };
  }
  throw new Error(
    `${field} must be a number of seconds >= 0 or {"min": S, "max": S} with 0 <= min <= max (got ${JSON.stringify(value)})`,
  );
}

/** mulberry32: a small seeded generator, values in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Revoked {
  readonly id: string;
  readonly body: Json;
  readonly untilMs: number;
}

/** The propagation state as plain data (persistence.ts): the random source is saved as seed + draws. */
export interface RbacPropagationSnapshot {
  readonly spec: PropagationSpec;
  readonly seed: number;
  readonly draws: number;
  readonly pendingCreates: readonly { readonly id: string; readonly atMs: number; readonly body: Json }[];
  readonly revoked: readonly Revoked[];
}

export class RbacPropagation {
  private spec: PropagationSpec = 0;
  private random: () => number;
  /** Created assignments not yet effective: normalized id -> effective-at ms. */
  private readonly effectiveAt = new Map<string, { id: string; atMs: number; body: Json }>();
  /** Deleted assignments that still authorize until `untilMs`. */
  private revoked: Revoked[] = [];
  /** Values drawn from `random` since it was seeded (so a restore continues the same sequence). */
  private draws = 0;

  constructor(
    private readonly now: () => number,
    private seed = 1,
  ) {
    this.random = seededRandom(seed);
  }

  get current(): PropagationSpec {
    return this.spec;
  }

  configure(spec: PropagationSpec, seed?: number): PropagationSpec {
    this.spec = validatePropagationSpec(spec);
    if (seed !== undefined) {
      this.seed = seed;
      this.random = seededRandom(seed);
      this.draws = 0;
    }
    return this.spec;
  }

  /** The next delay in ms (a fixed spec, or a draw in [min, max]). */
  drawDelayMs(): number {
    const s = this.spec;
    const seconds = typeof s === 'number' ? s : s.min + (s.max - s.min) * this.draw();
    return Math.round(seconds * 1000);
  }

  private draw(): number {
    this.draws += 1;
    return this.random();
  }

  /** A new assignment: effective after the delay. Returns the effective-at time (ms). */
  created(id: string, body: Json): number {
    const atMs = this.now() + this.drawDelayMs();
    if (atMs > this.now()) this.effectiveAt.set(normalizeId(id), { id, atMs, body });
    return atMs;
  }

  /** A deleted assignment keeps authorizing until the delay has passed. */
  deleted(id: string, body: Json): number {
    const key = normalizeId(id);
    const pendingCreate = this.effectiveAt.get(key);
    this.effectiveAt.delete(key);
    // A grant that had not taken effect yet never does once deleted.
    if (pendingCreate && pendingCreate.atMs > this.now()) return this.now();
    const untilMs = this.now() + this.drawDelayMs();
    if (untilMs > this.now()) this.revoked.push({ id, body, untilMs });
    return untilMs;
  }

  /** True when a stored assignment already counts for authorization. */
  isEffective(id: string): boolean {
    const p = this.effectiveAt.get(normalizeId(id));
    return p === undefined || p.atMs <= this.now();
  }

  /** Effective-at time of a stored assignment (undefined: effective since it was seeded). */
  effectiveAtMs(id: string): number | undefined {
    return this.effectiveAt.get(normalizeId(id))?.atMs;
  }

  /** Deleted assignments that still authorize now. */
  lingering(): Json[] {
    const now = this.now();
    this.revoked = this.revoked.filter((r) => r.untilMs > now);
    return this.revoked.map((r) => r.body);
  }

  /** Changes not yet effective, soonest first. */
  pending(): PendingChange[] {
    const now = this.now();
    const view = (id: string, body: Json, change: 'create' | 'delete', atMs: number): PendingChange => {
      const p = (body.properties ?? {}) as Json;
      return {
        id,
        change,
        principalId: String(p.principalId),
        scope: String(p.scope),
        roleDefinitionId: String(p.roleDefinitionId),
        effectiveAt: new Date(atMs).toISOString(),
        effectiveAtMs: atMs,
      };
    };
    return [
      ...[...this.effectiveAt.values()]
        .filter((e) => e.atMs > now)
        .map((e) => view(e.id, e.body, 'create', e.atMs)),
      ...this.revoked.filter((r) => r.untilMs > now).map((r) => view(r.id, r.body, 'delete', r.untilMs)),
    ].sort((a, b) => a.effectiveAtMs - b.effectiveAtMs);
  }

  clear(): void {
    this.effectiveAt.clear();
    this.revoked = [];
    this.spec = 0;
    this.random = seededRandom(this.seed);
    this.draws = 0;
  }

  snapshot(): RbacPropagationSnapshot {
    return structuredClone({
      spec: this.spec,
      seed: this.seed,
      draws: this.draws,
      pendingCreates: [...this.effectiveAt.values()],
      revoked: this.revoked,
    });
  }

  restore(saved: RbacPropagationSnapshot): void {
    this.spec = validatePropagationSpec(saved.spec);
    this.seed = saved.seed;
    this.random = seededRandom(saved.seed);
    this.draws = 0;
    while (this.draws < saved.draws) this.draw();
    this.effectiveAt.clear();
    for (const p of saved.pendingCreates) this.effectiveAt.set(normalizeId(p.id), structuredClone(p));
    this.revoked = structuredClone([...saved.revoked]);
  }
}
