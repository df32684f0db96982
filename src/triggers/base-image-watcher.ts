/**
 * Base-image watcher (timer, default every 6 hours): for each definition with a marketplace source on
 * version 'latest', lists the published versions (Compute `virtualMachineImages.list`), takes the newest by
 * NUMERIC comparison, and starts a build when it is newer than the source version of the last successful build.
 */
import type { ImageDefinition } from '../image/definition.js';
import { compareImageVersions, newestImageVersion } from '../image/versions.js';
import type { BuildRecordStore } from '../records/build-records.js';
import { sourceOf } from './definition-source.js';
import type { BuildOrchestrations } from './orchestration-port.js';
import { startBuild } from './start-build.js';

export type BaseImageDecision =
  | { readonly rebuild: true; readonly newest: string; readonly reason: string }
  | { readonly rebuild: false; readonly newest?: string | undefined; readonly reason: string };

/** Pure decision: rebuild when the newest available version is newer than the last built one. */
export function decideBaseImageRebuild(
  available: readonly string[],
  lastBuiltVersion: string | undefined,
): BaseImageDecision {
  const newest = newestImageVersion(available);
  if (newest === undefined)
    return { rebuild: false, reason: 'no versions are published for the source image' };
  if (lastBuiltVersion === undefined) {
    return { rebuild: true, newest, reason: `base image ${newest} available and no successful build yet` };
  }
  if (compareImageVersions(newest, lastBuiltVersion) > 0) {
    return {
      rebuild: true,
      newest,
      reason: `base image ${newest} is newer than ${lastBuiltVersion} (last build)`,
    };
  }
  return { rebuild: false, newest, reason: `last build used ${lastBuiltVersion}, newest is ${newest}` };
}

export interface WatcherDeps {
  readonly definitions: readonly ImageDefinition[];
  readonly orchestrations: BuildOrchestrations;
  readonly records: Pick<BuildRecordStore, 'lastSuccessful' | 'create'>;
  /** Published versions of a marketplace image (names of `virtualMachineImages.list`). */
  readonly listVersions: (publisher: string, offer: string, sku: string) => Promise<readonly string[]>;
  readonly now?: (() => Date) | undefined;
  readonly log?: { info(m: string): void; warn(m: string): void } | undefined;
}

export interface WatchResult {
  readonly definition: string;
  readonly action: 'started' | 'already-running' | 'up-to-date' | 'skipped' | 'error';
  readonly detail: string;
  readonly buildId?: string | undefined;
}

async function watchOne(deps: WatcherDeps, definition: ImageDefinition): Promise<WatchResult> {
  const name = definition.name;
  const source = sourceOf(definition);
  if (source?.kind !== 'marketplace') {
    return { definition: name, action: 'skipped', detail: 'source is not a marketplace image' };
  }
  if (source.version.toLowerCase() !== 'latest') {
    return { definition: name, action: 'skipped', detail: `source version is pinned to ${source.version}` };
  }
  const [versions, last] = await Promise.all([
    deps.listVersions(source.publisher, source.offer, source.sku),
    deps.records.lastSuccessful(name),
  ]);
  const decision = decideBaseImageRebuild(versions, last?.sourceImageVersion);
  if (!decision.rebuild) return { definition: name, action: 'up-to-date', detail: decision.reason };
  const outcome = await startBuild(
    { orchestrations: deps.orchestrations, records: deps.records, now: deps.now, log: deps.log },
    {
      definition: name,
      trigger: 'base-image',
      reason: decision.reason,
      requestedBy: 'timer:baseImageCheck',
      force: false,
    },
  );
  return outcome.outcome === 'started'
    ? { definition: name, action: 'started', detail: decision.reason, buildId: outcome.buildId }
    : {
        definition: name,
        action: 'already-running',
        detail: `${decision.reason}; build ${outcome.buildId ?? '(unknown)'} is running`,
        buildId: outcome.buildId,
      };
}

/** Checks every definition; one definition's failure does not stop the others. */
export async function checkBaseImages(deps: WatcherDeps): Promise<WatchResult[]> {
  const results = await Promise.all(
    deps.definitions.map((d) =>
      watchOne(deps, d).catch(
        (e: unknown): WatchResult => ({
          definition: d.name,
          action: 'error',
          detail: e instanceof Error ? e.message : String(e),
        }),
      ),
    ),
  );
  for (const r of results) {
    const line = `base-image check ${r.definition}: ${r.action}${r.buildId ? ` ${r.buildId}` : ''} (${r.detail})`;
    if (r.action === 'error') deps.log?.warn(line);
    else deps.log?.info(line);
  }
  return results;
}
