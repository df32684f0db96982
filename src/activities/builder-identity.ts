/**
 * The builder identity: the user-assigned managed identity Image Builder runs as. Read it; create it
 * when BUILDER_IDENTITY_CREATE=true. Returns the ids the role assignments and the template need.
 */
import { permanent, statusOf } from '../azure/errors.js';
import type { ActivityDeps } from './deps.js';

export interface BuilderIdentity {
  readonly id: string;
  readonly principalId: string;
  readonly clientId: string;
  readonly created: boolean;
}

export async function resolveBuilderIdentity(
  deps: Pick<ActivityDeps, 'config' | 'clients' | 'log'>,
): Promise<BuilderIdentity> {
  const { config, clients } = deps;
  const { resourceGroup, name, id } = config.builderIdentity;
  let identity: Awaited<ReturnType<typeof clients.msi.userAssignedIdentities.get>>;
  let created = false;
  try {
    identity = await clients.msi.userAssignedIdentities.get(resourceGroup, name);
  } catch (e) {
    if (statusOf(e) !== 404) throw e;
    if (!config.builderIdentity.createIfMissing) {
      throw permanent(
        'BuilderIdentityNotFound',
        `user-assigned identity ${id} does not exist; create it, fix BUILDER_IDENTITY_ID, or set BUILDER_IDENTITY_CREATE=true`,
      );
    }
    identity = await clients.msi.userAssignedIdentities.createOrUpdate(resourceGroup, name, {
      location: config.location,
      tags: { 'jumpbox-builder': 'builder-identity' },
    });
    created = true;
    deps.log(`created builder identity ${id}`);
  }
  if (!identity.principalId || !identity.clientId) {
    throw permanent(
      'BuilderIdentityIncomplete',
      `identity ${id} has no principalId/clientId yet; retry later`,
    );
  }
  return { id: identity.id ?? id, principalId: identity.principalId, clientId: identity.clientId, created };
}

/** The builder identity's principal id, read-only (undefined when it does not exist). */
export async function builderPrincipalId(
  deps: Pick<ActivityDeps, 'config' | 'clients'>,
): Promise<string | undefined> {
  const { resourceGroup, name } = deps.config.builderIdentity;
  try {
    return (await deps.clients.msi.userAssignedIdentities.get(resourceGroup, name)).principalId;
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw e;
  }
}
