/**
 * The durable client HTTP API as the extension serves it (HttpApiHandler): start, status, query, raise event,
 * terminate, purge. Served under both the RPC base (`/durabletask/`, what the JavaScript DurableClient calls)
 * and the webhook base (`/runtime/webhooks/durabletask/`, what status URLs point at; key required).
 */
import type { DurableClientBindingData } from './client-binding.js';
import { managementPayload } from './client-binding.js';
import type { DurableEngine, InstanceQuery, InstanceStatus } from './engine.js';
import {
  InstanceExistsError,
  InstanceGoneError,
  InstanceNotFoundError,
  InvalidArgumentError,
  UnknownFunctionError,
} from './errors.js';
import { eventTypeName, type HistoryEvent } from './history.js';

export interface SimpleResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

export interface RpcRequest {
  readonly method: string;
  /** Path below the prefix, without leading slash, e.g. "instances/abc/terminate". */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: Buffer;
  readonly contentType: string | undefined;
  /** Full URL of the request (Location headers). */
  readonly url: string;
}

function errorBody(message: string, err: Error): Record<string, string> {
  return {
    Message: message,
    ExceptionMessage: err.message,
    ExceptionType: `System.${err.name}`,
    StackTrace: '',
  };
}

/** "s" format + "Z", as the extension's StatusResponsePayload. */
function sortableUtc(iso: string): string {
  return `${iso.slice(0, 19)}Z`;
}

function historyForStatus(events: readonly HistoryEvent[], withOutput: boolean): unknown[] {
  return events
    .filter((e) => !['OrchestratorStarted', 'OrchestratorCompleted'].includes(eventTypeName(e.EventType)))
    .map((e) => {
      const out: Record<string, unknown> = { EventType: eventTypeName(e.EventType), Timestamp: e.Timestamp };
      if (e.Name !== undefined) out.FunctionName = e.Name;
      if (e.EventId >= 0) out.EventId = e.EventId;
      if (e.TaskScheduledId !== undefined) out.TaskScheduledId = e.TaskScheduledId;
      if (e.TimerId !== undefined) out.TimerId = e.TimerId;
      if (e.FireAt !== undefined) out.FireAt = e.FireAt;
      if (e.Reason !== undefined) out.Reason = e.Reason;
      if (e.FailureDetails !== undefined) out.FailureDetails = e.FailureDetails;
      if (e.OrchestrationStatus !== undefined) out.OrchestrationStatus = e.OrchestrationStatus;
      if (withOutput && e.Result !== undefined) out.Result = JSON.parse(e.Result);
      return out;
    });
}

export function statusPayload(s: InstanceStatus, opts: { showHistory: boolean; showHistoryOutput: boolean }) {
  return {
    name: s.name,
    instanceId: s.instanceId,
    runtimeStatus: s.runtimeStatus,
    input: s.input ?? null,
    customStatus: s.customStatus ?? null,
    output: s.output ?? null,
    createdTime: sortableUtc(s.createdTime),
    lastUpdatedTime: sortableUtc(s.lastUpdatedTime),
    ...(opts.showHistory && s.history
      ? { historyEvents: historyForStatus(s.history, opts.showHistoryOutput) }
      : {}),
  };
}

function bool(q: URLSearchParams, name: string, fallback: boolean): boolean {
  const v = q.get(name);
  return v === null ? fallback : v.toLowerCase() === 'true';
}

