/** GET /api/builds/{id} — the build record plus the live status and custom status. */
import { buildInstanceId } from '../../orchestration/contracts.js';
import { parseBuildId } from '../../triggers/build-id.js';
import { type BuildView, buildView } from '../build-view.js';
import { type ApiDeps, buildLinks } from '../deps.js';
import { type ApiRequest, type ApiResponse, json } from '../http-types.js';
import { fieldErrors, problem, validationProblem } from '../problem.js';
import { buildIdSchema } from '../schemas.js';

/** Validates the id and loads the view; a response when that fails. */
export type LoadedBuild = { readonly view: BuildView } | { readonly response: ApiResponse };

export async function loadBuild(deps: ApiDeps, request: ApiRequest): Promise<LoadedBuild> {
  const idCheck = buildIdSchema.safeParse(request.params.id ?? '');
  if (!idCheck.success) {
    return { response: validationProblem(400, fieldErrors(idCheck.error, 'id'), 'Invalid build id') };
  }
  const buildId = idCheck.data;
  // Ids issued by this API name their definition; others (started outside the API) are found by record.
  const fromId = parseBuildId(buildId)?.definition;
  const [record, snapshotById] = await Promise.all([
    deps.records.get(buildId),
    fromId ? deps.orchestrations.status(buildInstanceId(fromId)) : Promise.resolve(undefined),
  ]);
  const definition = fromId ?? record?.definition;
  if (!definition) {
    return { response: problem(404, 'build-not-found', `No build with id "${buildId}" exists.`) };
  }
  const snapshot = fromId ? snapshotById : await deps.orchestrations.status(buildInstanceId(definition));
  const view = buildView(buildId, definition, record, snapshot);
  if (!view) {
    return { response: problem(404, 'build-not-found', `No build with id "${buildId}" exists.`) };
  }
  return { view };
}

export async function handleGetBuild(deps: ApiDeps, request: ApiRequest): Promise<ApiResponse> {
  const loaded = await loadBuild(deps, request);
  if ('response' in loaded) return loaded.response;
  const { view } = loaded;
  return json(200, { ...view, links: buildLinks(request.url, view.buildId) });
}
