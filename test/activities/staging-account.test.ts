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

describe('findStagingAccount when the staging group answers 404', () => {
  const notFound = {
    storage: {
      storageAccounts: {
        // biome-ignore lint/correctness/useYield: the listing fails before its first page
        async *listByResourceGroup() {
          throw Object.assign(new Error("Resource group 'rg-staging' could not be found."), {
            statusCode: 404,
            code: 'ResourceGroupNotFound',
          });
        },
      },
    },
  } as unknown as Parameters<typeof findStagingAccount>[0];

  it('means "no staging account" when the template may be gone (the group goes with it)', async () => {
    expect(await findStagingAccount(notFound, rg)).toBeUndefined();
  });

  // Image Builder deletes the staging group only with its template (stagingResourceGroup, ARM reference:
  // https://learn.microsoft.com/javascript/api/@azure/arm-imagebuilder/imagetemplate), so while the template
  // exists a 404 is a failure to archive, with the reason, not an absence of logs.
  it('is a permanent StagingNotFound failure naming the group when the template exists', async () => {
    await expect(findStagingAccount(notFound, rg, undefined, { notFound: 'throw' })).rejects.toMatchObject({
      failure: { kind: 'permanent', code: 'StagingNotFound' },
      message: expect.stringContaining('rg-staging'),
    });
  });
});
