/** Microsoft.Resources: the subscription, resource groups (GET/PUT/HEAD/DELETE/list) and their resources. */
import type { EmulatorContext } from '../context.js';
import { ArmError, badRequest, resourceGroupNotFound } from '../errors.js';
import { ROLE_ASSIGNMENT_TYPE } from '../rbac.js';
import { type Route, route } from '../router.js';
import { isAtOrBelow, type Json } from '../store.js';
import {
  acceptedResponse,
  listBody,
  provisioningOperation,
  RESOURCE_GROUP_TYPE,
  requireLocation,
  requireObjectBody,
  requireSubscription,
  resourceGroupId,
  tagsOf,
} from './common.js';

const RG_NAME = /^[-\w._()]{1,90}$/;

export function putResourceGroup(
  ctx: EmulatorContext,
  name: string,
  location: string,
  tags?: Record<string, string>,
  managedBy?: string,
): { body: Json; created: boolean } {
  const id = resourceGroupId(ctx.subscriptionId, name);
  const existing = ctx.store.get(id);
  const body: Json = {
    id,
    name: existing ? String(existing.body.name) : name,
    type: RESOURCE_GROUP_TYPE,
    location,
    ...(tags ? { tags } : {}),
    ...(managedBy ? { managedBy } : {}),
    properties: { provisioningState: 'Succeeded' },
  };
  ctx.store.put(id, RESOURCE_GROUP_TYPE, body, ctx.now());
  return { body, created: !existing };
}

/** Removes a resource group, everything in it and every role assignment at or below it. */
export function deleteResourceGroupContents(ctx: EmulatorContext, id: string): void {
  for (const r of ctx.store.listUnder(id)) ctx.store.delete(r.id);
  for (const a of ctx.store.list(ROLE_ASSIGNMENT_TYPE)) {
    if (isAtOrBelow(String((a.body.properties as Json).scope), id)) ctx.store.delete(a.id);
  }
  ctx.store.delete(id);
}

/** Namespaces registered on a new subscription in this emulator (a scenario may list its own). */
export const DEFAULT_REGISTERED_PROVIDERS: readonly string[] = [
  'Microsoft.Authorization',
  'Microsoft.Compute',
  'Microsoft.ContainerInstance',
  'Microsoft.KeyVault',
  'Microsoft.ManagedIdentity',
  'Microsoft.Network',
  'Microsoft.Resources',
  'Microsoft.Storage',
  'Microsoft.VirtualMachineImages',
];

/** A provider as Providers - Get answers (Microsoft.Resources 2021-04-01 and later). */
function providerView(ctx: EmulatorContext, namespace: string) {
  const registered = ctx.registeredProviders.has(namespace.toLowerCase());
  return {
    id: `/subscriptions/${ctx.subscriptionId}/providers/${namespace}`,
    namespace,
    registrationState: registered ? 'Registered' : 'NotRegistered',
    registrationPolicy: 'RegistrationRequired',
    resourceTypes: [],
  };
}

const NAMESPACE = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+$/;

function requireNamespace(namespace: string): string {
  if (!NAMESPACE.test(namespace)) {
    throw new ArmError(404, 'InvalidResourceNamespace', `The resource namespace '${namespace}' is invalid.`);
  }
  return namespace;
}

