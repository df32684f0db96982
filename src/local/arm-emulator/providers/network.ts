/**
 * Microsoft.Network: virtual networks, subnets and network security groups (GET/PUT/DELETE/list), with
 * the properties preflight reads: address prefixes, privateLinkServiceNetworkPolicies, NSG reference,
 * ipConfigurations.
 */
import { randomUUID } from 'node:crypto';
import type { ArmRequest, EmulatorContext } from '../context.js';
import { ArmError, badRequest, resourceNotFound } from '../errors.js';
import { type Route, route } from '../router.js';
import type { Json, StoredResource } from '../store.js';
import {
  acceptedResponse,
  asyncPutResponse,
  etag,
  listBody,
  provisioningOperation,
  requireLocation,
  requireObjectBody,
  requireResourceGroup,
  resourceGroupId,
  tagsOf,
} from './common.js';

export const VNET_TYPE = 'Microsoft.Network/virtualNetworks';
export const SUBNET_TYPE = 'Microsoft.Network/virtualNetworks/subnets';
export const NSG_TYPE = 'Microsoft.Network/networkSecurityGroups';
export const NAT_GATEWAY_TYPE = 'Microsoft.Network/natGateways';
export const ROUTE_TABLE_TYPE = 'Microsoft.Network/routeTables';
const ROUTE_NEXT_HOPS = ['VirtualNetworkGateway', 'VnetLocal', 'Internet', 'VirtualAppliance', 'None'];

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

export function isCidr(value: unknown): value is string {
  const m = typeof value === 'string' ? CIDR.exec(value) : null;
  return !!m && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
}

export function vnetId(sub: string, rg: string, name: string): string {
  return `${resourceGroupId(sub, rg)}/providers/Microsoft.Network/virtualNetworks/${name}`;
}

export function nsgId(sub: string, rg: string, name: string): string {
  return `${resourceGroupId(sub, rg)}/providers/Microsoft.Network/networkSecurityGroups/${name}`;
}

function defaultSecurityRules(id: string): Json[] {
  const rule = (
    name: string,
    direction: string,
    priority: number,
    access: string,
    src: string,
    dst: string,
    description: string,
  ) => ({
    id: `${id}/defaultSecurityRules/${name}`,
    name,
    type: 'Microsoft.Network/networkSecurityGroups/defaultSecurityRules',
    properties: {
      provisioningState: 'Succeeded',
      description,
      protocol: '*',
      sourcePortRange: '*',
      destinationPortRange: '*',
      sourceAddressPrefix: src,
      destinationAddressPrefix: dst,
      access,
      priority,
      direction,
      sourcePortRanges: [],
      destinationPortRanges: [],
      sourceAddressPrefixes: [],
      destinationAddressPrefixes: [],
    },
  });
  return [
    rule(
      'AllowVnetInBound',
      'Inbound',
      65000,
      'Allow',
      'VirtualNetwork',
      'VirtualNetwork',
      'Allow inbound traffic from all VMs in VNET',
    ),
    rule(
      'AllowAzureLoadBalancerInBound',
      'Inbound',
      65001,
      'Allow',
      'AzureLoadBalancer',
      '*',
      'Allow inbound traffic from azure load balancer',
    ),
    rule('DenyAllInBound', 'Inbound', 65500, 'Deny', '*', '*', 'Deny all inbound traffic'),
    rule(
      'AllowVnetOutBound',
      'Outbound',
      65000,
      'Allow',
      'VirtualNetwork',
      'VirtualNetwork',
      'Allow outbound traffic from all VMs to all VMs in VNET',
    ),
    rule(
      'AllowInternetOutBound',
      'Outbound',
      65001,
      'Allow',
      '*',
      'Internet',
      'Allow outbound traffic from all VMs to Internet',
    ),
    rule('DenyAllOutBound', 'Outbound', 65500, 'Deny', '*', '*', 'Deny all outbound traffic'),
  ];
}

