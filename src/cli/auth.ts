/**
 * How the CLI authenticates to the app's HTTP API: a function key (default) or a Microsoft Entra token for the
 * API's app registration (`--auth entra --audience api://<client id>`), from @azure/identity's
 * DefaultAzureCredential: environment service principal, workload identity federation (AZURE_FEDERATED_TOKEN_FILE,
 * as on AKS), managed identity, or the Azure CLI login that azure/login (GitHub OIDC) and the AzureCLI@2 task
 * (Azure Pipelines service connection) leave behind. AZURE_TOKEN_CREDENTIALS pins one of them.
 * A token is requested for every call (the library caches and refreshes it), so a long --wait outlives one token.
 */
import type { TokenCredential } from '@azure/core-auth';

export type AuthMode = 'key' | 'entra';

export const AUDIENCE_ENV = 'JUMPBOX_API_AUDIENCE';

/** `api://x` or `https://x/` -> `api://x/.default`; a scope that already ends in /.default stays. */
export function scopeForAudience(audience: string): string {
  const trimmed = audience.trim().replace(/\/+$/, '');
  return trimmed.endsWith('/.default') ? trimmed : `${trimmed}/.default`;
}

export interface AuthHeaders {
  /** Headers for one request; throws with a readable message when no credential works. */
  headers(): Promise<Record<string, string>>;
  /** One line telling what to fix after a 401 or 403. */
  readonly rejectedHint: string;
}

export function keyAuth(key: string, keyEnv: string): AuthHeaders {
  return {
    headers: async () => ({ 'x-functions-key': key }),
    rejectedHint: `the function key was rejected; set ${keyEnv} to a valid function key of the app`,
  };
}

export function entraAuth(credential: TokenCredential, audience: string, key?: string): AuthHeaders {
  const scope = scopeForAudience(audience);
  return {
    async headers() {
      let token: Awaited<ReturnType<TokenCredential['getToken']>>;
      try {
        token = await credential.getToken(scope);
      } catch (e) {
        const first = ((e as Error).message ?? String(e)).split('\n')[0];
        throw new Error(`no Microsoft Entra token for ${scope}: ${first}`);
      }
      if (!token) throw new Error(`no Microsoft Entra token for ${scope}`);
      return { authorization: `Bearer ${token.token}`, ...(key ? { 'x-functions-key': key } : {}) };
    },
    rejectedHint: `the Microsoft Entra token for ${scope} was rejected; check --audience and that this identity's client id is in the app's allowed client applications (infra: callerAuthentication)`,
  };
}

/** DefaultAzureCredential, loaded only when --auth entra is used. */
export async function defaultCredential(): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential();
}
