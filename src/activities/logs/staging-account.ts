/**
 * Finds the storage account Image Builder created in a template's staging resource group (it holds
 * `packerlogs/<run-guid>/customization.log`). Read through ARM (no Storage management SDK needed).
 */
import type { AzureClients } from '../../azure/clients.js';
import { statusOf } from '../../azure/errors.js';
import { armRequest } from '../arm-request.js';

const STORAGE_API = '2023-05-01';

export interface StagingAccount {
  readonly name: string;
  /** Blob endpoint without trailing slash. */
  readonly blobEndpoint: string;
}

interface StorageAccountList {
  value?: { name?: string; properties?: { primaryEndpoints?: { blob?: string } } }[];
}

/** The staging account of a resource group id (`/subscriptions/…/resourceGroups/…`), or undefined. */
export async function findStagingAccount(
  clients: Pick<AzureClients, 'authorization'>,
  stagingResourceGroupId: string,
): Promise<StagingAccount | undefined> {
  let list: StorageAccountList | undefined;
  try {
    list = (
      await armRequest<StorageAccountList>(
        clients,
        'GET',
        `${stagingResourceGroupId.replace(/\/+$/, '')}/providers/Microsoft.Storage/storageAccounts`,
        STORAGE_API,
      )
    ).body;
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw e;
  }
  const account = (list?.value ?? []).find((a) => a.name && a.properties?.primaryEndpoints?.blob);
  if (!account) return undefined;
  return {
    name: account.name!,
    blobEndpoint: account.properties!.primaryEndpoints!.blob!.replace(/\/+$/, ''),
  };
}
