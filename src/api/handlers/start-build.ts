/** POST /api/builds — start (or dry-run) a build of one definition; 409 while one is running. */
import { startBuild } from '../../triggers/start-build.js';
import { type ApiDeps, buildLinks } from '../deps.js';
import { type ApiRequest, type ApiResponse, json } from '../http-types.js';
import { problem, validationProblem } from '../problem.js';
import { readJsonBody } from '../request-body.js';
import { startBuildRequestSchema } from '../schemas.js';

/** Who asked: an authenticated principal (App Service auth) or the caller's X-Requested-By, else the key. */
function requesterOf(request: ApiRequest): string {
  const principal = request.header('x-ms-client-principal-name');
  const declared = request.header('x-requested-by');
  const clean = (v: string) => v.replace(/[^\x20-\x7e]/g, '').slice(0, 200);
  if (principal) return clean(principal);
  if (declared) return `${clean(declared)} (function key)`;
  return 'function key';
}

export async function handleStartBuild(deps: ApiDeps, request: ApiRequest): Promise<ApiResponse> {
  const body = await readJsonBody(request, startBuildRequestSchema);
  if (!body.ok) return body.response;
  const { definition: name, reason, force, dryRun } = body.value;
  const definition = deps.definitions.find((d) => d.name === name);
  if (!definition) {
    const known = deps.definitions.map((d) => d.name).join(', ');
    return validationProblem(
      422,
      [{ field: 'definition', reason: `"${name}" is not a configured definition; use one of: ${known}` }],
      'Invalid request',
    );
  }

  if (dryRun) {
    if (!deps.dryRun) {
      return problem(501, 'dry-run-unavailable', 'This deployment cannot plan dry runs.');
    }
    const plan = await deps.dryRun(definition);
    return json(200, { dryRun: true, definition: name, ...plan });
  }

  const outcome = await startBuild(
    { orchestrations: deps.orchestrations, records: deps.records, now: deps.now, log: deps.log },
    {
      definition: name,
      trigger: 'http',
      reason: reason ?? 'requested over HTTP',
      requestedBy: requesterOf(request),
      force: force ?? false,
    },
  );
  if (outcome.outcome === 'already-running') {
    const links = outcome.buildId ? buildLinks(request.url, outcome.buildId) : undefined;
    return problem(
      409,
      'build-running',
      `A build of "${name}" is already running${outcome.buildId ? ` (${outcome.buildId})` : ''}; wait for it to finish or cancel it.`,
      {
        definition: name,
        runningBuildId: outcome.buildId,
        statusUrl: links?.status,
        ...(links ? { links } : {}),
      },
    );
  }
  const links = buildLinks(request.url, outcome.buildId);
  return json(
    202,
    {
      buildId: outcome.buildId,
      definition: name,
      instanceId: outcome.instanceId,
      statusUrl: links.status,
      links,
    },
    { Location: links.status, 'Retry-After': '10' },
  );
}
