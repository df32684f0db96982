/**
 * Parsing and formatting of Azure Resource Manager resource ids.
 * Pure functions: no SDK, no I/O.
 */

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RG_NAME = /^[-\w._()]{1,90}$/;

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

export function isResourceGroupName(value: string): boolean {
  return RG_NAME.test(value) && !value.endsWith('.');
}

export interface ResourceId {
  readonly id: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly provider: string;
  /** Type segments, e.g. ['virtualNetworks', 'subnets']. */
  readonly types: readonly string[];
  /** Name segments, parallel to `types`. */
  readonly names: readonly string[];
}

export class ResourceIdError extends Error {}

/**
 * Parses `/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/{type}/{name}]...`.
 * Throws ResourceIdError with a message that says what is wrong.
 */
export function parseResourceId(id: string): ResourceId {
  const parts = id.split('/');
  if (parts[0] !== '' || parts.length < 9) {
    throw new ResourceIdError(
      'must be a full resource id: /subscriptions/{subscriptionId}/resourceGroups/{group}/providers/{namespace}/{type}/{name}',
    );
  }
  const [, subs, subscriptionId, rgs, resourceGroup, providers, provider, ...rest] = parts as string[];
  if (subs?.toLowerCase() !== 'subscriptions' || !subscriptionId || !isGuid(subscriptionId)) {
    throw new ResourceIdError('must start with /subscriptions/{subscription GUID}');
  }
  if (rgs?.toLowerCase() !== 'resourcegroups' || !resourceGroup || !isResourceGroupName(resourceGroup)) {
    throw new ResourceIdError('must continue with /resourceGroups/{valid resource group name}');
  }
  if (providers?.toLowerCase() !== 'providers' || !provider || !/^[A-Za-z]+\.[A-Za-z.]+$/.test(provider)) {
    throw new ResourceIdError('must continue with /providers/{Namespace.Provider}');
  }
  if (rest.length === 0 || rest.length % 2 !== 0 || rest.some((s) => s.length === 0)) {
    throw new ResourceIdError('must end with {type}/{name} pairs, none of them empty');
  }
  const types: string[] = [];
  const names: string[] = [];
  for (let i = 0; i < rest.length; i += 2) {
    types.push(rest[i]!);
    names.push(rest[i + 1]!);
  }
  return { id, subscriptionId, resourceGroup, provider, types, names };
}

/** Parses and checks the provider and type chain, case-insensitively (ARM is case-insensitive). */
export function parseTypedResourceId(id: string, provider: string, types: readonly string[]): ResourceId {
  const parsed = parseResourceId(id);
  const expected = `${provider}/${types.join('/')}`;
  const actual = `${parsed.provider}/${parsed.types.join('/')}`;
  if (expected.toLowerCase() !== actual.toLowerCase()) {
    throw new ResourceIdError(`must be a ${expected} resource id, got a ${actual} id`);
  }
  return parsed;
}

export interface SubnetId {
  readonly id: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly virtualNetwork: string;
  readonly subnet: string;
  /** The id of the virtual network that holds the subnet. */
  readonly virtualNetworkId: string;
}

export function parseSubnetId(id: string): SubnetId {
  const p = parseTypedResourceId(id, 'Microsoft.Network', ['virtualNetworks', 'subnets']);
  const [virtualNetwork, subnet] = p.names as [string, string];
  return {
    id,
    subscriptionId: p.subscriptionId,
    resourceGroup: p.resourceGroup,
    virtualNetwork,
    subnet,
    virtualNetworkId: `/subscriptions/${p.subscriptionId}/resourceGroups/${p.resourceGroup}/providers/Microsoft.Network/virtualNetworks/${virtualNetwork}`,
  };
}

export interface UserAssignedIdentityId {
  readonly id: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly name: string;
}

export function parseUserAssignedIdentityId(id: string): UserAssignedIdentityId {
  const p = parseTypedResourceId(id, 'Microsoft.ManagedIdentity', ['userAssignedIdentities']);
  return { id, subscriptionId: p.subscriptionId, resourceGroup: p.resourceGroup, name: p.names[0]! };
}

export function resourceGroupId(subscriptionId: string, resourceGroup: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`;
}

/**
 * Accepts a role definition GUID or a full role definition id
 * (`/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}` or
 * `/providers/Microsoft.Authorization/roleDefinitions/{guid}`) and returns the subscription-scoped id.
 */
export function normalizeRoleDefinitionId(value: string, subscriptionId: string): string {
  if (isGuid(value)) {
    return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${value.toLowerCase()}`;
  }
  const m =
    /^(?:\/subscriptions\/([0-9a-f-]{36}))?\/providers\/Microsoft\.Authorization\/roleDefinitions\/([0-9a-f-]{36})$/i.exec(
      value,
    );
  if (!m || !isGuid(m[2]!) || (m[1] !== undefined && !isGuid(m[1]))) {
    throw new ResourceIdError(
      'must be a role definition GUID or /subscriptions/{subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/{GUID}',
    );
  }
  return `/subscriptions/${m[1] ?? subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${m[2]!.toLowerCase()}`;
}

/** The GUID at the end of a role definition id. */
export function roleDefinitionGuid(roleDefinitionId: string): string {
  return roleDefinitionId.slice(roleDefinitionId.lastIndexOf('/') + 1).toLowerCase();
}
