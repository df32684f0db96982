/**
 * Just-in-time Image Contributor on every distribution target of a definition: the destination resource
 * group (managed image) and the gallery image definition (gallery version), wherever the gallery lives.
 * Image Builder checks the builder identity's rights on each target when the run is invoked and again when
 * it distributes (MicrosoftDocs/azure-docs issue 99193; danielsollondon/azvmimagebuilder issue 20), and
 * gallery distribution needs galleries/images/versions/write on the gallery image (Azure's
 * image-builder-permissions docs). Granted before the template is created, revoked in the orchestration's
 * finally (and by the janitor for builds that never reached it).
 */

import { resourceGroupId } from '../../azure/resource-id.js';
import type { AppConfig } from '../../config.js';
import type { ImageDefinition } from '../../image/definition.js';
import { type ActivityDeps, definitionOf } from '../deps.js';
import { type AssignmentResult, assignRole, removeRoleAssignments } from './assign-role.js';

export function destinationScope(config: Pick<AppConfig, 'subscriptionId' | 'resourceGroups'>): string {
  return resourceGroupId(config.subscriptionId, config.resourceGroups.destination);
}

/** The scopes a definition's build writes to: where the Image Contributor grant must be. */
export function distributionScopes(
  config: Pick<AppConfig, 'subscriptionId' | 'resourceGroups'>,
  def: Pick<ImageDefinition, 'distribute'>,
): string[] {
  const scopes: string[] = [];
  if (def.distribute.managedImage) scopes.push(destinationScope(config));
  if (def.distribute.gallery) scopes.push(def.distribute.gallery.imageDefinitionId);
  return scopes;
}

/** Every scope any definition grants on (what a revoke or the janitor sweeps). */
export function allDistributionScopes(config: AppConfig): string[] {
  const seen = new Map<string, string>();
  for (const d of config.definitions) {
    for (const s of distributionScopes(config, d)) seen.set(s.toLowerCase(), s);
  }
  if (seen.size === 0) seen.set(destinationScope(config).toLowerCase(), destinationScope(config));
  return [...seen.values()];
}

export interface GrantResult {
  readonly scopes: readonly string[];
  readonly assignments: readonly AssignmentResult[];
}

export async function grantImageContributor(
  deps: Pick<ActivityDeps, 'config' | 'clients' | 'log'>,
  input: { principalId: string; definition?: string },
): Promise<GrantResult> {
  const scopes = input.definition
    ? distributionScopes(deps.config, definitionOf(deps.config, input.definition))
    : [destinationScope(deps.config)];
  const assignments: AssignmentResult[] = [];
  for (const scope of scopes) {
    const r = await assignRole(deps.clients, scope, input.principalId, deps.config.roles.imageContributor);
    deps.log(`Image Contributor on ${r.scope} for ${input.principalId}: ${r.outcome}`);
    assignments.push(r);
  }
  return { scopes, assignments };
}

/**
 * Removes the grant from every distribution scope of every definition; idempotent (nothing to remove is
 * fine). Returns the assignment ids removed.
 */
export async function revokeImageContributor(
  deps: Pick<ActivityDeps, 'config' | 'clients' | 'log'>,
  input: { principalId: string },
): Promise<{ removed: string[] }> {
  const removed: string[] = [];
  for (const scope of allDistributionScopes(deps.config)) {
    removed.push(
      ...(await removeRoleAssignments(
        deps.clients,
        scope,
        input.principalId,
        deps.config.roles.imageContributor,
      )),
    );
  }
  deps.log(`Image Contributor revoked for ${input.principalId}: ${removed.length} assignment(s) removed`);
  return { removed };
}
