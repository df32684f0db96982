/**
 * The emulator's in-memory resource store: every resource under its ARM id, case-insensitively
 * (ARM ids are case-insensitive), with the virtual time it was created.
 */

export type Json = Record<string, unknown>;

export interface StoredResource {
  /** The id with the casing of the request that created it. */
  readonly id: string;
  /** `Namespace/type[/subtype]`, e.g. `Microsoft.Network/virtualNetworks/subnets`. */
  readonly type: string;
  body: Json;
  readonly createdAtMs: number;
  updatedAtMs: number;
}

export class ResourceStore {
  private readonly byId = new Map<string, StoredResource>();

  get(id: string): StoredResource | undefined {
    return this.byId.get(normalizeId(id));
  }

  has(id: string): boolean {
    return this.byId.has(normalizeId(id));
  }

  /** Creates or replaces; `createdAtMs` backdates a new resource (seeded, long-existing ones). */
  put(id: string, type: string, body: Json, nowMs: number, createdAtMs: number = nowMs): StoredResource {
    const existing = this.get(id);
    if (existing) {
      existing.body = body;
      existing.updatedAtMs = nowMs;
      return existing;
    }
    const created: StoredResource = { id, type, body, createdAtMs, updatedAtMs: nowMs };
    this.byId.set(normalizeId(id), created);
    return created;
  }

  delete(id: string): boolean {
    return this.byId.delete(normalizeId(id));
  }

  /** Resources of a type, optionally under an id prefix (segment boundary), in creation order. */
  list(type: string, under?: string): StoredResource[] {
    const t = type.toLowerCase();
    const prefix = under === undefined ? undefined : `${normalizeId(under)}/`;
    return [...this.byId.entries()]
      .filter(([key, r]) => r.type.toLowerCase() === t && (prefix === undefined || key.startsWith(prefix)))
      .map(([, r]) => r);
  }

  /** Every resource whose id is under the prefix (segment boundary). */
  listUnder(prefix: string): StoredResource[] {
    const p = `${normalizeId(prefix)}/`;
    return [...this.byId.entries()].filter(([key]) => key.startsWith(p)).map(([, r]) => r);
  }

  all(): StoredResource[] {
    return [...this.byId.values()];
  }

  clear(): void {
    this.byId.clear();
  }

  /** Every resource, as plain data (persistence.ts). */
  snapshot(): StoredResource[] {
    return this.all().map((r) => structuredClone(r));
  }

  /** Replaces every resource with saved ones. */
  restore(saved: readonly StoredResource[]): void {
    this.byId.clear();
    for (const r of saved) this.byId.set(normalizeId(r.id), structuredClone(r));
  }
}

export function normalizeId(id: string): string {
  return id.replace(/\/+$/, '').toLowerCase();
}

/** True when `scope` equals `ancestor` or lies below it (segment boundary, case-insensitive). */
export function isAtOrBelow(scope: string, ancestor: string): boolean {
  const s = normalizeId(scope);
  const a = normalizeId(ancestor);
  return a === '' || s === a || s.startsWith(`${a}/`);
}
