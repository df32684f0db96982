/**
 * GET /api/definitions — each configured definition with its last build, its current image (the image of
 * its newest successful build: builds never overwrite or delete it before a new one exists) and the newest
 * base-image version.
 */
import { buildInstanceId } from '../../orchestration/contracts.js';
import { buildIdOf, isActive } from '../../triggers/orchestration-port.js';
import type { ApiDeps } from '../deps.js';
import { type ApiResponse, json } from '../http-types.js';

export async function handleListDefinitions(deps: ApiDeps): Promise<ApiResponse> {
  const definitions = await Promise.all(
    deps.definitions.map(async (d) => {
      const [snapshot, last, lastOk, baseImage] = await Promise.all([
        deps.orchestrations.status(buildInstanceId(d.name)),
        deps.records.list({ definition: d.name, top: 1 }),
        deps.records.lastSuccessful(d.name),
        deps.newestBaseImageVersion(d).then(
          (v) => ({ newestVersion: v ?? null }),
          (e: unknown) => ({ newestVersion: null, error: e instanceof Error ? e.message : String(e) }),
        ),
      ]);
      return {
        name: d.name,
        source: { ...d.source },
        running:
          snapshot && isActive(snapshot.runtimeStatus)
            ? { buildId: buildIdOf(snapshot), runtimeStatus: snapshot.runtimeStatus }
            : null,
        lastBuild: last[0] ?? null,
        lastSuccessfulBuild: lastOk ?? null,
        currentImageId: lastOk?.imageId ?? null,
        baseImage,
      };
    }),
  );
  return json(200, { definitions });
}
