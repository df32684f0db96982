/**
 * A fault-injecting HTTPS proxy in front of Azurite (blob or table endpoint), for the fault matrix: it
 * forwards every request unchanged, records each exchange (method, path, query names, status; never a
 * header or body, so no token is kept), and applies the first matching fault rule, in the same rule shape
 * as the ARM emulator's fault API. Error bodies follow the Storage REST shapes: XML `<Error><Code>` for
 * blob, JSON `odata.error` for table, with `x-ms-error-code`
 * (https://learn.microsoft.com/rest/api/storageservices/status-and-error-codes2).
 */
import { randomUUID } from 'node:crypto';
import { Agent, createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

export type StorageFaultKind = '429' | '500' | '503' | 'reset' | 'delay' | '403' | '404';

export interface StorageFaultSpec {
  readonly method?: string | undefined;
  /** Regular expression source tested against the path (case-insensitive). */
  readonly path: string;
  /** Optional regular expression source tested against the query string (e.g. `comp=list`). */
  readonly query?: string | undefined;
  readonly kind: StorageFaultKind;
  /** How many matching calls fail; omit for a permanent fault. */
  readonly times?: number | undefined;
  /** For `delay`: real milliseconds before the request is forwarded. */
  readonly delayMs?: number | undefined;
  /** For `429`/`503`: Retry-After seconds (default 1). */
  readonly retryAfterSeconds?: number | undefined;
}

export interface StorageExchange {
  readonly method: string;
  readonly path: string;
  /** The query parameter names and the values of `comp`/`restype` only (no SAS can be kept). */
  readonly query: string;
  readonly status: number;
  readonly fault?: StorageFaultKind | undefined;
}

export interface StorageFaultProxy {
  /** e.g. https://127.0.0.1:12345 - put the account path after it, as for Azurite. */
  readonly origin: string;
  readonly exchanges: StorageExchange[];
  inject(spec: StorageFaultSpec): void;
  clearFaults(): void;
  hits(): number;
  stop(): Promise<void>;
}

const KINDS: readonly StorageFaultKind[] = ['429', '500', '503', 'reset', 'delay', '403', '404'];

interface ActiveRule extends StorageFaultSpec {
  remaining: number;
}

function safeQuery(search: URLSearchParams): string {
  return [...search.keys()]
    .map((k) => (k === 'comp' || k === 'restype' ? `${k}=${search.get(k)}` : k))
    .sort()
    .join('&');
}

const ERRORS: Record<string, { code: string; message: string }> = {
  '403': {
    code: 'AuthorizationPermissionMismatch',
    message:
      'This request is not authorized to perform this operation using this permission (injected fault).',
  },
  '404': { code: 'ResourceNotFound', message: 'The specified resource does not exist (injected fault).' },
  '429': { code: 'TooManyRequests', message: 'The request was throttled (injected fault).' },
  '500': { code: 'InternalError', message: 'The server encountered an internal error (injected fault).' },
  '503': {
    code: 'ServerBusy',
    message: 'The server is currently unable to receive requests (injected fault).',
  },
};

export async function startStorageFaultProxy(o: {
  /** Azurite's origin for this service, e.g. https://127.0.0.1:10002. */
  readonly target: string;
  readonly service: 'blob' | 'table';
  readonly certificate: { readonly cert: string; readonly key: string };
}): Promise<StorageFaultProxy> {
  const target = new URL(o.target);
  const agent = new Agent({ ca: o.certificate.cert, keepAlive: true });
  let rules: ActiveRule[] = [];
  let hits = 0;
  const exchanges: StorageExchange[] = [];

  const server: Server = createServer({ cert: o.certificate.cert, key: o.certificate.key }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://proxy');
    const method = (req.method ?? 'GET').toUpperCase();
    const query = safeQuery(url.searchParams);
    const rule = rules.find(
      (r) =>
        r.remaining > 0 &&
        (r.method === undefined || r.method === '*' || r.method.toUpperCase() === method) &&
        new RegExp(r.path, 'i').test(url.pathname) &&
        (r.query === undefined || new RegExp(r.query, 'i').test(url.search)),
    );
    if (rule) {
      rule.remaining -= 1;
      hits += 1;
    }
    const record = (status: number) =>
      exchanges.push({ method, path: url.pathname, query, status, fault: rule?.kind });
    if (rule?.kind === 'reset') {
      record(0);
      req.socket.destroy();
      return;
    }
    if (rule && rule.kind !== 'delay') {
      req.resume();
      const e = ERRORS[rule.kind]!;
      const status = Number(rule.kind);
      const headers: Record<string, string> = {
        'x-ms-error-code': e.code,
        'x-ms-request-id': randomUUID(),
        'x-ms-version': String(req.headers['x-ms-version'] ?? '2025-01-05'),
      };
      if (rule.kind === '429' || rule.kind === '503')
        headers['Retry-After'] = String(rule.retryAfterSeconds ?? 1);
      let body: string;
      if (o.service === 'table') {
        headers['Content-Type'] = 'application/json;odata=minimalmetadata;streaming=true;charset=utf-8';
        body = JSON.stringify({
          'odata.error': { code: e.code, message: { lang: 'en-US', value: e.message } },
        });
      } else {
        headers['Content-Type'] = 'application/xml';
        body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${e.code}</Code><Message>${e.message}</Message></Error>`;
      }
      record(status);
      res.writeHead(status, headers);
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }
    const forward = () => {
      const upstream = httpsRequest(
        {
          protocol: 'https:',
          hostname: target.hostname,
          port: target.port,
          method,
          path: `${url.pathname}${url.search}`,
          headers: { ...req.headers, host: target.host },
          agent,
        },
        (up) => {
          record(up.statusCode ?? 0);
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => {
        record(0);
        req.socket.destroy();
      });
      req.pipe(upstream);
    };
    if (rule?.kind === 'delay') setTimeout(forward, rule.delayMs ?? 1000);
    else forward();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://127.0.0.1:${port}`,
    exchanges,
    inject(spec) {
      if (!KINDS.includes(spec.kind)) throw new Error(`fault kind must be one of ${KINDS.join(', ')}`);
      new RegExp(spec.path, 'i');
      rules.push({ ...spec, remaining: spec.times ?? Number.POSITIVE_INFINITY });
    },
    clearFaults() {
      rules = [];
    },
    hits: () => hits,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}