/** Stores a subnet; keeps read-only ipConfigurations of an existing one unless `ipConfigurationCount` is given. */
export function putSubnet(
  ctx: EmulatorContext,
  vnet: string,
  name: string,
  input: Json,
  ipConfigurationCount?: number,
): Json {
  const id = `${vnet}/subnets/${name}`;
  const props = (input.properties ?? {}) as Json;
  const prefixes = Array.isArray(props.addressPrefixes) ? (props.addressPrefixes as unknown[]) : undefined;
  const prefix = props.addressPrefix ?? prefixes?.[0];
  if (!isCidr(prefix)) {
    throw badRequest(
      'InvalidAddressPrefixFormat',
      `Subnet '${name}' needs properties.addressPrefix in CIDR form, e.g. 10.0.0.0/28.`,
      'properties.addressPrefix',
    );
  }
  const reference = (field: string, type: string): string | undefined => {
    const ref = (props[field] as Json | undefined)?.id;
    if (ref === undefined || ref === null) return undefined;
    if (typeof ref !== 'string' || ctx.store.get(ref)?.type !== type) {
      throw badRequest(
        'InvalidResourceReference',
        `Resource ${String(ref)} referenced by resource ${id} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`,
        `properties.${field}.id`,
      );
    }
    return ref;
  };
  const natGateway = reference('natGateway', NAT_GATEWAY_TYPE);
  const routeTable = reference('routeTable', ROUTE_TABLE_TYPE);
  if (props.defaultOutboundAccess !== undefined && typeof props.defaultOutboundAccess !== 'boolean') {
    throw badRequest(
      'InvalidRequestFormat',
      `Subnet '${name}': properties.defaultOutboundAccess must be true or false.`,
      'properties.defaultOutboundAccess',
    );
  }
  const delegations = normalizeDelegations(id, props.delegations);
  const nsg = (props.networkSecurityGroup as Json | undefined)?.id;
  if (nsg !== undefined) {
    if (typeof nsg !== 'string' || !ctx.store.has(nsg)) {
      throw badRequest(
        'InvalidResourceReference',
        `Resource ${String(nsg)} referenced by resource ${id} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`,
      );
    }
  }
  const existing = ctx.store.get(id);
  const prevProps = (existing?.body.properties ?? {}) as Json;
  const ipConfigurations =
    ipConfigurationCount !== undefined
      ? Array.from({ length: ipConfigurationCount }, (_, i) => ({
          id: `${resourceGroupId(ctx.subscriptionId, id.split('/')[4]!)}/providers/Microsoft.Network/networkInterfaces/nic-existing-${i}/ipConfigurations/ipconfig1`,
        }))
      : (prevProps.ipConfigurations as Json[] | undefined);
  const body: Json = {
    id,
    name,
    etag: etag(),
    type: SUBNET_TYPE,
    properties: {
      provisioningState: 'Succeeded',
      addressPrefix: prefix,
      ...(nsg ? { networkSecurityGroup: { id: nsg } } : {}),
      ...(natGateway ? { natGateway: { id: natGateway } } : {}),
      ...(routeTable ? { routeTable: { id: routeTable } } : {}),
      ...(typeof props.defaultOutboundAccess === 'boolean'
        ? { defaultOutboundAccess: props.defaultOutboundAccess }
        : {}),
      ...(ipConfigurations && ipConfigurations.length > 0 ? { ipConfigurations } : {}),
      privateEndpointNetworkPolicies: String(props.privateEndpointNetworkPolicies ?? 'Disabled'),
      privateLinkServiceNetworkPolicies: String(props.privateLinkServiceNetworkPolicies ?? 'Enabled'),
      delegations,
    },
  };
  ctx.store.put(id, SUBNET_TYPE, body, ctx.now());
  return body;
}

/** Delegations in the Network API shape: `{name, id, type, properties: {serviceName, actions, provisioningState}}`. */
function normalizeDelegations(subnetId: string, value: unknown): Json[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw badRequest(
      'InvalidRequestFormat',
      'properties.delegations must be an array.',
      'properties.delegations',
    );
  }
  return (value as Json[]).map((d, i) => {
    const serviceName = ((d?.properties ?? {}) as Json).serviceName;
    if (typeof serviceName !== 'string' || !/^[A-Za-z.]+\/[A-Za-z/]+$/.test(serviceName)) {
      throw badRequest(
        'InvalidServiceNameOnDelegation',
        `properties.delegations[${i}].properties.serviceName must name a service, e.g. Microsoft.ContainerInstance/containerGroups.`,
        `properties.delegations[${i}].properties.serviceName`,
      );
    }
    const name = typeof d.name === 'string' ? d.name : `delegation-${i}`;
    return {
      name,
      id: `${subnetId}/delegations/${name}`,
      type: 'Microsoft.Network/virtualNetworks/subnets/delegations',
      properties: {
        serviceName,
        ...(serviceName.toLowerCase() === 'microsoft.containerinstance/containergroups'
          ? { actions: ['Microsoft.Network/virtualNetworks/subnets/action'] }
          : {}),
        provisioningState: 'Succeeded',
      },
    };
  });
}

