import type { TableClient } from '@azure/data-tables';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  definitionsKeepingGrant,
  GRANT_RELEASED_PHASES,
  type GrantRecords,
  otherDefinitionsKeepingGrant,
} from '../../src/activities/roles/shared-grant.js';
import type { BuildPhase } from '../../src/orchestration/contracts.js';
import { type BuildRecord, BuildRecordStore, type BuildStatus } from '../../src/records/build-records.js';

const T0 = Date.parse('2026-01-01T03:00:00.000Z');
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const limits = (names: readonly string[]) => ({
  definitions: names.map((name) => ({ name, buildTimeoutInMinutes: 90 })),
  deadlineMarginMinutes: 15,
});

function record(
  definition: string,
  buildId: string,
  requestedMinute: number,
  status: BuildStatus,
  phase?: BuildPhase,
): BuildRecord {
  return {
    buildId,
    definition,
    trigger: 'schedule',
    reason: 'r',
    requestedBy: 't',
    requestedAt: iso(requestedMinute),
    startedAt: iso(requestedMinute),
    status,
    phase,
    logUrls: [],
    phaseTimestamps: phase ? { [phase]: iso(requestedMinute + 1) } : {},
  };
}

/** A store over an in-memory list that counts its queries. */
function countingStore(records: readonly BuildRecord[]): GrantRecords & { queries: number } {
  const active = (r: BuildRecord) => r.status === 'Queued' || r.status === 'Running';
  const store = {
    queries: 0,
    listActive: async () => {
      store.queries++;
      return records.filter(active);
    },
    listEndedNewerThan: async (after: string) => {
      store.queries++;
      return records.filter((r) => !active(r) && Date.parse(r.requestedAt) > Date.parse(after));
    },
  };
  return store;
}

describe('shared Image Contributor grant: who keeps it', () => {
  it('reads the records in two queries whatever the fleet size', async () => {
    for (const n of [2, 20, 200, 1000]) {
      const names = Array.from({ length: n }, (_, i) => `fleet-${i}`);
      const records = names.flatMap((d, i) => [
        record(d, `${d}-old`, 0, 'Succeeded'),
        record(d, `${d}-new`, 10, 'Running', i % 2 ? 'polling' : 'archiving'),
      ]);
      const store = countingStore(records);
      const keep = await otherDefinitionsKeepingGrant(
        limits(names),
        store,
        { definition: 'fleet-0', buildId: 'fleet-0-new' },
        iso(50),
      );
      expect(store.queries).toBe(2);
      expect(keep).toHaveLength(Math.floor(n / 2));
    }
  });

  it('each store method is one table query with a filter (no per-definition reads)', async () => {
    const filters: string[] = [];
    const table = {
      createTable: async () => undefined,
      listEntities: (o: { queryOptions: { filter: string } }) => {
        filters.push(o.queryOptions.filter);
        return (async function* () {})();
      },
    } as unknown as TableClient;
    const store = new BuildRecordStore(table);
    await store.listActive();
    await store.listEndedNewerThan(iso(0));
    expect(filters).toEqual([
      "status eq 'Queued' or status eq 'Running'",
      `requestedAt gt '${iso(0)}' and status ne 'Queued' and status ne 'Running'`,
    ]);
    await expect(store.listEndedNewerThan('yesterday')).rejects.toThrow(/requestedAfter/);
  });

  it('asks nothing more when no other build is active', async () => {
    const store = countingStore([
      record('a', 'a1', 0, 'Running', 'revoking'),
      record('b', 'b1', 0, 'Failed'),
    ]);
    expect(await otherDefinitionsKeepingGrant(limits(['a', 'b']), store, { definition: 'a' })).toEqual([]);
    expect(store.queries).toBe(1);
  });

  it('takes "now" from the records when the caller gives none, not from the process clock', async () => {
    // Records written on a virtual clock years before the process clock: the other build is fresh
    // against the newest record time (the revoking build's own phase time).
    const store = countingStore([
      record('a', 'a1', 100, 'Running', 'revoking'),
      record('b', 'b1', 90, 'Running', 'polling'),
    ]);
    expect(await otherDefinitionsKeepingGrant(limits(['a', 'b']), store, { definition: 'a' })).toEqual(['b']);
    await expect(
      otherDefinitionsKeepingGrant(limits(['a', 'b']), store, { definition: 'a' }, 'soon'),
    ).rejects.toThrow(/now must be an ISO date-time/);
  });

  it('two builds ending together both release the grant', async () => {
    const store = countingStore([
      record('a', 'a1', 0, 'Running', 'revoking'),
      record('b', 'b1', 0, 'Running', 'archiving'),
    ]);
    for (const self of ['a', 'b'])
      expect(
        await otherDefinitionsKeepingGrant(limits(['a', 'b']), store, { definition: self }, iso(45)),
      ).toEqual([]);
  });

  const PHASES: BuildPhase[] = [
    'queued',
    'preflight',
    'identity',
    'roles',
    'grant',
    'waiting-for-grant',
    'template',
    'run',
    'polling',
    'cancelling',
    'archiving',
    'revoking',
    'recording',
    'done',
  ];
  const STATUSES: BuildStatus[] = ['Queued', 'Running', 'Succeeded', 'Failed', 'Canceled', 'TimedOut'];

  it('property: a definition keeps the grant iff its newest record is active, before archiving and within its deadline', () => {
    const recordArb = fc.record({
      definition: fc.constantFrom('a', 'b', 'c', 'd', 'unknown'),
      minute: fc.integer({ min: 0, max: 600 }),
      status: fc.constantFrom(...STATUSES),
      phase: fc.option(fc.constantFrom(...PHASES), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.array(recordArb, { maxLength: 30 }),
        fc.constantFrom('a', 'b'),
        fc.integer({ min: 0, max: 900 }),
        (specs, self, nowMinute) => {
          const records = specs.map((s, i) => record(s.definition, `id-${i}`, s.minute, s.status, s.phase));
          const got = definitionsKeepingGrant(
            limits(['a', 'b', 'c', 'd']),
            records,
            { definition: self },
            T0 + nowMinute * 60_000,
          );
          // Reference: per configured definition, its newest record (latest request; ties: smaller id).
          const expected: string[] = [];
          for (const d of ['a', 'b', 'c', 'd']) {
            if (d === self) continue;
            const mine = records
              .filter((r) => r.definition === d)
              .sort(
                (x, y) => y.requestedAt.localeCompare(x.requestedAt) || x.buildId.localeCompare(y.buildId),
              );
            const newest = mine[0];
            if (!newest) continue;
            const active = newest.status === 'Queued' || newest.status === 'Running';
            const released = newest.phase !== undefined && GRANT_RELEASED_PHASES.has(newest.phase);
            const ageMinutes = nowMinute - (Date.parse(newest.requestedAt) - T0) / 60_000;
            if (active && !released && ageMinutes <= 90 + 15 + 60) expected.push(d);
          }
          expect(got).toEqual(expected);
        },
      ),
    );
  });
});
