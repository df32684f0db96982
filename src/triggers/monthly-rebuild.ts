/**
 * Monthly rebuild (timer, CRON from MONTHLY_REBUILD_SCHEDULE, default 03:00 UTC on the 1st): starts a forced
 * build of every definition, so that OS updates land even when nothing else changed; definitions with a build
 * running are skipped (and logged). The reason is recorded with each build. The builds start spread over
 * FLEET_START_SPREAD_MINUTES, at most 16 at once (./fleet-start-spread.ts).
 */
import type { ImageDefinition } from '../image/definition.js';
import type { BuildRecordStore } from '../records/build-records.js';
import { newBuildId } from './build-id.js';
import { fleetStartDelays } from './fleet-start-spread.js';
import type { BuildOrchestrations } from './orchestration-port.js';
import { startBuild } from './start-build.js';

export interface MonthlyDeps {
  readonly definitions: readonly ImageDefinition[];
  readonly orchestrations: BuildOrchestrations;
  readonly records?: Pick<BuildRecordStore, 'create'> | undefined;
  readonly schedule: string;
  /** Minutes over which the builds start (0: all at once). */
  readonly startSpreadMinutes?: number | undefined;
  readonly now?: (() => Date) | undefined;
  readonly log?: { info(m: string): void; warn(m: string): void } | undefined;
}

export interface MonthlyResult {
  readonly definition: string;
  readonly action: 'started' | 'already-running' | 'error';
  readonly buildId?: string | undefined;
  readonly detail?: string | undefined;
}

export async function rebuildAllDefinitions(deps: MonthlyDeps, pastDue = false): Promise<MonthlyResult[]> {
  const reason = `scheduled monthly rebuild (schedule "${deps.schedule}")${pastDue ? ', past due' : ''}`;
  const at = (deps.now ?? (() => new Date()))();
  const ids = new Map(deps.definitions.map((d) => [d.name, newBuildId(d.name, at)]));
  const delays = fleetStartDelays([...ids.values()], deps.startSpreadMinutes ?? 0);
  const results = await Promise.all(
    deps.definitions.map(async (d): Promise<MonthlyResult> => {
      try {
        const buildId = ids.get(d.name)!;
        const o = await startBuild(
          {
            orchestrations: deps.orchestrations,
            records: deps.records,
            now: () => at,
            newId: () => buildId,
            log: deps.log,
          },
          {
            definition: d.name,
            trigger: 'schedule',
            reason,
            requestedBy: 'timer:monthlyRebuild',
            force: true,
            startDelaySeconds: delays.get(buildId) ?? 0,
          },
        );
        return { definition: d.name, action: o.outcome, buildId: o.buildId };
      } catch (e) {
        return { definition: d.name, action: 'error', detail: e instanceof Error ? e.message : String(e) };
      }
    }),
  );
  for (const r of results) {
    const line = `monthly rebuild ${r.definition}: ${r.action}${r.buildId ? ` ${r.buildId}` : ''}${r.detail ? ` (${r.detail})` : ''}`;
    if (r.action === 'error') deps.log?.warn(line);
    else deps.log?.info(line);
  }
  return results;
}
