/**
 * The HTTPS front of the emulator: per request, fault injection, authentication, api-version check,
 * throttling, state-machine catch-up, routing, ARM headers, and recording.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkApiVersion } from './api-versions.js';
import { authorizeCaller } from './caller-authorization.js';
import type { ArmRequest, ArmResponse, EmulatorContext } from './context.js';
import { ArmError } from './errors.js';
import type { FaultInjector } from './faults.js';
import { bodyForRecord, type ExchangeRecorder, redactHeaders } from './recorder.js';
import { matchRoute, type Route } from './router.js';
import type { SubscriptionThrottle } from './throttle.js';

export const CONTROL_PREFIX = '/_emulator';

export interface PipelineDeps {
  readonly ctx: EmulatorContext;
  readonly routes: readonly Route[];
  readonly faults: FaultInjector;
  readonly throttle: SubscriptionThrottle;
  readonly recorder: ExchangeRecorder;
  /** Brings the build state machines up to the current virtual time. */
  readonly tick: () => void;
  /**
   * Saves the state (persistence.ts) before an answer leaves, so that no client sees a state that a crash
   * could take back. Undefined when the emulator keeps its state in memory only.
   */
  readonly persist?: () => void;
  /** What a `crash` fault does once the call is answered (kills the process). */
  readonly crash?: () => void;
  readonly control: (
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
  ) => Promise<ArmResponse>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The `oid` claim of a bearer token (the local credential's JWT shape), if any. */
export function objectIdFromAuthorization(header: string | undefined): string | undefined {
  const m = header ? /^Bearer\s+([^.\s]+)\.([^.\s]+)\.?/i.exec(header) : null;
  if (!m) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(m[2]!, 'base64url').toString('utf8')) as { oid?: unknown };
    return typeof payload.oid === 'string' ? payload.oid : undefined;
  } catch {
    return undefined;
  }
}

function subscriptionOf(path: string): string {
  return /^\/subscriptions\/([^/]+)/i.exec(path)?.[1] ?? 'tenant';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createRequestHandler(deps: PipelineDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    // Prefixing keeps a path such as `//subscriptions/...` (scope-based SDK paths) from being read as a host.
    const url = new URL(`https://localhost${req.url ?? '/'}`);
    const path = decodeURIComponent(url.pathname).replace(/\/{2,}/g, '/');
    const text = await readBody(req);
    let body: unknown;
    try {
      body = text === '' ? undefined : (JSON.parse(text) as unknown);
    } catch {
      body = Symbol.for('invalid-json');
    }

    if (path.startsWith(CONTROL_PREFIX)) {
      let out: ArmResponse;
      try {
        if (typeof body === 'symbol')
          throw new ArmError(400, 'InvalidJson', 'The request body is not valid JSON.');
        out = await deps.control(method, path.slice(CONTROL_PREFIX.length) || '/', url.searchParams, body);
      } catch (e) {
        out = errorResponse(e);
      }
      deps.persist?.();
      send(res, out, {});
      return;
    }

    const requestId = randomUUID();
    const base: Record<string, string> = {
      'x-ms-request-id': requestId,
      'x-ms-correlation-request-id': String(
        req.headers['x-ms-correlation-request-id'] ?? req.headers['x-ms-client-request-id'] ?? requestId,
      ),
      'x-ms-routing-request-id': `LOCAL:${requestId}`,
    };
    const finish = (out: ArmResponse) => {
      deps.persist?.();
      const headers = send(res, out, base);
      deps.recorder.record({
        request: {
          method,
          url: `${deps.ctx.baseUrl}${url.pathname}${url.search}`,
          headers: redactHeaders(req.headers),
          body: bodyForRecord(text),
        },
        response: { statusCode: out.status, headers, body: out.body === undefined ? undefined : out.body },
      });
    };

    const fault = deps.faults.take(method, path);
    if (fault?.kind === 'reset') {
      deps.persist?.();
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'delay') await sleep(fault.delayMs ?? 1000);
    if (fault && fault.kind !== 'delay' && fault.kind !== 'crash') {
      finish(injectedFault(fault.kind, fault.retryAfterSeconds ?? 1));
      return;
    }

    let out: ArmResponse;
    try {
      const auth = req.headers.authorization;
      if (!auth || !/^Bearer\s+\S+/i.test(auth)) {
        throw new ArmError(
          401,
          'AuthenticationFailed',
          "Authentication failed. The 'Authorization' header is missing.",
          [],
          {
            'WWW-Authenticate':
              'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="The authentication failed because of missing \'Authorization\' header."',
          },
        );
      }
      if (typeof body === 'symbol') {
        throw new ArmError(
          400,
          'InvalidRequestContent',
          'The request content was invalid and could not be deserialized.',
        );
      }
      const apiVersion = url.searchParams.get('api-version');
      checkApiVersion(path, apiVersion);
      const decision = deps.throttle.check(subscriptionOf(path), method);
      base[`x-ms-ratelimit-remaining-subscription-${decision.kind}`] = String(decision.remaining);
      if (!decision.allowed) {
        const what = decision.kind === 'reads' ? 'read' : decision.kind === 'deletes' ? 'delete' : 'write';
        throw new ArmError(
          429,
          'SubscriptionRequestsThrottled',
          `Number of '${what}' requests for subscription '${subscriptionOf(path)}' exceeded the limit. Please try again after '${decision.retryAfterSeconds}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling`,
          [],
          { 'Retry-After': String(decision.retryAfterSeconds) },
        );
      }
      deps.tick();
      const match = matchRoute(deps.routes, method, path);
      if (!match) {
        throw new ArmError(
          404,
          'InvalidResourceType',
          `The resource type or path '${path}' is not served by the local ARM emulator.`,
        );
      }
      if ('methodNotAllowed' in match) {
        throw new ArmError(405, 'MethodNotAllowed', `The method '${method}' is not supported on '${path}'.`);
      }
      const armReq: ArmRequest = {
        method,
        path,
        query: url.searchParams,
        body,
        apiVersion: apiVersion!,
        callerObjectId: objectIdFromAuthorization(auth),
      };
      authorizeCaller(deps.ctx, armReq);
      out = await match.route.handler(deps.ctx, armReq, match.params);
      await deps.ctx.logs.idle();
    } catch (e) {
      out = errorResponse(e);
    }
    finish(
      method === 'HEAD' ? { status: out.status, ...(out.headers ? { headers: out.headers } : {}) } : out,
    );
    if (fault?.kind === 'crash') deps.crash?.();
  };
}

