/**
 * Persistent role assignments of the builder identity: Network Joiner (custom) on the virtual network
 * (not the subnet), Contributor on the definition's staging resource group when that group exists.
 *
 * The staging group is named per definition (the template's `stagingResourceGroup`), so logs have a known
 * home. Image Builder's rules for it: a group that does not exist is created by the service (which gives
 * the template identity access itself); an existing group must be empty, in the template's region, and
 * grant the template identity Contributor — which this step does. The group is never created here: an
 * empty group created by the app would still have to be found empty by Image Builder.
 */

import { statusOf } from '../../azure/errors.js';
import { parseSubnetId, resourceGroupId } from '../../azure/resource-id.js';
import { stagingResourceGroupOf } from '../../config.js';
import { type ActivityDeps, definitionOf } from '../deps.js';
import { type AssignmentResult, assignRole } from './assign-role.js';

/** Built-in Contributor role. */
export const CONTRIBUTOR_ROLE_GUID = 'b24988ac-6180-42a0-ab88-20f7382dd24c';

export interface PersistentRolesInput {
  readonly definition: string;
  readonly principalId: string;
}

/** The definition's staging resource group name, and whether it exists now. */
export async function stagingResourceGroupState(
  deps: Pick<ActivityDeps, 'config' | 'clients'>,
  definition: string,
): Promise<{ name: string; exists: boolean }> {
  const name = stagingResourceGroupOf(deps.config, definition);
  try {
    await deps.clients.resources.resourceGroups.get(name);
    return { name, exists: true };
  } catch (e) {
    if (statusOf(e) !== 404) throw e;
    return { name, exists: false };
  }
}

export async function ensurePersistentRoles(
  deps: Pick<ActivityDeps, 'config' | 'clients' | 'log'>,
  input: PersistentRolesInput,
): Promise<AssignmentResult[]> {
  const { config, clients } = deps;
  const def = definitionOf(config, input.definition);
  const subnet = def.buildSubnetId ? parseSubnetId(def.buildSubnetId) : config.buildSubnet;
  const staging = await stagingResourceGroupState(deps, input.definition);
  const contributor = `/subscriptions/${config.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${CONTRIBUTOR_ROLE_GUID}`;
  const results = [
    await assignRole(clients, subnet.virtualNetworkId, input.principalId, config.roles.networkJoiner),
  ];
  if (staging.exists) {
    const scope = resourceGroupId(config.subscriptionId, staging.name);
    results.push(await assignRole(clients, scope, input.principalId, contributor));
  } else {
    deps.log(
      `staging resource group ${staging.name} does not exist yet: Image Builder creates it with the template`,
    );
  }
  for (const r of results) deps.log(`role ${r.roleDefinitionId} on ${r.scope}: ${r.outcome}`);
  return results;
}
