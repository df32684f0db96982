/**
 * Invokes a registered function the way the Node.js worker does: an invocation request with RPC-typed
 * input data goes through the captured programming model (`getArguments` -> `invokeFunction` ->
 * `getResponse`), so handlers receive the same `InvocationContext`, `HttpRequest`, timer object and extra
 * inputs (the durable client binding data) as under the real Functions host.
 * Every call builds a fresh invocation context.
 */
import { randomUUID } from 'node:crypto';
import { programmingModel } from './core-standin.js';
import type { RegisteredFunction } from './registry.js';

/** RPC typed data (the subset the host produces and consumes). */
export type RpcTypedData =
  | { string: string }
  | { json: string }
  | { bytes: Uint8Array }
  | { int: number }
  | { double: number }
  | { http: RpcHttpRequest };

export interface RpcHttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly query: Record<string, string>;
  readonly params: Record<string, string>;
  readonly body?: { bytes: Uint8Array } | { string: string } | undefined;
  readonly identities?: readonly unknown[];
}

export interface RpcHttpResponse {
  readonly statusCode?: string;
  readonly headers?: Record<string, string>;
  readonly body?: { bytes?: Uint8Array; string?: string; json?: string } | null;
  readonly cookies?: readonly unknown[];
}

export type InvocationLog = (functionName: string, level: string, category: string, message: string) => void;

export interface InvocationInput {
  /** Trigger payload as RPC typed data. */
  readonly trigger: RpcTypedData;
  /** Extra input binding values by binding type (e.g. durableClient -> client binding data). */
  readonly extraInputsByType?: Readonly<Record<string, unknown>>;
  readonly log?: InvocationLog;
}

export interface InvocationOutcome {
  readonly returnValue: unknown;
}

export function toTypedJson(value: unknown): RpcTypedData {
  return { json: JSON.stringify(value === undefined ? null : value) };
}

/** Decodes RPC typed data returned by a handler into a plain value. */
export function fromTypedData(data: unknown): unknown {
  if (data === null || data === undefined || typeof data !== 'object') return data ?? undefined;
  const d = data as Record<string, unknown>;
  if (typeof d.json === 'string') return JSON.parse(d.json);
  if (typeof d.string === 'string') return d.string;
  if (typeof d.int === 'number') return d.int;
  if (typeof d.double === 'number') return d.double;
  if (d.bytes instanceof Uint8Array) return Buffer.from(d.bytes).toString('utf8');
  return undefined;
}

export async function invokeRegisteredFunction(
  fn: RegisteredFunction,
  input: InvocationInput,
): Promise<unknown> {
  const invocationId = randomUUID();
  const inputData: Array<{ name: string; data: unknown }> = [
    { name: fn.metadata.triggerBindingName, data: input.trigger },
  ];
  for (const extra of fn.metadata.extraInputs) {
    const value = input.extraInputsByType?.[extra.type];
    if (value !== undefined) inputData.push({ name: extra.name, data: toTypedJson(value) });
  }
  const coreCtx = {
    invocationId,
    state: 'invocation' as string,
    metadata: { name: fn.name, bindings: fn.metadata.bindings },
    request: { invocationId, functionId: fn.name, inputData, triggerMetadata: {} },
    log: (level: string, category: string, message: string) =>
      input.log?.(fn.name, String(level), String(category), String(message)),
  };
  const model = programmingModel().getInvocationModel(coreCtx);
  const { context, inputs } = await model.getArguments();
  const result = await model.invokeFunction(context, inputs, fn.handler);
  coreCtx.state = 'postInvocationHooks';
  const response = await model.getResponse(context, result);
  return response.returnValue;
}
