/** Microsoft.ManagedIdentity/userAssignedIdentities: PUT/GET/PATCH/DELETE and lists; ids generated on create. */
import { randomUUID } from 'node:crypto';
import type { EmulatorContext } from '../context.js';
import { badRequest, resourceNotFound } from '../errors.js';
import { type Route, route } from '../router.js';
import type { Json, StoredResource } from '../store.js';
import {
  listBody,
  requireLocation,
  requireObjectBody,
  requireResourceGroup,
  requireSubscription,
  resourceGroupId,
  tagsOf,
} from './common.js';

export const IDENTITY_TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities';
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$/;

export function identityId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `${resourceGroupId(subscriptionId, resourceGroup)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
}

export function findIdentityByPrincipal(
  ctx: EmulatorContext,
  principalId: string,
): StoredResource | undefined {
  const p = principalId.toLowerCase();
  return ctx.store.list(IDENTITY_TYPE).find((r) => String((r.body.properties as Json).principalId) === p);
}

/** Creates (or updates) an identity; `createdAtMs` lets scenarios seed identities that are long replicated. */
export function putIdentity(
  ctx: EmulatorContext,
  resourceGroup: string,
  name: string,
  location: string,
  tags?: Record<string, string>,
  ids?: { principalId?: string; clientId?: string },
  createdAtMs?: number,
): { body: Json; created: boolean } {
  const id = identityId(ctx.subscriptionId, resourceGroup, name);
  const existing = ctx.store.get(id);
  const prev = existing?.body.properties as Json | undefined;
  const body: Json = {
    id,
    name,
    type: IDENTITY_TYPE,
    location,
    ...(tags ? { tags } : {}),
    properties: {
      tenantId: ctx.tenantId,
      principalId: String(prev?.principalId ?? ids?.principalId ?? randomUUID()).toLowerCase(),
      clientId: String(prev?.clientId ?? ids?.clientId ?? randomUUID()).toLowerCase(),
      isolationScope: 'None',
    },
  };
  ctx.store.put(id, IDENTITY_TYPE, body, ctx.now(), createdAtMs ?? ctx.now());
  return { body, created: !existing };
}

function getIdentity(ctx: EmulatorContext, sub: string, rg: string, name: string): StoredResource {
  requireResourceGroup(ctx, sub, rg);
  const r = ctx.store.get(identityId(sub, rg, name));
  if (!r) throw resourceNotFound(IDENTITY_TYPE, name, rg);
  return r;
}

const BASE = '/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities';

export const msiRoutes: readonly Route[] = [
  route(
    'GET',
    '/subscriptions/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities',
    (ctx, _req, [sub]) => {
      requireSubscription(ctx, sub!);
      return { status: 200, body: listBody(ctx.store.list(IDENTITY_TYPE).map((r) => r.body)) };
    },
  ),
  route('GET', BASE, (ctx, _req, [sub, rg]) => {
    requireResourceGroup(ctx, sub!, rg!);
    return {
      status: 200,
      body: listBody(ctx.store.list(IDENTITY_TYPE, resourceGroupId(sub!, rg!)).map((r) => r.body)),
    };
  }),
  route('GET', `${BASE}/{}`, (ctx, _req, [sub, rg, name]) => ({
    status: 200,
    body: getIdentity(ctx, sub!, rg!, name!).body,
  })),
  route('PUT', `${BASE}/{}`, (ctx, req, [sub, rg, name]) => {
    requireResourceGroup(ctx, sub!, rg!);
    if (!NAME.test(name!)) {
      throw badRequest(
        'InvalidResourceName',
        `The resource name '${name}' is invalid: use 3-120 letters, digits, hyphens and underscores, starting with a letter or digit.`,
      );
    }
    const body = requireObjectBody(req);
    const result = putIdentity(ctx, rg!, name!, requireLocation(body, ctx), tagsOf(body));
    return { status: result.created ? 201 : 200, body: result.body };
  }),
  route('PATCH', `${BASE}/{}`, (ctx, req, [sub, rg, name]) => {
    const r = getIdentity(ctx, sub!, rg!, name!);
    const body = requireObjectBody(req);
    const tags = tagsOf(body);
    const updated = { ...r.body, ...(tags ? { tags } : {}) };
    ctx.store.put(r.id, IDENTITY_TYPE, updated, ctx.now());
    return { status: 200, body: updated };
  }),
  route('DELETE', `${BASE}/{}`, (ctx, _req, [sub, rg, name]) => {
    requireResourceGroup(ctx, sub!, rg!);
    return { status: ctx.store.delete(identityId(sub!, rg!, name!)) ? 200 : 204 };
  }),
];
