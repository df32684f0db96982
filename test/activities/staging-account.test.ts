/**
 * Picking the staging account that holds the logs when the staging group has several (isolated builds add
 * an Azure Files account): the one named in the run's log URL, else the one with a `packerlogs` container.
 * The Storage clients are reduced to the two calls the lookup makes.
 */
import { describe, expect, it } from 'vitest';
import { findStagingAccount, logAccountEndpointOf } from '../../src/activities/logs/staging-account.js';

const rg = '/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-staging';
const accounts = [
  { name: 'aibfiles1', primaryEndpoints: { blob: 'https://aibfiles1.blob.core.windows.net/' } },
  { name: 'aiblogs2', primaryEndpoints: { blob: 'https://aiblogs2.blob.core.windows.net/' } },
];
function clients(withLogs: string[]) {
  return {
    storage: {
      storageAccounts: {
        async *listByResourceGroup() {
          yield* accounts;
        },
      },
    },
    blobService: (url: string) => ({
      getContainerClient: (name: string) => ({
        exists: async () => name === 'packerlogs' && withLogs.some((a) => url.includes(a)),
      }),
    }),
  } as unknown as Parameters<typeof findStagingAccount>[0];
}

describe('findStagingAccount with several accounts', () => {
  it('prefers the account named in the log URL', async () => {
    const endpoint = logAccountEndpointOf(
      'Failed: script exited 1. Image Build log location: https://aiblogs2.blob.core.windows.net/packerlogs/1b2c/customization.log. OperationId: x',
    );
    expect(endpoint).toBe('https://aiblogs2.blob.core.windows.net');
    expect((await findStagingAccount(clients([]), rg, endpoint))?.name).toBe('aiblogs2');
  });

  it('else the account that has a packerlogs container, not the first one listed', async () => {
    expect((await findStagingAccount(clients(['aiblogs2']), rg))?.name).toBe('aiblogs2');
  });

  it('no log URL in a message without one', () => {
    expect(logAccountEndpointOf('Customizing: script exited 1')).toBeUndefined();
    expect(logAccountEndpointOf(undefined)).toBeUndefined();
  });
});
