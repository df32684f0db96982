/**
 * Vitest global setup: one Azurite (blob, queue, table; in memory; HTTPS + OAuth) for the whole run,
 * shared with the tests through `provide`, stopped by PID at the end.
 */
import type { TestProject } from 'vitest/node';
import { type AzuriteInstance, startAzurite } from '../../src/local/azurite.js';
import { createLocalCertificate } from '../../src/local/tls.js';

export interface SharedAzurite {
  readonly pid: number;
  readonly endpoints: { readonly blob: string; readonly queue: string; readonly table: string };
  readonly accounts: readonly string[];
  readonly caCertPem: string;
  readonly certPath: string;
  readonly keyPath: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    azurite: SharedAzurite;
  }
}

let azurite: AzuriteInstance | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const certificate = await createLocalCertificate();
  azurite = await startAzurite({ certificate });
  project.provide('azurite', {
    pid: azurite.pid,
    endpoints: azurite.endpoints,
    accounts: azurite.accounts,
    caCertPem: certificate.cert,
    certPath: certificate.certPath,
    keyPath: certificate.keyPath,
  });
  return async () => {
    await azurite?.stop();
  };
}
