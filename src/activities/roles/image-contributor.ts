/**
 * Just-in-time Image Contributor on the destination resource group: granted right before the run,
 * revoked in the orchestration's finally (and by the janitor for builds that never reached it).
 */
import { resourceGroupId } from '../../azure/resource-id.js';
import type { ActivityDeps } from '../deps.js';
import { type AssignmentResult, assignRole, removeRoleAssignments } from './assign-role.js';

export function destinationScope(config: ActivityDeps['config']): string {
  return resourceGroupId(config.subscriptionId, config.resourceGroups.destination);
}

export async function grantImageContributor(
  deps: Pick<ActivityDeps, 'config' | 'clients' | 'log'>,
  input: { principalId: string },
): Promise<AssignmentResult> {
  const r = await assignRole(
    deps.clients,
    destinationScope(deps.config),
    input.principalId,
    deps.config.roles.imageContributor,
  );
  deps.log(`Image Contributor on ${r.scope} for ${input.principalId}: ${r.outcome}`);
  return r;
}

/** Removes the grant; idempotent (nothing to remove is fine). Returns the assignment ids removed. */
export async function revokeImageContributor(
  deps: Pick<ActivityDeps, 'config' | 'clients' | 'log'>,
  input: { principalId: string },
): Promise<{ removed: string[] }> {
  const removed = await removeRoleAssignments(
    deps.clients,
    destinationScope(deps.config),
    input.principalId,
    deps.config.roles.imageContributor,
  );
  deps.log(`Image Contributor revoked for ${input.principalId}: ${removed.length} assignment(s) removed`);
  return { removed };
}