export function natGatewayId(sub: string, rg: string, name: string): string {
  return `${resourceGroupId(sub, rg)}/providers/Microsoft.Network/natGateways/${name}`;
}

export function routeTableId(sub: string, rg: string, name: string): string {
  return `${resourceGroupId(sub, rg)}/providers/Microsoft.Network/routeTables/${name}`;
}

/** A NAT gateway (Standard SKU): explicit outbound connectivity for the subnets attached to it. */
export function putNatGateway(
  ctx: EmulatorContext,
  id: string,
  input: Json,
): { body: Json; created: boolean } {
  const location = requireLocation(input, ctx);
  const existing = ctx.store.get(id);
  const props = (input.properties ?? {}) as Json;
  const body: Json = {
    id,
    name: id.split('/').at(-1),
    type: NAT_GATEWAY_TYPE,
    location,
    etag: etag(),
    ...(tagsOf(input) ? { tags: tagsOf(input) } : {}),
    sku: { name: 'Standard' },
    properties: {
      provisioningState: 'Succeeded',
      resourceGuid: existing ? (existing.body.properties as Json).resourceGuid : randomUUID(),
      idleTimeoutInMinutes: typeof props.idleTimeoutInMinutes === 'number' ? props.idleTimeoutInMinutes : 4,
      ...(Array.isArray(props.publicIpAddresses) ? { publicIpAddresses: props.publicIpAddresses } : {}),
    },
  };
  ctx.store.put(id, NAT_GATEWAY_TYPE, body, ctx.now());
  return { body: attachedSubnets(ctx, body, 'natGateway'), created: !existing };
}

/** A route table; routes name a next hop type (Internet, VirtualAppliance, None, ...). */
export function putRouteTable(
  ctx: EmulatorContext,
  id: string,
  input: Json,
): { body: Json; created: boolean } {
  const location = requireLocation(input, ctx);
  const existing = ctx.store.get(id);
  const props = (input.properties ?? {}) as Json;
  const routes = Array.isArray(props.routes) ? (props.routes as Json[]) : [];
  const body: Json = {
    id,
    name: id.split('/').at(-1),
    type: ROUTE_TABLE_TYPE,
    location,
    etag: etag(),
    ...(tagsOf(input) ? { tags: tagsOf(input) } : {}),
    properties: {
      provisioningState: 'Succeeded',
      resourceGuid: existing ? (existing.body.properties as Json).resourceGuid : randomUUID(),
      disableBgpRoutePropagation: props.disableBgpRoutePropagation === true,
      routes: routes.map((r, i) => {
        const rp = (r.properties ?? {}) as Json;
        if (
          typeof r.name !== 'string' ||
          !isCidr(rp.addressPrefix) ||
          !ROUTE_NEXT_HOPS.includes(String(rp.nextHopType))
        ) {
          throw badRequest(
            'InvalidRequestFormat',
            `properties.routes[${i}] needs a name, properties.addressPrefix in CIDR form and properties.nextHopType (${ROUTE_NEXT_HOPS.join(', ')}).`,
            `properties.routes[${i}]`,
          );
        }
        return {
          id: `${id}/routes/${r.name}`,
          name: r.name,
          type: 'Microsoft.Network/routeTables/routes',
          properties: {
            provisioningState: 'Succeeded',
            addressPrefix: rp.addressPrefix,
            nextHopType: rp.nextHopType,
            ...(typeof rp.nextHopIpAddress === 'string' ? { nextHopIpAddress: rp.nextHopIpAddress } : {}),
          },
        };
      }),
    },
  };
  ctx.store.put(id, ROUTE_TABLE_TYPE, body, ctx.now());
  return { body: attachedSubnets(ctx, body, 'routeTable'), created: !existing };
}

function attachedSubnets(ctx: EmulatorContext, body: Json, field: 'natGateway' | 'routeTable'): Json {
  const subnets = ctx.store
    .list(SUBNET_TYPE)
    .filter((s) => {
      const ref = ((s.body.properties as Json)[field] as Json | undefined)?.id;
      return typeof ref === 'string' && ref.toLowerCase() === String(body.id).toLowerCase();
    })
    .map((s) => ({ id: s.id }));
  return { ...body, properties: { ...(body.properties as Json), ...(subnets.length ? { subnets } : {}) } };
}

