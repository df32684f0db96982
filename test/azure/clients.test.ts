import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAzureClients } from '../../src/azure/clients.js';
import { LocalTestCredential } from '../../src/local/test-credential.js';
import {
  blobAccountUrl,
  clientsForAzurite,
  sharedAzurite,
  TEST_SUBSCRIPTION_ID,
  tableEndpoint,
} from '../support/azurite.js';

describe('client factory against Azurite (identity-based, HTTPS)', () => {
  it('round-trips a blob through a client made by the factory', async () => {
    const clients = clientsForAzurite();
    const container = clients
      .blobService(blobAccountUrl())
      .getContainerClient(`rt-${randomUUID().slice(0, 8)}`);
    await container.create();
    const body = `jump box ${randomUUID()}\n`.repeat(100);
    await container.getBlockBlobClient('a/b.log').upload(body, Buffer.byteLength(body));
    const downloaded = await container.getBlockBlobClient('a/b.log').downloadToBuffer();
    expect(downloaded.toString()).toBe(body);
    const names: string[] = [];
    for await (const b of container.listBlobsFlat()) names.push(b.name);
    expect(names).toEqual(['a/b.log']);
  });

  it('round-trips a table entity', async () => {
    const clients = clientsForAzurite();
    const table = clients.table(tableEndpoint(), `t${randomUUID().replace(/-/g, '').slice(0, 12)}`);
    await table.createTable();
    await table.createEntity({ partitionKey: 'def', rowKey: 'b1', result: 'Succeeded' });
    const e = await table.getEntity<{ result: string }>('def', 'b1');
    expect(e.result).toBe('Succeeded');
  });

  it('refuses the local certificate when the factory is not told to trust it', async () => {
    const clients = createAzureClients({
      subscriptionId: TEST_SUBSCRIPTION_ID,
      credential: new LocalTestCredential(),
      maxRetries: 0,
    });
    const c = clients.blobService(blobAccountUrl()).getContainerClient('never');
    await expect(c.exists()).rejects.toThrow(/self[- ]signed|certificate/i);
  });

  it('fails authentication without a token audience Azurite accepts', async () => {
    const clients = createAzureClients({
      subscriptionId: TEST_SUBSCRIPTION_ID,
      caCert: { pem: sharedAzurite().caCertPem },
      credential: { getToken: async () => ({ token: 'not-a-jwt', expiresOnTimestamp: Date.now() + 60_000 }) },
      maxRetries: 0,
    });
    const c = clients.blobService(blobAccountUrl()).getContainerClient('never');
    await expect(c.exists()).rejects.toMatchObject({ statusCode: 403, code: 'AuthenticationFailed' });
  });
});
