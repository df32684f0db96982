/** GET /api/builds?definition=&status=&top= — build records, newest first. */
import type { BuildStatus } from '../../records/build-records.js';
import type { ApiDeps } from '../deps.js';
import { type ApiRequest, type ApiResponse, json } from '../http-types.js';
import { fieldErrors, validationProblem } from '../problem.js';
import { listBuildsQuerySchema } from '../schemas.js';

export const DEFAULT_TOP = 20;

export async function handleListBuilds(deps: ApiDeps, request: ApiRequest): Promise<ApiResponse> {
  const raw: Record<string, string> = {};
  for (const [k, v] of request.query) raw[k] = v;
  const q = listBuildsQuerySchema.safeParse(raw);
  if (!q.success) return validationProblem(400, fieldErrors(q.error, '(query)'), 'Invalid query');
  const builds = await deps.records.list({
    definition: q.data.definition,
    status: q.data.status as BuildStatus | undefined,
    top: q.data.top ?? DEFAULT_TOP,
  });
  return json(200, { builds, count: builds.length });
}
