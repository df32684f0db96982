/** Test helpers around the shared Azurite started by the global setup. */
import { inject } from 'vitest';
import { type AzureClients, createAzureClients } from '../../src/azure/clients.js';
import { LocalTestCredential } from '../../src/local/test-credential.js';

export const TEST_SUBSCRIPTION_ID = '00000000-0000-4000-8000-000000000001';

export function sharedAzurite() {
  return inject('azurite');
}

/** Clients from the real factory that trust the local certificate and use the test credential. */
export function clientsForAzurite(armEndpoint?: string): AzureClients {
  const a = sharedAzurite();
  return createAzureClients({
    subscriptionId: TEST_SUBSCRIPTION_ID,
    armEndpoint,
    caCert: { pem: a.caCertPem },
    credential: new LocalTestCredential(),
    maxRetries: 1,
  });
}

export function blobAccountUrl(account = 'devstoreaccount1'): string {
  return `${sharedAzurite().endpoints.blob}/${account}`;
}

export function tableEndpoint(account = 'devstoreaccount1'): string {
  return `${sharedAzurite().endpoints.table}/${account}`;
}
