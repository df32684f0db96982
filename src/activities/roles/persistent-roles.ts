/**
 * Persistent role assignments of the builder identity: Network Joiner (custom) on the virtual network
 * (not the subnet), Contributor on the definition's staging resource group (created when missing, so
 * that Image Builder uses it and its logs have a known home).
 */

import { statusOf } from '../../azure/errors.js';
import { parseSubnetId, resourceGroupId } from '../../azure/resource-id.js';
import { stagingResourceGroupOf } from '../../config.js';
import { armRequest } from '../arm-request.js';
import { type ActivityDeps, definitionOf } from '../deps.js';
import { type AssignmentResult, assignRole } from './assign-role.js';

/** Built-in Contributor role. */
export const CONTRIBUTOR_ROLE_GUID = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
const RESOURCE_GROUPS_API = '2021-04-01';

export interface PersistentRolesInput {
  readonly definition: string;
  readonly principalId: string;
}

export async function ensureStagingResourceGroup(
  deps: Pick<ActivityDeps, 'config' | 'clients' | 'log'>,
  definition: string,
): Promise<string> {
  const rg = stagingResourceGroupOf(deps.config, definition);
  const path = resourceGroupId(deps.config.subscriptionId, rg);
  try {
    await armRequest(deps.clients, 'GET', path, RESOURCE_GROUPS_API);
  } catch (e) {
    if (statusOf(e) !== 404) throw e;
    await armRequest(deps.clients, 'PUT', path, RESOURCE_GROUPS_API, {
      location: deps.config.location,
      tags: { 'jumpbox-definition': definition, 'jumpbox-builder': 'staging' },
    });
    deps.log(`created staging resource group ${rg}`);
  }
  return rg;
}

export async function ensurePersistentRoles(
  deps: Pick<ActivityDeps, 'config' | 'clients' | 'log'>,
  input: PersistentRolesInput,
): Promise<AssignmentResult[]> {
  const { config, clients } = deps;
  const def = definitionOf(config, input.definition);
  const subnet = def.buildSubnetId ? parseSubnetId(def.buildSubnetId) : config.buildSubnet;
  const stagingRg = await ensureStagingResourceGroup(deps, input.definition);
  const contributor = `/subscriptions/${config.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${CONTRIBUTOR_ROLE_GUID}`;
  const results = [
    await assignRole(clients, subnet.virtualNetworkId, input.principalId, config.roles.networkJoiner),
    await assignRole(
      clients,
      resourceGroupId(config.subscriptionId, stagingRg),
      input.principalId,
      contributor,
    ),
  ];
  for (const r of results) deps.log(`role ${r.roleDefinitionId} on ${r.scope}: ${r.outcome}`);
  return results;
}
