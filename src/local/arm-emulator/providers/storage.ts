/**
 * Microsoft.Storage/storageAccounts, read-only: the staging accounts Image Builder creates in a
 * template's staging resource group, so the app can discover where `packerlogs` lives. Each maps to an
 * account of the Azurite pool; its blob endpoint is the Azurite account URL.
 */
import type { EmulatorContext } from '../context.js';
import { resourceNotFound } from '../errors.js';
import { type Route, route } from '../router.js';
import type { Json } from '../store.js';
import { listBody, requireResourceGroup, requireSubscription, resourceGroupId } from './common.js';

export const STORAGE_ACCOUNT_TYPE = 'Microsoft.Storage/storageAccounts';

export function storageAccountId(sub: string, rg: string, name: string): string {
  return `${resourceGroupId(sub, rg)}/providers/Microsoft.Storage/storageAccounts/${name}`;
}

export function putStagingStorageAccount(
  ctx: EmulatorContext,
  resourceGroup: string,
  account: string,
  location: string,
  tags: Record<string, string>,
): Json {
  const id = storageAccountId(ctx.subscriptionId, resourceGroup, account);
  const blob = `${ctx.blobAccountUrl(account)}/`;
  const body: Json = {
    id,
    name: account,
    type: STORAGE_ACCOUNT_TYPE,
    location,
    tags,
    kind: 'StorageV2',
    sku: { name: 'Standard_LRS', tier: 'Standard' },
    properties: {
      provisioningState: 'Succeeded',
      primaryLocation: location,
      statusOfPrimary: 'available',
      creationTime: ctx.isoNow(),
      primaryEndpoints: { blob },
      allowBlobPublicAccess: false,
      allowSharedKeyAccess: false,
      minimumTlsVersion: 'TLS1_2',
      supportsHttpsTrafficOnly: true,
      accessTier: 'Hot',
    },
  };
  ctx.store.put(id, STORAGE_ACCOUNT_TYPE, body, ctx.now());
  return body;
}

export const storageRoutes: readonly Route[] = [
  route('GET', '/subscriptions/{}/providers/Microsoft.Storage/storageAccounts', (ctx, _req, [sub]) => {
    requireSubscription(ctx, sub!);
    return { status: 200, body: listBody(ctx.store.list(STORAGE_ACCOUNT_TYPE).map((r) => r.body)) };
  }),
  route(
    'GET',
    '/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Storage/storageAccounts',
    (ctx, _req, [sub, rg]) => {
      requireResourceGroup(ctx, sub!, rg!);
      return {
        status: 200,
        body: listBody(ctx.store.list(STORAGE_ACCOUNT_TYPE, resourceGroupId(sub!, rg!)).map((r) => r.body)),
      };
    },
  ),
  route(
    'GET',
    '/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Storage/storageAccounts/{}',
    (ctx, _req, [sub, rg, name]) => {
      requireResourceGroup(ctx, sub!, rg!);
      const r = ctx.store.get(storageAccountId(sub!, rg!, name!));
      if (!r) throw resourceNotFound(STORAGE_ACCOUNT_TYPE, name!, rg);
      return { status: 200, body: r.body };
    },
  ),
];
