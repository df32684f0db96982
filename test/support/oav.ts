/**
 * Fidelity check: recorded emulator exchanges validated against the Azure REST API specifications in
 * ../shared/specs with oav's LiveValidator (the library; its CLI needs the internet). Only operations
 * the specs describe are validated (Image Builder, Authorization, Managed Identity); operation-status
 * URLs are not part of those specs. Skips only when the specs folder is absent.
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
];
const VALIDATED_NAMESPACES =
  /\/providers\/(Microsoft\.VirtualMachineImages|Microsoft\.Authorization|Microsoft\.ManagedIdentity)\//i;
const OPERATION_STATUS = /\/locations\/[^/]+\/(operations|operationResults)\//i;

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

/** True for exchanges the specs describe. */
export function isSpecifiedOperation(e: RecordedExchange): boolean {
  const path = new URL(e.request.url).pathname;
  return VALIDATED_NAMESPACES.test(path) && !OPERATION_STATUS.test(path) && e.response.statusCode !== 0;
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
