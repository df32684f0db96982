/**
 * Fidelity check: recorded emulator exchanges validated against the Azure REST API specifications in
 * ../shared/specs with oav's LiveValidator (the library; its CLI needs the internet). Only operations
 * the specs describe are validated (Image Builder, Authorization, Managed Identity, Network, Compute and
 * galleries, Resources, Storage — each at the api-versions ../shared/specs holds); operation-status URLs
 * are not part of those specs. Skips only when the specs folder is absent.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RecordedExchange } from '../../src/local/arm-emulator/index.js';

export const SPECS_DIR =
  process.env.AZURE_REST_SPECS_DIR ?? resolve(process.cwd(), '../shared/specs/specification');

const SPEC_FILES = [
  'imagebuilder/**/imagebuilder.json',
  'authorization/**/authorization-*Calls.json',
  'msi/**/ManagedIdentity.json',
  'network/**/virtualNetwork.json',
  'network/**/networkSecurityGroup.json',
  'network/**/natGateway.json',
  'network/**/routeTable.json',
  'compute/**/ComputeRP.json',
  'compute/**/GalleryRP.json',
  'resources/**/resources.json',
  'storage/**/storage.json',
];
/**
 * The api-versions each namespace's specs describe here: an exchange is validated when its namespace and
 * api-version have a spec (the SDKs send Microsoft.Resources 2025-04-01 and Microsoft.Storage 2026-06-01,
 * which the pruned specs do not hold; raw calls at 2021-04-01 / 2025-06-01 are validated).
 */
const SPECIFIED_VERSIONS: Readonly<Record<string, readonly string[]>> = {
  'microsoft.virtualmachineimages': ['2025-10-01'],
  'microsoft.authorization': ['2022-04-01'],
  'microsoft.managedidentity': ['2024-11-30'],
  'microsoft.network': ['2025-05-01'],
  'microsoft.compute': ['2026-03-01', '2025-03-03'],
  'microsoft.resources': ['2021-04-01'],
  'microsoft.storage': ['2025-06-01'],
};
const OPERATION_STATUS = /\/locations\/[^/]+\/(operations|operationResults)\//i;
const RESOURCES_SPECIFIED =
  /^\/subscriptions\/[^/]+\/resourcegroups(\/[^/]+)?\/?$|\/providers\/Microsoft\.Resources\/tags\/default$/i;
/** Network resources outside the specs loaded above (none are emulated today). */
const NETWORK_SPECIFIED = /\/(virtualNetworks|networkSecurityGroups|natGateways|routeTables)(\/|$)/i;

export function specsAvailable(): boolean {
  return existsSync(SPECS_DIR);
}

type Validator = {
  validateLiveRequestResponse(pair: unknown): Promise<{
    requestValidationResult: {
      errors: { code: string; message: string; pathsInPayload?: string[] }[];
      runtimeException?: { code: string; message: string };
    };
    responseValidationResult: {
      errors: { code: string; message: string; pathsInPayload?: string[] }[];
      runtimeException?: { code: string; message: string };
    };
    runtimeException?: { code: string; message: string };
  }>;
};

let validator: Promise<Validator> | undefined;

async function getValidator(): Promise<Validator> {
  validator ??= (async () => {
    const { LiveValidator } = await import('oav');
    const v = new LiveValidator(
      {
        directory: SPECS_DIR,
        swaggerPathsPattern: SPEC_FILES,
        git: { shouldClone: false },
        isPathCaseSensitive: false,
      },
      () => {},
    );
    await v.initialize();
    return v as unknown as Validator;
  })();
  return validator;
}

/** The namespace a path addresses: the last `/providers/{ns}` segment, else Microsoft.Resources. */
function namespaceOf(path: string): string {
  if (/^\/subscriptions\/[^/]+\/providers(\/[^/]+(\/(register|unregister))?)?\/?$/i.test(path))
    return 'microsoft.resources';
  const all = [...path.matchAll(/\/providers\/([^/?]+)/gi)];
  return (all.at(-1)?.[1] ?? 'Microsoft.Resources').toLowerCase();
}

/** True for exchanges the specs describe (namespace and api-version present in ../shared/specs). */
export function isSpecifiedOperation(e: RecordedExchange): boolean {
  const url = new URL(e.request.url);
  const path = url.pathname;
  const ns = namespaceOf(path);
  const version = url.searchParams.get('api-version') ?? '';
  if (!(SPECIFIED_VERSIONS[ns] ?? []).includes(version)) return false;
  if (ns === 'microsoft.network' && !NETWORK_SPECIFIED.test(path)) return false;
  // Of Microsoft.Resources the pruned spec holds resource groups and tags only.
  if (ns === 'microsoft.resources' && !RESOURCES_SPECIFIED.test(path)) return false;
  // Provider registration is not in the pruned Resources spec.
  if (
    /^\/subscriptions\/[^/]+\/providers\/[^/]+/i.test(path) &&
    ns === 'microsoft.resources' &&
    !/\/providers\/Microsoft\.Resources\//i.test(path)
  )
    return false;
  return !OPERATION_STATUS.test(path) && e.response.statusCode !== 0;
}

/** Every validation problem, one readable line each (empty when the traffic conforms). */
export async function fidelityIssues(exchanges: readonly RecordedExchange[]): Promise<string[]> {
  const v = await getValidator();
  const issues: string[] = [];
  for (const e of exchanges.filter(isSpecifiedOperation)) {
    const r = await v.validateLiveRequestResponse({
      liveRequest: {
        url: e.request.url,
        method: e.request.method.toLowerCase(),
        headers: e.request.headers,
        body: e.request.body,
      },
      liveResponse: {
        statusCode: String(e.response.statusCode),
        headers: e.response.headers,
        body: e.response.body,
      },
    });
    const where = `${e.request.method} ${e.request.url} -> ${e.response.statusCode}`;
    // A request the emulator refused with a 4xx (bad name, unknown api-version...) may itself break the
    // spec: refusing it is the correct answer. Its error response must still conform.
    const refused = e.response.statusCode >= 400 && e.response.statusCode < 500;
    const exceptions = [
      r.runtimeException,
      r.requestValidationResult.runtimeException,
      r.responseValidationResult.runtimeException,
    ];
    for (const x of exceptions) {
      if (x && !(refused && /OPERATION_NOT_FOUND/.test(x.code)))
        issues.push(`${where}: ${x.code} ${x.message}`);
    }
    if (!refused) {
      for (const err of r.requestValidationResult.errors)
        issues.push(`${where}: request ${err.code} ${err.message} at ${err.pathsInPayload?.join(',') ?? ''}`);
    }
    for (const err of r.responseValidationResult.errors)
      issues.push(`${where}: response ${err.code} ${err.message} at ${err.pathsInPayload?.join(',') ?? ''}`);
  }
  return issues;
}