function date(q: URLSearchParams, name: string): Date | undefined {
  const v = q.get(name);
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function queryOf(q: URLSearchParams): InstanceQuery {
  const statuses = q
    .getAll('runtimeStatus')
    .flatMap((v) => v.split(','))
    .filter((v) => v.length > 0);
  return {
    runtimeStatus: statuses.length > 0 ? statuses : undefined,
    createdTimeFrom: date(q, 'createdTimeFrom'),
    createdTimeTo: date(q, 'createdTimeTo'),
    instanceIdPrefix: q.get('instanceIdPrefix') ?? undefined,
  };
}

function parseBody(body: Buffer): unknown {
  if (body.length === 0) return null;
  return JSON.parse(body.toString('utf8'));
}

export async function handleDurableRequest(
  engine: DurableEngine,
  binding: DurableClientBindingData,
  req: RpcRequest,
): Promise<SimpleResponse> {
  const segments = req.path
    .split('/')
    .filter((s) => s.length > 0)
    .map(decodeURIComponent);
  const [controller, a, b, c] = segments;
  try {
    if (controller === 'orchestrators' && a) {
      if (req.method !== 'POST') return { status: 404 };
      let input: unknown;
      try {
        input = parseBody(req.body);
      } catch (err) {
        return { status: 400, body: errorBody('Invalid JSON content', err as Error) };
      }
      const id = engine.startOrchestration(a, input, b);
      const payload = managementPayload(binding, id);
      return {
        status: 202,
        headers: { Location: payload.statusQueryGetUri!, 'Retry-After': '10' },
        body: payload,
      };
    }
    if (controller !== 'instances') return { status: 404 };
    if (!a) {
      if (req.method === 'GET') {
        const top = Number(req.query.get('top') ?? '0');
        const all = engine
          .list(queryOf(req.query), { showInput: bool(req.query, 'showInput', false) })
          .map((s) => statusPayload(s, { showHistory: false, showHistoryOutput: false }));
        return { status: 200, body: top > 0 ? all.slice(0, top) : all };
      }
      if (req.method === 'DELETE') {
        if (!date(req.query, 'createdTimeFrom')) {
          return { status: 400, body: "Please provide value for 'createdTimeFrom' parameter." };
        }
        const n = engine.purgeWhere(queryOf(req.query));
        return n === 0 ? { status: 404 } : { status: 200, body: { instancesDeleted: n } };
      }
      return { status: 404 };
    }
    if (!b) {
      if (req.method === 'GET') {
        const showHistory = bool(req.query, 'showHistory', false);
        const s = engine.getStatus(a, { showHistory, showInput: bool(req.query, 'showInput', true) });
        if (!s) return { status: 404 };
        const running = ['Pending', 'Running', 'ContinuedAsNew'].includes(s.runtimeStatus);
        const failedAs500 = bool(req.query, 'returnInternalServerErrorOnFailure', false);
        return {
          status: running ? 202 : s.runtimeStatus === 'Failed' && failedAs500 ? 500 : 200,
          headers: running ? { Location: req.url, 'Retry-After': '5' } : {},
          body: statusPayload(s, {
            showHistory,
            showHistoryOutput: bool(req.query, 'showHistoryOutput', false),
          }),
        };
      }
      if (req.method === 'DELETE') {
        return engine.purge(a) ? { status: 200, body: { instancesDeleted: 1 } } : { status: 404 };
      }
      return { status: 404 };
    }
    if (req.method !== 'POST') return { status: 404 };
    switch (b.toLowerCase()) {
      case 'terminate':
        engine.terminate(a, req.query.get('reason') ?? undefined);
        return { status: 202 };
      case 'raiseevent': {
        if (!c) return { status: 404 };
        if (!engine.getStatus(a)) return { status: 404 };
        const st = engine.getStatus(a)!.runtimeStatus;
        if (['Completed', 'Failed', 'Terminated'].includes(st)) return { status: 410 };
        if (!(req.contentType ?? '').toLowerCase().startsWith('application/json')) {
          return { status: 400, body: 'Only application/json request content is supported' };
        }
        let data: unknown;
        try {
          data = parseBody(req.body);
        } catch (err) {
          return { status: 400, body: errorBody('Invalid JSON content', err as Error) };
        }
        engine.raiseEvent(a, c, data);
        return { status: 202 };
      }
      default:
        return { status: 501, body: `The operation '${b}' is not supported by the local Durable host.` };
    }
  } catch (err) {
    if (err instanceof InstanceNotFoundError) return { status: 404 };
    if (err instanceof InstanceGoneError) return { status: 410 };
    if (err instanceof UnknownFunctionError || err instanceof InvalidArgumentError) {
      return { status: 400, body: errorBody('One or more of the arguments submitted is incorrect', err) };
    }
    if (err instanceof InstanceExistsError) {
      return { status: 500, body: errorBody('Something went wrong while processing your request', err) };
    }
    const e = err instanceof Error ? err : new Error(String(err));
    return { status: 500, body: errorBody('Something went wrong while processing your request', e) };
  }
}
