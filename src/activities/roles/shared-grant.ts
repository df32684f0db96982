/**
 * Who still needs the shared Image Contributor grant: the rule behind `revokeUnlessOthersRunning`.
 *
 * The builder identity and its grant on the destination are shared by every definition, so a build that
 * ends removes the grant only when no other build needs it. A definition needs it when its newest record
 * - is still Queued or Running;
 * - is not past its distribution, i.e. not in the archiving, revoking, recording (or done) phase: a build
 *   there no longer uses the grant, so two builds ending together both remove it instead of each keeping
 *   it for the other (it would stay until the janitor);
 * - started within its deadline plus an hour (an older one belongs to a terminated instance; the janitor
 *   closes its record).
 *
 * The check costs two table queries whatever the number of definitions (the active records, then the
 * ended records newer than the oldest of them, which supersede active records left behind). "Now" is the
 * orchestration's time when the caller passes it, else the newest time written in the records read: one
 * clock, never the process clock against record times written on the orchestration's clock.
 */
import type { AppConfig } from '../../config.js';
import type { BuildPhase } from '../../orchestration/contracts.js';
import type { BuildRecord, BuildRecordStore } from '../../records/build-records.js';

/** Phases after which a build no longer uses the grant. */
export const GRANT_RELEASED_PHASES: ReadonlySet<BuildPhase> = new Set<BuildPhase>([
  'archiving',
  'revoking',
  'recording',
  'done',
]);

export type GrantRecords = Pick<BuildRecordStore, 'listActive' | 'listEndedNewerThan'>;

type DefinitionLimits = Pick<AppConfig, 'deadlineMarginMinutes'> & {
  readonly definitions: readonly { readonly name: string; readonly buildTimeoutInMinutes: number }[];
};

/** The newest time (ms) written in the records: request, start, finish and phase times. */
export function newestRecordTime(records: readonly BuildRecord[]): number | undefined {
  let newest: number | undefined;
  for (const r of records) {
    for (const t of [r.requestedAt, r.startedAt, r.finishedAt, ...Object.values(r.phaseTimestamps)]) {
      const ms = t === undefined ? Number.NaN : Date.parse(t);
      if (!Number.isNaN(ms) && (newest === undefined || ms > newest)) newest = ms;
    }
  }
  return newest;
}

const isActive = (r: BuildRecord) => r.status === 'Queued' || r.status === 'Running';

function newer(a: BuildRecord, b: BuildRecord): boolean {
  const d = Date.parse(a.requestedAt) - Date.parse(b.requestedAt);
  return d > 0 || (d === 0 && a.buildId < b.buildId);
}

/**
 * Definitions other than `self` that keep the grant, sorted. `records` may hold any mix of active and
 * ended records; only each definition's newest counts.
 */
export function definitionsKeepingGrant(
  limits: DefinitionLimits,
  records: readonly BuildRecord[],
  self: { readonly definition: string; readonly buildId?: string | undefined },
  nowMs: number,
): string[] {
  const timeout = new Map(limits.definitions.map((d) => [d.name, d.buildTimeoutInMinutes]));
  const newest = new Map<string, BuildRecord>();
  for (const r of records) {
    const seen = newest.get(r.definition);
    if (!seen || newer(r, seen)) newest.set(r.definition, r);
  }
  const keep: string[] = [];
  for (const [definition, r] of newest) {
    if (definition === self.definition || r.buildId === self.buildId) continue;
    const minutes = timeout.get(definition);
    if (minutes === undefined || !isActive(r)) continue;
    if (r.phase !== undefined && GRANT_RELEASED_PHASES.has(r.phase)) continue;
    const since = Date.parse(r.startedAt ?? r.requestedAt);
    const maxAgeMs = (minutes + limits.deadlineMarginMinutes + 60) * 60_000;
    if (nowMs - since <= maxAgeMs) keep.push(definition);
  }
  return keep.sort();
}

/** Reads the records (two queries at most) and applies the rule. */
export async function otherDefinitionsKeepingGrant(
  limits: DefinitionLimits,
  store: GrantRecords,
  self: { readonly definition: string; readonly buildId?: string | undefined },
  now?: string | undefined,
): Promise<string[]> {
  let nowMs: number | undefined;
  if (now !== undefined) {
    nowMs = Date.parse(now);
    if (Number.isNaN(nowMs))
      throw new RangeError(
        `now must be an ISO date-time (the orchestration's currentUtcDateTime), got "${now}"`,
      );
  }
  const active = await store.listActive();
  const others = active.filter((r) => r.definition !== self.definition && r.buildId !== self.buildId);
  if (others.length === 0) return [];
  const oldest = others.reduce((a, b) => (Date.parse(a.requestedAt) <= Date.parse(b.requestedAt) ? a : b));
  const ended = await store.listEndedNewerThan(oldest.requestedAt);
  const records = [...active, ...ended];
  return definitionsKeepingGrant(limits, records, self, nowMs ?? newestRecordTime(records) ?? 0);
}
