/**
 * Finds the storage account Image Builder created in a template's staging resource group that holds
 * `packerlogs/<run-guid>/customization.log`, through the Storage management client. Isolated builds can
 * add a second account to the group (Azure Files for the container instance), so the first account is not
 * necessarily the log account: the one named in the run's log URL wins, else the one with a `packerlogs`
 * container, else (no logs yet) the first.
 */
import type { AzureClients } from '../../azure/clients.js';
import { permanent, statusOf } from '../../azure/errors.js';

const LOG_CONTAINER = 'packerlogs';

export interface StagingAccount {
  readonly name: string;
  /** Blob endpoint without trailing slash. */
  readonly blobEndpoint: string;
}

const RESOURCE_GROUP_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/([^/]+)\/*$/i;

/** The staging account of a resource group id (`/subscriptions/…/resourceGroups/…`), or undefined. */
/** The blob endpoint of a `…/packerlogs/…` URL in a run message (Image Build log location), if any. */
export function logAccountEndpointOf(message: string | undefined): string | undefined {
  const m = /(https:\/\/[^\s'"]+?)\/packerlogs\//i.exec(message ?? '');
  return m?.[1];
}

export async function findStagingAccount(
  clients: Pick<AzureClients, 'storage'> & Partial<Pick<AzureClients, 'blobService'>>,
  stagingResourceGroupId: string,
  logUrlEndpoint?: string,
  /** A 404 on the group: `undefined` (no staging account, the default) or `throw` (StagingNotFound). */
  options: { readonly notFound?: 'undefined' | 'throw' } = {},
): Promise<StagingAccount | undefined> {
  const resourceGroup = RESOURCE_GROUP_ID.exec(stagingResourceGroupId)?.[1];
  if (!resourceGroup) {
    throw new Error(
      `stagingResourceGroupId '${stagingResourceGroupId}' must be a resource group id: /subscriptions/{subscriptionId}/resourceGroups/{name}`,
    );
  }
  const accounts: StagingAccount[] = [];
  try {
    for await (const account of clients.storage.storageAccounts.listByResourceGroup(resourceGroup)) {
      const blob = account.primaryEndpoints?.blob;
      if (account.name && blob) accounts.push({ name: account.name, blobEndpoint: blob.replace(/\/+$/, '') });
    }
  } catch (e) {
    if (statusOf(e) !== 404) throw e;
    if (options.notFound !== 'throw') return undefined;
    throw permanent(
      'StagingNotFound',
      `listing the storage accounts of the staging resource group ${resourceGroup} returned 404 although its template exists; the run's logs stay in Image Builder's staging account until the template is deleted (a superseded template's runs are archived before it is deleted): ${(e as Error).message}`,
    );
  }
  if (accounts.length <= 1) return accounts[0];
  const named = logUrlEndpoint?.replace(/\/+$/, '').toLowerCase();
  const byUrl = named ? accounts.find((a) => a.blobEndpoint.toLowerCase() === named) : undefined;
  if (byUrl) return byUrl;
  if (clients.blobService) {
    for (const a of accounts) {
      try {
        if (await clients.blobService(a.blobEndpoint).getContainerClient(LOG_CONTAINER).exists()) return a;
      } catch {
        // not readable by the app: not the log account it was given rights on
      }
    }
  }
  return accounts[0];
}
