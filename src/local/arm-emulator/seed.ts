/** Applies a scenario to an emulator's state: built-in roles, then the scenario's resources. */
import type { Scenario } from '../scenarios/types.js';
import type { EmulatorContext } from './context.js';
import { seedRoleDefinition } from './providers/authorization.js';
import { normalizeLocation } from './providers/common.js';
import { identityId, putIdentity } from './providers/msi.js';
import {
  natGatewayId,
  nsgId,
  putNatGateway,
  putNetworkSecurityGroup,
  putRouteTable,
  putSubnet,
  putVirtualNetwork,
  routeTableId,
  vnetId,
} from './providers/network.js';
import { putResourceGroup } from './providers/resources.js';
import { BUILT_IN_ROLES, ROLE_ASSIGNMENT_TYPE, roleDefinitionStoreId } from './rbac.js';
import type { Json } from './store.js';

const LONG_AGO_MS = 30 * 86400_000;

export function seedBuiltInRoles(ctx: EmulatorContext): void {
  for (const role of BUILT_IN_ROLES) seedRoleDefinition(ctx, role);
}

/** Adds the scenario's resources; seeded identities count as long replicated. */
export function applyScenario(ctx: EmulatorContext, s: Partial<Scenario>): void {
  const sub = ctx.subscriptionId;
  const location = normalizeLocation(s.location ?? ctx.defaultLocation);
  if (s.registeredProviders) {
    ctx.registeredProviders.clear();
    for (const ns of s.registeredProviders) ctx.registeredProviders.add(ns.toLowerCase());
  }
  for (const p of s.principals ?? [])
    ctx.knownPrincipals.set(p.toLowerCase(), { createdAtMs: ctx.now() - LONG_AGO_MS });
  for (const rg of s.resourceGroups ?? [])
    putResourceGroup(ctx, rg.name, normalizeLocation(rg.location ?? location), rg.tags);
  for (const nsg of s.networkSecurityGroups ?? []) {
    putNetworkSecurityGroup(ctx, sub, nsg.resourceGroup, nsg.name, {
      location,
      properties: {
        securityRules: nsg.securityRules.map((r) => ({
          name: r.name,
          properties: {
            priority: r.priority,
            direction: r.direction,
            access: r.access,
            protocol: r.protocol,
            sourceAddressPrefix: r.sourceAddressPrefix,
            sourcePortRange: r.sourcePortRange ?? '*',
            destinationAddressPrefix: r.destinationAddressPrefix,
            destinationPortRange: r.destinationPortRange,
            ...(r.description ? { description: r.description } : {}),
          },
        })),
      },
    });
  }
  for (const n of s.natGateways ?? [])
    putNatGateway(ctx, natGatewayId(sub, n.resourceGroup, n.name), { location, properties: {} });
  for (const t of s.routeTables ?? []) {
    putRouteTable(ctx, routeTableId(sub, t.resourceGroup, t.name), {
      location,
      properties: {
        routes: t.routes.map((r) => ({
          name: r.name,
          properties: {
            addressPrefix: r.addressPrefix,
            nextHopType: r.nextHopType,
            ...(r.nextHopIpAddress ? { nextHopIpAddress: r.nextHopIpAddress } : {}),
          },
        })),
      },
    });
  }
  for (const v of s.virtualNetworks ?? []) {
    putVirtualNetwork(ctx, sub, v.resourceGroup, v.name, {
      location,
      properties: { addressSpace: { addressPrefixes: [...v.addressPrefixes] } },
    });
    for (const sn of v.subnets) {
      putSubnet(
        ctx,
        vnetId(sub, v.resourceGroup, v.name),
        sn.name,
        {
          properties: {
            addressPrefix: sn.addressPrefix,
            privateLinkServiceNetworkPolicies: sn.privateLinkServiceNetworkPolicies ?? 'Enabled',
            ...(sn.networkSecurityGroup
              ? { networkSecurityGroup: { id: nsgId(sub, v.resourceGroup, sn.networkSecurityGroup) } }
              : {}),
            ...(sn.natGateway
              ? { natGateway: { id: natGatewayId(sub, v.resourceGroup, sn.natGateway) } }
              : {}),
            ...(sn.routeTable
              ? { routeTable: { id: routeTableId(sub, v.resourceGroup, sn.routeTable) } }
              : {}),
            ...(sn.defaultOutboundAccess !== undefined
              ? { defaultOutboundAccess: sn.defaultOutboundAccess }
              : {}),
            ...(sn.delegations
              ? {
                  delegations: sn.delegations.map((serviceName, i) => ({
                    name: `delegation-${i}`,
                    properties: { serviceName },
                  })),
                }
              : {}),
          },
        },
        sn.ipConfigurationCount ?? 0,
      );
    }
  }
  for (const i of s.identities ?? []) {
    putIdentity(
      ctx,
      i.resourceGroup,
      i.name,
      location,
      undefined,
      { principalId: i.principalId, clientId: i.clientId },
      ctx.now() - LONG_AGO_MS,
    );
  }
  for (const r of s.customRoles ?? []) {
    seedRoleDefinition(ctx, {
      guid: r.guid,
      roleName: r.roleName,
      description: r.description ?? '',
      type: 'CustomRole',
      actions: r.actions,
      notActions: r.notActions ?? [],
      assignableScopes: [`/subscriptions/${sub}`],
    });
  }
  for (const m of s.marketplace ?? []) {
    const key = ctx.marketplaceKey(m.publisher, m.offer, m.sku);
    ctx.marketplace.set(key, [...new Set([...(ctx.marketplace.get(key) ?? []), ...m.versions])]);
  }
  for (const a of s.roleAssignments ?? []) {
    const principalId =
      'objectId' in a.principal
        ? a.principal.objectId
        : String(
            (
              ctx.store.get(identityId(sub, a.principal.identity.resourceGroup, a.principal.identity.name))
                ?.body.properties as Json | undefined
            )?.principalId,
          );
    const name = a.name ?? crypto.randomUUID();
    const id = `${a.scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
    ctx.store.put(
      id,
      ROLE_ASSIGNMENT_TYPE,
      {
        id,
        name,
        type: ROLE_ASSIGNMENT_TYPE,
        properties: {
          roleDefinitionId: `/subscriptions/${sub}${roleDefinitionStoreId(a.roleDefinitionGuid)}`,
          principalId: principalId.toLowerCase(),
          principalType: 'ServicePrincipal',
          scope: a.scope,
          ...(a.condition ? { condition: a.condition, conditionVersion: '2.0' } : {}),
          createdOn: ctx.isoNow(),
          updatedOn: ctx.isoNow(),
        },
      },
      ctx.now(),
    );
  }
}

/** Publishes one more marketplace image version. */
export function publishMarketplaceVersion(
  ctx: EmulatorContext,
  image: { publisher: string; offer: string; sku: string; version: string },
): string[] {
  const key = ctx.marketplaceKey(image.publisher, image.offer, image.sku);
  const versions = [...new Set([...(ctx.marketplace.get(key) ?? []), image.version])];
  ctx.marketplace.set(key, versions);
  return versions;
}