function injectedFault(kind: '429' | '500' | '503' | '403' | '404', retryAfterSeconds: number): ArmResponse {
  // Shapes of ARM's AuthorizationFailed and ResourceNotFound answers
  // (https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/error-not-found).
  if (kind === '403') {
    return {
      status: 403,
      body: new ArmError(
        403,
        'AuthorizationFailed',
        'The client does not have authorization to perform this action over this scope or the scope is invalid (injected fault).',
      ).toBody(),
    };
  }
  if (kind === '404') {
    return {
      status: 404,
      body: new ArmError(
        404,
        'ResourceNotFound',
        'The Resource was not found (injected fault). For more details please go to https://aka.ms/ARMResourceNotFoundFix',
      ).toBody(),
    };
  }
  if (kind === '429') {
    return {
      status: 429,
      headers: { 'Retry-After': String(retryAfterSeconds) },
      body: new ArmError(
        429,
        'TooManyRequests',
        'The request was throttled (injected fault). Retry after the time in the Retry-After header.',
      ).toBody(),
    };
  }
  if (kind === '503') {
    return {
      status: 503,
      headers: { 'Retry-After': String(retryAfterSeconds) },
      body: new ArmError(
        503,
        'ServiceUnavailable',
        'The service is temporarily unavailable (injected fault). Please retry.',
      ).toBody(),
    };
  }
  return {
    status: 500,
    body: new ArmError(
      500,
      'InternalServerError',
      'An internal server error occurred (injected fault). Please retry.',
    ).toBody(),
  };
}

function errorResponse(e: unknown): ArmResponse {
  if (e instanceof ArmError) return { status: e.status, headers: { ...e.headers }, body: e.toBody() };
  const message = e instanceof Error ? e.message : String(e);
  return {
    status: 500,
    body: new ArmError(500, 'InternalServerError', `Emulator error: ${message}`).toBody(),
  };
}

function send(res: ServerResponse, out: ArmResponse, base: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = { ...base, ...(out.headers ?? {}) };
  let payload: string | undefined;
  if (out.body !== undefined && out.status !== 204) {
    payload = JSON.stringify(out.body);
    headers['Content-Type'] = 'application/json; charset=utf-8';
  }
  headers['Content-Length'] = String(payload === undefined ? 0 : Buffer.byteLength(payload));
  res.writeHead(out.status, headers);
  res.end(payload);
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