/**
 * Whether VMs in the subnet can reach the internet: a NAT gateway, a default route (0.0.0.0/0) to an
 * appliance, gateway or the internet, or default outbound access (unless a default route drops it).
 * https://learn.microsoft.com/azure/virtual-network/ip-services/default-outbound-access
 */
export function subnetEgress(ctx: EmulatorContext, subnetId: string): { internet: boolean; why: string } {
  const subnet = ctx.store.get(subnetId);
  if (!subnet) return { internet: false, why: `subnet ${subnetId} not found` };
  const p = subnet.body.properties as Json;
  const natId = (p.natGateway as Json | undefined)?.id;
  if (typeof natId === 'string' && ctx.store.has(natId))
    return { internet: true, why: `NAT gateway ${natId}` };
  const rtId = (p.routeTable as Json | undefined)?.id;
  const routes = (((ctx.store.get(String(rtId))?.body.properties ?? {}) as Json).routes ?? []) as Json[];
  const defaultRoute = routes.find((r) => (r.properties as Json).addressPrefix === '0.0.0.0/0');
  if (defaultRoute) {
    const hop = String((defaultRoute.properties as Json).nextHopType);
    return hop === 'None'
      ? { internet: false, why: `route table ${String(rtId)} drops 0.0.0.0/0 (next hop None)` }
      : { internet: true, why: `route table ${String(rtId)} sends 0.0.0.0/0 to ${hop}` };
  }
  if (p.defaultOutboundAccess === false) {
    return {
      internet: false,
      why: 'private subnet (defaultOutboundAccess false) with no NAT gateway or default route',
    };
  }
  return { internet: true, why: 'default outbound access' };
}

function vnetView(ctx: EmulatorContext, r: StoredResource): Json {
  const subnets = ctx.store.list(SUBNET_TYPE, r.id).map((s) => s.body);
  return { ...r.body, properties: { ...(r.body.properties as Json), subnets } };
}

export function putVirtualNetwork(
  ctx: EmulatorContext,
  sub: string,
  rg: string,
  name: string,
  input: Json,
): { body: Json; created: boolean } {
  const id = vnetId(sub, rg, name);
  const location = requireLocation(input, ctx);
  const props = (input.properties ?? {}) as Json;
  const prefixes = ((props.addressSpace ?? {}) as Json).addressPrefixes;
  if (!Array.isArray(prefixes) || prefixes.length === 0 || !prefixes.every(isCidr)) {
    throw badRequest(
      'InvalidAddressPrefixFormat',
      'properties.addressSpace.addressPrefixes must list CIDR prefixes, e.g. ["10.0.0.0/24"].',
      'properties.addressSpace.addressPrefixes',
    );
  }
  const existing = ctx.store.get(id);
  const body: Json = {
    id,
    name,
    type: VNET_TYPE,
    location,
    etag: etag(),
    ...(tagsOf(input) ? { tags: tagsOf(input) } : {}),
    properties: {
      provisioningState: 'Succeeded',
      resourceGuid: existing ? (existing.body.properties as Json).resourceGuid : randomUUID(),
      addressSpace: { addressPrefixes: prefixes },
      enableDdosProtection: false,
    },
  };
  const stored = ctx.store.put(id, VNET_TYPE, body, ctx.now());
  if (Array.isArray(props.subnets)) {
    const wanted = new Set<string>();
    for (const s of props.subnets as Json[]) {
      if (typeof s.name !== 'string')
        throw badRequest('InvalidRequestFormat', 'Every subnet needs a name.', 'properties.subnets');
      wanted.add(s.name.toLowerCase());
      putSubnet(ctx, id, s.name, s);
    }
    for (const s of ctx.store.list(SUBNET_TYPE, id)) {
      if (!wanted.has(String(s.body.name).toLowerCase())) ctx.store.delete(s.id);
    }
  }
  return { body: vnetView(ctx, stored), created: !existing };
}