export const resourceRoutes: readonly Route[] = [
  route('GET', '/subscriptions/{}/providers/{}', (ctx, _req, [sub, ns]) => {
    requireSubscription(ctx, sub!);
    return { status: 200, body: providerView(ctx, requireNamespace(ns!)) };
  }),
  route('POST', '/subscriptions/{}/providers/{}/register', (ctx, _req, [sub, ns]) => {
    requireSubscription(ctx, sub!);
    ctx.registeredProviders.add(requireNamespace(ns!).toLowerCase());
    return { status: 200, body: providerView(ctx, ns!) };
  }),
  route('POST', '/subscriptions/{}/providers/{}/unregister', (ctx, _req, [sub, ns]) => {
    requireSubscription(ctx, sub!);
    ctx.registeredProviders.delete(requireNamespace(ns!).toLowerCase());
    return { status: 200, body: providerView(ctx, ns!) };
  }),
  route('GET', '/subscriptions/{}', (ctx, _req, [sub]) => {
    requireSubscription(ctx, sub!);
    return {
      status: 200,
      body: {
        id: `/subscriptions/${ctx.subscriptionId}`,
        subscriptionId: ctx.subscriptionId,
        tenantId: ctx.tenantId,
        displayName: 'Local emulator subscription',
        state: 'Enabled',
        subscriptionPolicies: {
          locationPlacementId: 'Public_2014-09-01',
          quotaId: 'PayAsYouGo_2014-09-01',
          spendingLimit: 'Off',
        },
        authorizationSource: 'RoleBased',
      },
    };
  }),
  route('GET', '/subscriptions/{}/resourcegroups', (ctx, _req, [sub]) => {
    requireSubscription(ctx, sub!);
    return { status: 200, body: listBody(ctx.store.list(RESOURCE_GROUP_TYPE).map((r) => r.body)) };
  }),
  route('GET', '/subscriptions/{}/resourcegroups/{}', (ctx, _req, [sub, rg]) => {
    requireSubscription(ctx, sub!);
    const r = ctx.store.get(resourceGroupId(sub!, rg!));
    if (!r) throw resourceGroupNotFound(rg!);
    return { status: 200, body: r.body };
  }),
  route('HEAD', '/subscriptions/{}/resourcegroups/{}', (ctx, _req, [sub, rg]) => {
    requireSubscription(ctx, sub!);
    return { status: ctx.store.has(resourceGroupId(sub!, rg!)) ? 204 : 404 };
  }),
  route('PUT', '/subscriptions/{}/resourcegroups/{}', (ctx, req, [sub, rg]) => {
    requireSubscription(ctx, sub!);
    if (!RG_NAME.test(rg!) || rg!.endsWith('.')) {
      throw badRequest(
        'InvalidResourceGroup',
        `The provided resource group name '${rg}' has these invalid characters or is too long: use up to 90 letters, digits, underscores, hyphens, periods (not at the end) and parentheses.`,
      );
    }
    const body = requireObjectBody(req);
    const existing = ctx.store.get(resourceGroupId(sub!, rg!));
    const location = requireLocation(body, ctx);
    if (existing && String(existing.body.location) !== location) {
      throw new ArmError(
        409,
        'InvalidResourceGroupLocation',
        `Invalid resource group location '${location}'. The Resource group already exists in location '${String(existing.body.location)}' in resource group '${rg}'. A resource group's location cannot be changed.`,
      );
    }
    const managedBy = typeof body.managedBy === 'string' ? body.managedBy : undefined;
    const result = putResourceGroup(ctx, rg!, location, tagsOf(body), managedBy);
    return { status: result.created ? 201 : 200, body: result.body };
  }),
  route('DELETE', '/subscriptions/{}/resourcegroups/{}', (ctx, req, [sub, rg]) => {
    requireSubscription(ctx, sub!);
    const id = resourceGroupId(sub!, rg!);
    const r = ctx.store.get(id);
    if (!r) return { status: 204 };
    deleteResourceGroupContents(ctx, id);
    const op = provisioningOperation(ctx, req, 'Microsoft.Resources', String(r.body.location), id);
    return acceptedResponse(ctx, req, op, { location: true });
  }),
  route('GET', '/subscriptions/{}/resourcegroups/{}/resources', (ctx, _req, [sub, rg]) => {
    requireSubscription(ctx, sub!);
    const id = resourceGroupId(sub!, rg!);
    if (!ctx.store.has(id)) throw resourceGroupNotFound(rg!);
    const items = ctx.store
      .listUnder(id)
      .filter((r) => r.id.split('/').length === 9 && !r.type.startsWith('Microsoft.Authorization/'))
      .map((r) => ({
        id: r.body.id,
        name: r.body.name,
        type: r.body.type,
        location: r.body.location,
        ...(r.body.tags ? { tags: r.body.tags } : {}),
      }));
    return { status: 200, body: listBody(items) };
  }),
];
