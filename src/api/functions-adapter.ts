/**
 * Glue between the Functions host objects and the host-free API: request/response mapping, the
 * production composition of ApiDeps, and a last-resort problem+json for unexpected errors.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { DurableClient } from 'durable-functions';
import { resolveSourceVersion } from '../activities/source-version.js';
import { getAzureClients } from '../azure/clients.js';
import { classifyError } from '../azure/errors.js';
import { type AppConfig, getConfig } from '../config.js';
import { type BuildRecordStore, buildRecordsFor } from '../records/build-records.js';
import { durableClientPort } from '../triggers/durable-client-port.js';
import type { ApiDeps } from './deps.js';
import { dryRunPlanner } from './dry-run.js';
import { type ApiRequest, type ApiResponse, readCapped } from './http-types.js';
import { problem } from './problem.js';

export function toApiRequest(req: HttpRequest): ApiRequest {
  return {
    method: req.method,
    url: req.url,
    header: (name) => req.headers.get(name),
    params: req.params,
    query: req.query,
    text: (maxBytes) => readCapped(req.body as ReadableStream<Uint8Array> | null, maxBytes),
  };
}

export function toHttpResponse(res: ApiResponse): HttpResponseInit {
  return { status: res.status, headers: { ...res.headers }, jsonBody: res.jsonBody };
}

let records: { readonly config: AppConfig; readonly store: BuildRecordStore } | undefined;

/** One record store per configuration (it creates its table once). */
function recordStore(config: AppConfig): BuildRecordStore {
  if (records?.config !== config)
    records = { config, store: buildRecordsFor(config, getAzureClients(config)) };
  return records.store;
}

/** The production dependencies of the API, from the validated settings and the durable client. */
export function apiDepsFor(client: DurableClient, context: InvocationContext): ApiDeps {
  const config = getConfig();
  const clients = getAzureClients(config);
  return {
    definitions: config.definitions,
    orchestrations: durableClientPort(client),
    records: recordStore(config),
    newestBaseImageVersion: async (definition) => {
      try {
        return (await resolveSourceVersion({ config, clients }, { definition: definition.name })).version;
      } catch (e) {
        if (classifyError(e).kind === 'permanent') return undefined; // no version offered (or pinned one gone)
        throw e;
      }
    },
    dryRun: dryRunPlanner(config, clients),
    log: { info: (m) => context.log(m), warn: (m) => context.warn(m) },
  };
}

/** Runs an API handler; an unexpected error becomes a 500 problem without internals (logged in full). */
export async function runApi(
  context: InvocationContext,
  handler: () => Promise<ApiResponse>,
): Promise<HttpResponseInit> {
  try {
    return toHttpResponse(await handler());
  } catch (e) {
    context.error(`request failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return toHttpResponse(
      problem(
        500,
        'internal',
        `The request could not be completed (invocation ${context.invocationId}); see the app logs.`,
      ),
    );
  }
}
