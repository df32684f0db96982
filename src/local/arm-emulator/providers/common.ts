/** Helpers shared by the provider modules: existence checks, list bodies, long-running answers. */
import type { ArmRequest, ArmResponse, EmulatorContext } from '../context.js';
import { ArmError, resourceGroupNotFound, subscriptionNotFound } from '../errors.js';
import { type AsyncOperation, type Completion, SUCCEEDED } from '../operations.js';
import type { Json } from '../store.js';

export const RESOURCE_GROUP_TYPE = 'Microsoft.Resources/resourceGroups';

export function resourceGroupId(subscriptionId: string, resourceGroup: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`;
}

export function requireSubscription(ctx: EmulatorContext, subscriptionId: string): void {
  if (subscriptionId.toLowerCase() !== ctx.subscriptionId.toLowerCase())
    throw subscriptionNotFound(subscriptionId);
}

/** Checks subscription and resource group; returns the stored group's body. */
export function requireResourceGroup(
  ctx: EmulatorContext,
  subscriptionId: string,
  resourceGroup: string,
): Json {
  requireSubscription(ctx, subscriptionId);
  const rg = ctx.store.get(resourceGroupId(subscriptionId, resourceGroup));
  if (!rg) throw resourceGroupNotFound(resourceGroup);
  return rg.body;
}

export function listBody(value: readonly unknown[]): { value: unknown[] } {
  return { value: [...value] };
}

export function requireObjectBody(req: ArmRequest): Json {
  if (
    req.body === undefined ||
    req.body === null ||
    typeof req.body !== 'object' ||
    Array.isArray(req.body)
  ) {
    throw new ArmError(
      400,
      'InvalidRequestContent',
      'The request content was invalid and could not be deserialized: a JSON object is required.',
    );
  }
  return req.body as Json;
}

export function requireLocation(body: Json, ctx: EmulatorContext): string {
  const location = body.location;
  if (typeof location !== 'string' || location.trim() === '') {
    throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.');
  }
  return normalizeLocation(location) || ctx.defaultLocation;
}

/** ARM location names: lower case without spaces (`East US 2` -> `eastus2`). */
export function normalizeLocation(location: string): string {
  return location.replace(/\s+/g, '').toLowerCase();
}

export function retryAfterHeader(ctx: EmulatorContext): Record<string, string> {
  return { 'Retry-After': String(ctx.timing.lroRetryAfterSeconds) };
}

/** A provisioning operation that completes after `provisioningPolls` observations. */
export function provisioningOperation(
  ctx: EmulatorContext,
  req: ArmRequest,
  namespace: string,
  location: string,
  resourceId: string,
  completion: Completion = SUCCEEDED,
): AsyncOperation {
  return ctx.operations.create({
    namespace,
    location,
    apiVersion: req.apiVersion,
    resourceId,
    driver: { kind: 'polls', remaining: ctx.timing.provisioningPolls, completion },
  });
}

/** 201/200 with `Azure-AsyncOperation` for a PUT whose provisioning continues asynchronously. */
export function asyncPutResponse(
  ctx: EmulatorContext,
  req: ArmRequest,
  op: AsyncOperation,
  created: boolean,
  body: Json,
): ArmResponse {
  return {
    status: created ? 201 : 200,
    headers: {
      'Azure-AsyncOperation': ctx.asyncOperationUrl(op.namespace, op.location, op.id, req.apiVersion),
      ...retryAfterHeader(ctx),
    },
    body,
  };
}

/** 202 with `Location` (and `Azure-AsyncOperation` when asked) for a DELETE or POST. */
export function acceptedResponse(
  ctx: EmulatorContext,
  req: ArmRequest,
  op: AsyncOperation,
  headers: { location?: boolean; asyncOperation?: boolean },
): ArmResponse {
  const h: Record<string, string> = { ...retryAfterHeader(ctx) };
  if (headers.location) h.Location = ctx.operationResultUrl(op.namespace, op.location, op.id, req.apiVersion);
  if (headers.asyncOperation) {
    h['Azure-AsyncOperation'] = ctx.asyncOperationUrl(op.namespace, op.location, op.id, req.apiVersion);
  }
  return { status: 202, headers: h };
}

export function tagsOf(body: Json): Record<string, string> | undefined {
  const t = body.tags;
  if (t === undefined || t === null) return undefined;
  if (typeof t !== 'object' || Array.isArray(t) || Object.values(t).some((v) => typeof v !== 'string')) {
    throw new ArmError(400, 'InvalidTag', 'Tags must be an object of string values.');
  }
  return t as Record<string, string>;
}

export function etag(): string {
  return `W/"${crypto.randomUUID()}"`;
}
