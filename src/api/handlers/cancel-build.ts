/** POST /api/builds/{id}/cancel — asks a running build to cancel (the orchestration cancels the AIB run). */
import { buildInstanceId } from '../../orchestration/contracts.js';
import { type ApiDeps, buildLinks } from '../deps.js';
import { type ApiRequest, type ApiResponse, json } from '../http-types.js';
import { problem } from '../problem.js';
import { loadBuild } from './get-build.js';

export async function handleCancelBuild(deps: ApiDeps, request: ApiRequest): Promise<ApiResponse> {
  const loaded = await loadBuild(deps, request);
  if ('response' in loaded) return loaded.response;
  const { view } = loaded;
  const links = buildLinks(request.url, view.buildId);
  if (view.terminal || !view.runtime) {
    return problem(
      409,
      'build-not-running',
      `Build "${view.buildId}" is not running (status ${view.status}); only a running build can be canceled.`,
      { buildId: view.buildId, buildStatus: view.status, statusUrl: links.status },
    );
  }
  try {
    await deps.orchestrations.requestCancel(buildInstanceId(view.definition), 'requested over HTTP');
  } catch (e) {
    // The build may have ended between the status read and the event (the extension answers 410 Gone).
    const again = await loadBuild(deps, request);
    if ('view' in again && again.view.terminal) {
      return problem(
        409,
        'build-not-running',
        `Build "${view.buildId}" ended (${again.view.status}) before it could be canceled.`,
        {
          buildId: view.buildId,
          buildStatus: again.view.status,
          statusUrl: links.status,
        },
      );
    }
    throw e;
  }
  deps.log?.info(`build ${view.buildId}: cancel requested over HTTP`);
  return json(202, { buildId: view.buildId, status: 'Canceling', links }, { Location: links.status });
}
