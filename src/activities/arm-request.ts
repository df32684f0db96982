/**
 * A plain ARM request through an SDK client's pipeline (same credential, same trusted CA, same retries),
 * for the few calls no installed SDK covers: resource groups, and storage accounts in a resource group.
 */
import { createPipelineRequest, RestError } from '@azure/core-rest-pipeline';
import type { AzureClients } from '../azure/clients.js';

export async function armRequest<T>(
  clients: Pick<AzureClients, 'authorization'>,
  method: 'GET' | 'PUT' | 'DELETE',
  path: string,
  apiVersion: string,
  body?: unknown,
): Promise<{ status: number; body: T | undefined }> {
  const client = clients.authorization as unknown as {
    sendRequest(
      r: ReturnType<typeof createPipelineRequest>,
    ): Promise<{ status: number; bodyAsText?: string; headers: unknown }>;
    _endpoint?: string;
    $host?: string;
  };
  const base = (client._endpoint ?? client.$host ?? '').replace(/\/$/, '');
  const url = `${base}${path}${path.includes('?') ? '&' : '?'}api-version=${apiVersion}`;
  const request = createPipelineRequest({ url, method });
  if (body !== undefined) {
    request.body = JSON.stringify(body);
    request.headers.set('content-type', 'application/json');
  }
  const response = await client.sendRequest(request);
  const parsed = response.bodyAsText ? (JSON.parse(response.bodyAsText) as unknown) : undefined;
  if (response.status >= 400) {
    const err = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new RestError(err?.message ?? `${method} ${path} failed with ${response.status}`, {
      statusCode: response.status,
      code: err?.code,
    });
  }
  return { status: response.status, body: parsed as T | undefined };
}
