/**
 * Idempotent role assignment with a deterministic name; 409 RoleAssignmentExists counts as success
 * (the same principal already holds the role at that scope, possibly under another name).
 * `principalType: 'ServicePrincipal'` lets ARM skip the directory lookup that fails for identities
 * created moments ago (replication delay).
 */

import type { AzureClients } from '../../azure/clients.js';
import { armErrorCode, statusOf } from '../../azure/errors.js';
import { roleAssignmentName } from './assignment-name.js';

/**
 * The SDK puts `scope` into `/{scope}/providers/...` unencoded: a scope that already starts with '/' would
 * make '//subscriptions/...'. Pass it without the leading slash.
 */
export function sdkScope(scope: string): string {
  return scope.replace(/^\/+/, '');
}

export interface AssignmentResult {
  readonly scope: string;
  readonly name: string;
  readonly roleDefinitionId: string;
  /** created = new assignment; existed = already held (same name, or 409 RoleAssignmentExists). */
  readonly outcome: 'created' | 'existed';
}

export async function assignRole(
  clients: Pick<AzureClients, 'authorization'>,
  scope: string,
  principalId: string,
  roleDefinitionId: string,
): Promise<AssignmentResult> {
  const name = roleAssignmentName(scope, principalId, roleDefinitionId);
  try {
    await clients.authorization.roleAssignments.create(sdkScope(scope), name, {
      roleDefinitionId,
      principalId,
      principalType: 'ServicePrincipal',
    });
    return { scope, name, roleDefinitionId, outcome: 'created' };
  } catch (e) {
    if (statusOf(e) === 409 && armErrorCode(e) === 'RoleAssignmentExists') {
      return { scope, name, roleDefinitionId, outcome: 'existed' };
    }
    throw e;
  }
}

function sameRole(a: string | undefined, b: string): boolean {
  const guid = (s: string) => s.slice(s.lastIndexOf('/') + 1).toLowerCase();
  return a !== undefined && guid(a) === guid(b);
}

/**
 * Removes every assignment of the role to the principal at exactly this scope (whatever its name), so
 * that a grant that hit 409 under another name is revoked as well. Deleting a missing one is fine.
 * Returns the ids removed.
 */
export async function removeRoleAssignments(
  clients: Pick<AzureClients, 'authorization'>,
  scope: string,
  principalId: string,
  roleDefinitionId: string,
): Promise<string[]> {
  const removed: string[] = [];
  const normalisedScope = scope.replace(/\/+$/, '').toLowerCase();
  const candidates: { id: string; name: string }[] = [];
  for await (const a of clients.authorization.roleAssignments.listForScope(sdkScope(scope), {
    filter: `principalId eq '${principalId}'`,
  })) {
    if (
      a.principalId?.toLowerCase() === principalId.toLowerCase() &&
      sameRole(a.roleDefinitionId, roleDefinitionId) &&
      (a.scope ?? '').replace(/\/+$/, '').toLowerCase() === normalisedScope &&
      a.name &&
      a.id
    ) {
      candidates.push({ id: a.id, name: a.name });
    }
  }
  const deterministic = roleAssignmentName(scope, principalId, roleDefinitionId);
  if (!candidates.some((c) => c.name.toLowerCase() === deterministic)) {
    candidates.push({
      id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${deterministic}`,
      name: deterministic,
    });
  }
  for (const c of candidates) {
    try {
      const deleted = await clients.authorization.roleAssignments.delete(sdkScope(scope), c.name);
      if (deleted?.id || c.name !== deterministic) removed.push(c.id);
    } catch (e) {
      if (statusOf(e) !== 404) throw e;
    }
  }
  return removed;
}
