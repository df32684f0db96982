/**
 * The Azure client factory: the only place that creates a credential and the SDK clients.
 *
 * Production uses identity-based auth (DefaultAzureCredential, or a user-assigned managed identity
 * when AZURE_CLIENT_ID is set). Local stand-ins are reached through endpoint overrides and an extra CA
 * trusted only by these clients; TLS verification is never disabled.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { ComputeManagementClient } from '@azure/arm-compute';
import { ImageBuilderClient } from '@azure/arm-imagebuilder';
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { NetworkManagementClient } from '@azure/arm-network';
import { ResourceManagementClient } from '@azure/arm-resources';
import { StorageManagementClient } from '@azure/arm-storage';
import type { TokenCredential } from '@azure/core-auth';
import { createDefaultHttpClient, type HttpClient, type PipelinePolicy } from '@azure/core-rest-pipeline';
import { TableClient } from '@azure/data-tables';
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { BlobServiceClient, newPipeline } from '@azure/storage-blob';

export interface ClientFactoryOptions {
  readonly subscriptionId: string;
  /** ARM endpoint, default https://management.azure.com. */
  readonly armEndpoint?: string | undefined;
  /** PEM text or file path of an extra CA certificate to trust (local stand-ins). */
  readonly caCert?: { readonly pem: string } | { readonly path: string } | undefined;
  /** Client id of a user-assigned managed identity. */
  readonly managedIdentityClientId?: string | undefined;
  /** A credential supplied by the caller (the local stand-ins); production leaves it unset. */
  readonly credential?: TokenCredential | undefined;
  /** SDK retry tuning; the orchestration retries durably on top of this. */
  readonly maxRetries?: number | undefined;
  /**
   * Per-try timeout of every HTTP request (default 60 s): a call that hangs fails as a transient error
   * and is retried, instead of holding the activity until the function timeout.
   */
  readonly requestTimeoutMs?: number | undefined;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/** Sets a per-try timeout on requests that have none (the SDKs' default is no timeout). */
function requestTimeoutPolicy(ms: number): PipelinePolicy {
  return {
    name: 'jumpboxRequestTimeout',
    sendRequest(request, next) {
      if (!request.timeout) request.timeout = ms;
      return next(request);
    },
  };
}

export interface AzureClients {
  readonly credential: TokenCredential;
  readonly imageBuilder: ImageBuilderClient;
  readonly authorization: AuthorizationManagementClient;
  readonly msi: ManagedServiceIdentityClient;
  readonly network: NetworkManagementClient;
  readonly compute: ComputeManagementClient;
  /** Resource groups, tags at any scope. */
  readonly resources: ResourceManagementClient;
  /** Storage accounts (AIB's staging account in a staging resource group). */
  readonly storage: StorageManagementClient;
  /** A blob service client for any account URL (archive account, AIB staging accounts). */
  blobService(accountUrl: string): BlobServiceClient;
  /** A table client on a table endpoint. */
  table(endpoint: string, tableName: string): TableClient;
}

/** Wraps the SDK's default HTTP client so that every request trusts the given CA. */
function httpClientTrusting(ca: string): HttpClient {
  const inner = createDefaultHttpClient();
  const agent = new Agent({ ca, keepAlive: true });
  return {
    sendRequest(request) {
      if (request.url.startsWith('https:')) request.agent ??= agent;
      return inner.sendRequest(request);
    },
  };
}

export function createCredential(managedIdentityClientId?: string): TokenCredential {
  return managedIdentityClientId
    ? new ManagedIdentityCredential({ clientId: managedIdentityClientId })
    : new DefaultAzureCredential();
}

export function createAzureClients(options: ClientFactoryOptions): AzureClients {
  const credential = options.credential ?? createCredential(options.managedIdentityClientId);
  const ca =
    options.caCert === undefined
      ? undefined
      : 'pem' in options.caCert
        ? options.caCert.pem
        : readFileSync(options.caCert.path, 'utf8');
  const httpClient = ca ? httpClientTrusting(ca) : undefined;
  const endpoint = (options.armEndpoint ?? 'https://management.azure.com').replace(/\/$/, '');
  const retryOptions = options.maxRetries === undefined ? undefined : { maxRetries: options.maxRetries };
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const additionalPolicies = [{ policy: requestTimeoutPolicy(timeoutMs), position: 'perCall' as const }];
  const common = {
    endpoint,
    ...(httpClient ? { httpClient } : {}),
    ...(retryOptions ? { retryOptions } : {}),
    additionalPolicies,
    credentialScopes: [`${endpoint}/.default`],
  };
  const sub = options.subscriptionId;
  const storageRetry = {
    retryOptions: {
      ...(retryOptions ? { maxTries: retryOptions.maxRetries + 1 } : {}),
      tryTimeoutInMs: timeoutMs,
    },
  };
  const blobService = (accountUrl: string): BlobServiceClient => {
    if (!httpClient) return new BlobServiceClient(accountUrl, credential, storageRetry);
    // Storage's public httpClient option takes the legacy (core-http) shape; its pipeline adopts a
    // modern HttpClient placed here before first use. Only the local stand-ins take this path.
    const pipeline = newPipeline(credential, storageRetry) as unknown as { _coreHttpClient?: HttpClient };
    pipeline._coreHttpClient = httpClient;
    return new BlobServiceClient(accountUrl, pipeline as unknown as ReturnType<typeof newPipeline>);
  };
  return {
    credential,
    imageBuilder: new ImageBuilderClient(credential, sub, common),
    authorization: new AuthorizationManagementClient(credential, sub, common),
    msi: new ManagedServiceIdentityClient(credential, sub, common),
    network: new NetworkManagementClient(credential, sub, common),
    compute: new ComputeManagementClient(credential, sub, common),
    resources: new ResourceManagementClient(credential, sub, common),
    storage: new StorageManagementClient(credential, sub, common),
    blobService,
    table: (tableEndpoint, tableName) =>
      new TableClient(tableEndpoint, tableName, credential, {
        ...(httpClient ? { httpClient } : {}),
        ...(retryOptions ? { retryOptions } : {}),
        additionalPolicies,
      }),
  };
}

let credentialOverride: TokenCredential | undefined;
let requestTimeoutOverride: number | undefined;
let shared: AzureClients | undefined;

/** Lets a local host shorten the per-try request timeout (the fault matrix's slow-response cells). */
export function setRequestTimeoutOverride(ms: number | undefined): void {
  requestTimeoutOverride = ms;
  shared = undefined;
}

/**
 * Lets a host that runs the app against the local stand-ins supply the credential (production never
 * calls this: the factory then uses DefaultAzureCredential / managed identity).
 */
export function setCredentialOverride(credential: TokenCredential | undefined): void {
  credentialOverride = credential;
  shared = undefined;
}

/** The process-wide clients for the app, built from the validated configuration on first use. */
export function getAzureClients(config: {
  readonly subscriptionId: string;
  readonly azure: {
    readonly armEndpoint: string;
    readonly caCertPath: string | undefined;
    readonly managedIdentityClientId: string | undefined;
  };
}): AzureClients {
  shared ??= createAzureClients({
    subscriptionId: config.subscriptionId,
    armEndpoint: config.azure.armEndpoint,
    caCert: config.azure.caCertPath ? { path: config.azure.caCertPath } : undefined,
    managedIdentityClientId: config.azure.managedIdentityClientId,
    credential: credentialOverride,
    requestTimeoutMs: requestTimeoutOverride,
  });
  return shared;
}

/** Drops the cached clients (tests and the local host, when settings change). */
export function resetAzureClients(): void {
  shared = undefined;
}
