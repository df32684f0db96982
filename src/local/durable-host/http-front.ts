/**
 * The local HTTP front: the app's HTTP functions under `/{routePrefix}/…` as the Functions host serves them
 * (route parameters, query, headers, body; `function`/`admin` auth levels need the key in `x-functions-key`
 * or `?code=`), plus the durable client API under the RPC and webhook prefixes. Binds 127.0.0.1 only.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DurableClientBindingData, RPC_PREFIX, WEBHOOK_PREFIX } from './client-binding.js';
import { handleDurableRequest, type SimpleResponse } from './durable-rpc.js';
import type { DurableEngine } from './engine.js';
import { type InvocationLog, invokeRegisteredFunction, type RpcHttpResponse } from './invoke.js';
import type { RegisteredFunction } from './registry.js';
import { type CompiledRoute, compileRoute, decodeSegment } from './route-template.js';

export interface HttpFrontOptions {
  readonly port: number;
  readonly routePrefix: string;
  readonly functionKey: string;
  readonly functions: ReadonlyMap<string, RegisteredFunction>;
  readonly engine: DurableEngine;
  readonly binding: () => DurableClientBindingData;
  readonly log: InvocationLog;
  /** `POST /admin/functions/{name}` (key required): runs a non-HTTP function now, as the Functions host does. */
  readonly invokeNonHttp: (functionName: string, input: string | undefined) => Promise<void>;
}

export interface HttpFront {
  readonly origin: string;
  close(): Promise<void>;
}

interface HttpRoute {
  readonly fn: RegisteredFunction;
  readonly route: CompiledRoute;
}

function keyMatches(given: string | undefined | null, key: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(key);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, r: SimpleResponse): void {
  const headers: Record<string, string> = { ...(r.headers ?? {}) };
  let payload: Buffer | undefined;
  if (r.body !== undefined) {
    if (Buffer.isBuffer(r.body)) {
      payload = r.body;
    } else if (typeof r.body === 'string') {
      payload = Buffer.from(r.body);
      headers['Content-Type'] ??= 'text/plain; charset=utf-8';
    } else {
      payload = Buffer.from(JSON.stringify(r.body));
      headers['Content-Type'] ??= 'application/json; charset=utf-8';
    }
  }
  res.writeHead(r.status, headers);
  res.end(payload);
}

function headerMap(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function toSimple(rv: unknown): SimpleResponse {
  const http = (rv as { http?: RpcHttpResponse } | undefined)?.http;
  if (!http) return { status: 204 };
  const headers = { ...(http.headers ?? {}) };
  const body = http.body;
  let payload: Buffer | undefined;
  if (body?.bytes) payload = Buffer.from(body.bytes);
  else if (typeof body?.string === 'string') payload = Buffer.from(body.string);
  else if (typeof body?.json === 'string') payload = Buffer.from(body.json);
  return { status: Number(http.statusCode ?? 200), headers, body: payload };
}

export async function startHttpFront(o: HttpFrontOptions): Promise<HttpFront> {
  const routes: HttpRoute[] = [...o.functions.values()]
    .filter((fn) => fn.trigger === 'http')
    .map((fn) => ({ fn, route: compileRoute(fn.metadata.route ?? fn.name) }))
    .sort((x, y) => y.route.precedence - x.route.precedence);
  const prefix = o.routePrefix.replace(/^\/+|\/+$/g, '');
  let origin = '';

  const handleApp = async (req: IncomingMessage, url: URL, path: string): Promise<SimpleResponse> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const candidates = routes
      .map((r) => ({ r, params: r.route.match(path) }))
      .filter((c) => c.params !== undefined);
    if (candidates.length === 0) return { status: 404 };
    const hit = candidates.find((c) => !c.r.fn.metadata.methods || c.r.fn.metadata.methods.includes(method));
    if (!hit) return { status: 405 };
    const { fn } = hit.r;
    if (fn.metadata.authLevel !== 'anonymous') {
      const given = req.headers['x-functions-key'] ?? url.searchParams.get('code');
      if (!keyMatches(Array.isArray(given) ? given[0] : given, o.functionKey)) return { status: 401 };
    }
    const body = await readBody(req);
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] ??= v;
    const rv = await invokeRegisteredFunction(fn, {
      trigger: {
        http: {
          method,
          url: url.href,
          headers: headerMap(req),
          query,
          params: hit.params ?? {},
          body: body.length > 0 ? { bytes: body } : undefined,
          identities: [],
        },
      },
      extraInputsByType: { durableClient: o.binding() },
      log: o.log,
    });
    return toSimple(rv);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', origin);
    const path = url.pathname;
    try {
      const durable = [RPC_PREFIX, WEBHOOK_PREFIX].find((p) => path === p || path.startsWith(`${p}/`));
      if (durable) {
        if (durable === WEBHOOK_PREFIX) {
          const given = req.headers['x-functions-key'] ?? url.searchParams.get('code');
          if (!keyMatches(Array.isArray(given) ? given[0] : given, o.functionKey))
            return send(res, { status: 401 });
        }
        const body = await readBody(req);
        return send(
          res,
          await handleDurableRequest(o.engine, o.binding(), {
            method: (req.method ?? 'GET').toUpperCase(),
            path: path.slice(durable.length),
            query: url.searchParams,
            body,
            contentType: req.headers['content-type'],
            url: url.href,
          }),
        );
      }
      const admin = /^\/admin\/functions\/([^/]+)$/.exec(path);
      if (admin && (req.method ?? '').toUpperCase() === 'POST') {
        const given = req.headers['x-functions-key'] ?? url.searchParams.get('code');
        if (!keyMatches(Array.isArray(given) ? given[0] : given, o.functionKey))
          return send(res, { status: 401 });
        const name = decodeSegment(admin[1]!);
        const fn = o.functions.get(name);
        if (!fn || fn.trigger === 'http') return send(res, { status: 404 });
        const body = await readBody(req);
        let input: string | undefined;
        try {
          const parsed = body.length > 0 ? (JSON.parse(body.toString('utf8')) as { input?: unknown }) : {};
          input = typeof parsed.input === 'string' ? parsed.input : undefined;
        } catch {
          return send(res, { status: 400, body: 'The body must be JSON: {"input": "<string>"}.' });
        }
        try {
          await o.invokeNonHttp(name, input);
        } catch (err) {
          return send(res, { status: 400, body: err instanceof Error ? err.message : String(err) });
        }
        return send(res, { status: 202 });
      }
      if (prefix === '' || path === `/${prefix}` || path.startsWith(`/${prefix}/`)) {
        return send(res, await handleApp(req, url, prefix === '' ? path : path.slice(prefix.length + 1)));
      }
      return send(res, { status: 404 });
    } catch (err) {
      o.log('http', 'error', 'host', err instanceof Error ? (err.stack ?? err.message) : String(err));
      return send(res, { status: 500 });
    }
  };

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