export function putNetworkSecurityGroup(
  ctx: EmulatorContext,
  sub: string,
  rg: string,
  name: string,
  input: Json,
): { body: Json; created: boolean } {
  const id = nsgId(sub, rg, name);
  const location = requireLocation(input, ctx);
  const props = (input.properties ?? {}) as Json;
  const rules = Array.isArray(props.securityRules) ? (props.securityRules as Json[]) : [];
  const existing = ctx.store.get(id);
  const body: Json = {
    id,
    name,
    type: NSG_TYPE,
    location,
    etag: etag(),
    ...(tagsOf(input) ? { tags: tagsOf(input) } : {}),
    properties: {
      provisioningState: 'Succeeded',
      resourceGuid: existing ? (existing.body.properties as Json).resourceGuid : randomUUID(),
      securityRules: rules.map((r) => {
        if (typeof r.name !== 'string')
          throw badRequest(
            'InvalidRequestFormat',
            'Every security rule needs a name.',
            'properties.securityRules',
          );
        return {
          id: `${id}/securityRules/${r.name}`,
          name: r.name,
          type: 'Microsoft.Network/networkSecurityGroups/securityRules',
          properties: { provisioningState: 'Succeeded', ...((r.properties ?? {}) as Json) },
        };
      }),
      defaultSecurityRules: defaultSecurityRules(id),
    },
  };
  ctx.store.put(id, NSG_TYPE, body, ctx.now());
  return { body: nsgView(ctx, body), created: !existing };
}

function nsgView(ctx: EmulatorContext, body: Json): Json {
  const subnets = ctx.store
    .list(SUBNET_TYPE)
    .filter((s) => {
      const ref = ((s.body.properties as Json).networkSecurityGroup as Json | undefined)?.id;
      return typeof ref === 'string' && ref.toLowerCase() === String(body.id).toLowerCase();
    })
    .map((s) => ({ id: s.id }));
  return { ...body, properties: { ...(body.properties as Json), ...(subnets.length ? { subnets } : {}) } };
}

function getVnet(ctx: EmulatorContext, sub: string, rg: string, name: string): StoredResource {
  requireResourceGroup(ctx, sub, rg);
  const r = ctx.store.get(vnetId(sub, rg, name));
  if (!r) throw resourceNotFound(VNET_TYPE, name, rg);
  return r;
}

function asyncPut(ctx: EmulatorContext, req: ArmRequest, result: { body: Json; created: boolean }) {
  const op = provisioningOperation(
    ctx,
    req,
    'Microsoft.Network',
    String(result.body.location ?? ctx.defaultLocation),
    String(result.body.id),
  );
  return asyncPutResponse(ctx, req, op, result.created, result.body);
}

function asyncDelete(ctx: EmulatorContext, req: ArmRequest, id: string) {
  const op = provisioningOperation(ctx, req, 'Microsoft.Network', ctx.defaultLocation, id);
  return acceptedResponse(ctx, req, op, { location: true, asyncOperation: true });
}

const RG = '/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network';

