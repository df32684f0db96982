/**
 * Finds the storage account Image Builder created in a template's staging resource group (it holds
 * `packerlogs/<run-guid>/customization.log`), through the Storage management client.
 */
import type { AzureClients } from '../../azure/clients.js';
import { statusOf } from '../../azure/errors.js';

export interface StagingAccount {
  readonly name: string;
  /** Blob endpoint without trailing slash. */
  readonly blobEndpoint: string;
}

const RESOURCE_GROUP_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/([^/]+)\/*$/i;

/** The staging account of a resource group id (`/subscriptions/…/resourceGroups/…`), or undefined. */
export async function findStagingAccount(
  clients: Pick<AzureClients, 'storage'>,
  stagingResourceGroupId: string,
): Promise<StagingAccount | undefined> {
  const resourceGroup = RESOURCE_GROUP_ID.exec(stagingResourceGroupId)?.[1];
  if (!resourceGroup) {
    throw new Error(
      `stagingResourceGroupId '${stagingResourceGroupId}' must be a resource group id: /subscriptions/{subscriptionId}/resourceGroups/{name}`,
    );
  }
  try {
    for await (const account of clients.storage.storageAccounts.listByResourceGroup(resourceGroup)) {
      const blob = account.primaryEndpoints?.blob;
      if (account.name && blob) return { name: account.name, blobEndpoint: blob.replace(/\/+$/, '') };
    }
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw e;
  }
  return undefined;
}