export const networkRoutes: readonly Route[] = [
  route('GET', `${RG}/virtualNetworks`, (ctx, _req, [sub, rg]) => {
    requireResourceGroup(ctx, sub!, rg!);
    return {
      status: 200,
      body: listBody(ctx.store.list(VNET_TYPE, resourceGroupId(sub!, rg!)).map((r) => vnetView(ctx, r))),
    };
  }),
  route('GET', `${RG}/virtualNetworks/{}`, (ctx, _req, [sub, rg, name]) => ({
    status: 200,
    body: vnetView(ctx, getVnet(ctx, sub!, rg!, name!)),
  })),
  route('PUT', `${RG}/virtualNetworks/{}`, (ctx, req, [sub, rg, name]) => {
    requireResourceGroup(ctx, sub!, rg!);
    return asyncPut(ctx, req, putVirtualNetwork(ctx, sub!, rg!, name!, requireObjectBody(req)));
  }),
  route('DELETE', `${RG}/virtualNetworks/{}`, (ctx, req, [sub, rg, name]) => {
    requireResourceGroup(ctx, sub!, rg!);
    const id = vnetId(sub!, rg!, name!);
    if (!ctx.store.has(id)) return { status: 204 };
    const inUse = ctx.store
      .list(SUBNET_TYPE, id)
      .some((s) => ((s.body.properties as Json).ipConfigurations as unknown[] | undefined)?.length);
    if (inUse) {
      throw new ArmError(
        400,
        'InUseSubnetCannotBeDeleted',
        `Subnet of virtual network ${name} is in use and cannot be deleted.`,
      );
    }
    for (const r of ctx.store.listUnder(id)) ctx.store.delete(r.id);
    ctx.store.delete(id);
    return asyncDelete(ctx, req, id);
  }),
  route('GET', `${RG}/virtualNetworks/{}/subnets`, (ctx, _req, [sub, rg, name]) => {
    const v = getVnet(ctx, sub!, rg!, name!);
    return { status: 200, body: listBody(ctx.store.list(SUBNET_TYPE, v.id).map((s) => s.body)) };
  }),
  route('GET', `${RG}/virtualNetworks/{}/subnets/{}`, (ctx, _req, [sub, rg, name, subnet]) => {
    const v = getVnet(ctx, sub!, rg!, name!);
    const s = ctx.store.get(`${v.id}/subnets/${subnet}`);
    if (!s) throw resourceNotFound(SUBNET_TYPE, `${name}/${subnet}`, rg);
    return { status: 200, body: s.body };
  }),
  route('PUT', `${RG}/virtualNetworks/{}/subnets/{}`, (ctx, req, [sub, rg, name, subnet]) => {
    const v = getVnet(ctx, sub!, rg!, name!);
    const created = !ctx.store.has(`${v.id}/subnets/${subnet}`);
    const body = putSubnet(ctx, v.id, subnet!, requireObjectBody(req));
    const op = provisioningOperation(ctx, req, 'Microsoft.Network', String(v.body.location), String(body.id));
    return asyncPutResponse(ctx, req, op, created, body);
  }),
  route('DELETE', `${RG}/virtualNetworks/{}/subnets/{}`, (ctx, req, [sub, rg, name, subnet]) => {
    const v = getVnet(ctx, sub!, rg!, name!);
    const id = `${v.id}/subnets/${subnet}`;
    const s = ctx.store.get(id);
    if (!s) return { status: 204 };
    if (((s.body.properties as Json).ipConfigurations as unknown[] | undefined)?.length) {
      throw new ArmError(
        400,
        'InUseSubnetCannotBeDeleted',
        `Subnet ${subnet} is in use and cannot be deleted.`,
      );
    }
    ctx.store.delete(id);
    return asyncDelete(ctx, req, id);
  }),
  ...(
    [
      ['natGateways', NAT_GATEWAY_TYPE, putNatGateway, 'natGateway'],
      ['routeTables', ROUTE_TABLE_TYPE, putRouteTable, 'routeTable'],
    ] as const
  ).flatMap(([segment, type, put, field]) => [
    route('GET', `${RG}/${segment}/{}`, (ctx, _req, [sub, rg, name]) => {
      requireResourceGroup(ctx, sub!, rg!);
      const r = ctx.store.get(`${resourceGroupId(sub!, rg!)}/providers/Microsoft.Network/${segment}/${name}`);
      if (!r) throw resourceNotFound(type, name!, rg);
      return { status: 200, body: attachedSubnets(ctx, r.body, field) };
    }),
    route('PUT', `${RG}/${segment}/{}`, (ctx, req, [sub, rg, name]) => {
      requireResourceGroup(ctx, sub!, rg!);
      const id = `${resourceGroupId(sub!, rg!)}/providers/Microsoft.Network/${segment}/${name}`;
      return asyncPut(ctx, req, put(ctx, id, requireObjectBody(req)));
    }),
  ]),
  route('GET', `${RG}/networkSecurityGroups`, (ctx, _req, [sub, rg]) => {
    requireResourceGroup(ctx, sub!, rg!);
    return {
      status: 200,
      body: listBody(ctx.store.list(NSG_TYPE, resourceGroupId(sub!, rg!)).map((r) => nsgView(ctx, r.body))),
    };
  }),
  route('GET', `${RG}/networkSecurityGroups/{}`, (ctx, _req, [sub, rg, name]) => {
    requireResourceGroup(ctx, sub!, rg!);
    const r = ctx.store.get(nsgId(sub!, rg!, name!));
    if (!r) throw resourceNotFound(NSG_TYPE, name!, rg);
    return { status: 200, body: nsgView(ctx, r.body) };
  }),
  route('PUT', `${RG}/networkSecurityGroups/{}`, (ctx, req, [sub, rg, name]) => {
    requireResourceGroup(ctx, sub!, rg!);
    return asyncPut(ctx, req, putNetworkSecurityGroup(ctx, sub!, rg!, name!, requireObjectBody(req)));
  }),
  route('DELETE', `${RG}/networkSecurityGroups/{}`, (ctx, req, [sub, rg, name]) => {
    requireResourceGroup(ctx, sub!, rg!);
    const id = nsgId(sub!, rg!, name!);
    if (!ctx.store.has(id)) return { status: 204 };
    ctx.store.delete(id);
    return asyncDelete(ctx, req, id);
  }),
];
