/**
 * The notification webhook's safety rules, against real local HTTP servers (the transport is the real
 * fetch) and, for the time budget, a virtual clock:
 *  - HTTPS only: an http:// URL (or anything not https) is refused before any connection;
 *  - redirects are never followed: a 301/302/303/307/308 is a final failure and the redirect target
 *    receives nothing;
 *  - bounded time: a server that never answers costs at most the per-attempt timeout, and the whole
 *    delivery ends within its budget whatever the server does (property, virtual time);
 *  - never fails a build: the notify activity body resolves whatever the transport does.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { notifyBuildResult } from '../../src/notify/notify-activity.js';
import {
  deliverSummary,
  fetchTransport,
  summaryOf,
  type WebhookTransport,
} from '../../src/notify/webhook.js';
import type { BuildOutput } from '../../src/orchestration/contracts.js';

const OUTPUT: BuildOutput = {
  buildId: 'aks-jumpbox.20260101T030000Z.0000abcd',
  definition: 'aks-jumpbox',
  result: 'Failed',
  error: { code: 'CustomizerFailed', message: 'exit 1' },
  logs: [],
  durations: {},
};
const SUMMARY = summaryOf(OUTPUT);

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

/** A local server recording every request; `respond` decides (undefined = never answer). */
async function server(
  respond: (req: IncomingMessage) => { status: number; headers?: Record<string, string> } | undefined,
) {
  const seen: string[] = [];
  const s = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    const r = respond(req);
    if (!r) return; // hang: keep the socket open, never answer
    res.writeHead(r.status, r.headers);
    res.end();
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, seen };
}

describe('webhook: HTTPS only', () => {
  it.each([
    'http://127.0.0.1:{port}/hook',
    'HTTP://127.0.0.1:{port}/hook',
    'ftp://127.0.0.1:{port}/hook',
    'ws://127.0.0.1:{port}/hook',
    'not a url',
  ])('%s is refused before any request is made', async (template) => {
    const target = await server(() => ({ status: 204 }));
    const url = template.replace('{port}', new URL(target.origin).port);
    const r = await deliverSummary(url, SUMMARY, { sleep: async () => undefined });
    expect(r).toMatchObject({ delivered: false, attempts: 0 });
    expect(target.seen).toEqual([]);
  });
});

describe('webhook: redirects are never followed (real fetch, real server)', () => {
  it.each([301, 302, 303, 307, 308])(
    '%i: the redirect target receives nothing, and no retry',
    async (code) => {
      const elsewhere = await server(() => ({ status: 204 }));
      const hook = await server(() => ({ status: code, headers: { location: `${elsewhere.origin}/steal` } }));
      const t = fetchTransport(fetch);
      // The transport on its own (over plain HTTP on loopback, as deliverSummary would refuse http).
      expect(await t(new URL(`${hook.origin}/hook`), JSON.stringify(SUMMARY), 5000)).toMatchObject({
        status: code,
      });
      // The same through the delivery loop, with the https check bypassed by a transport that rewrites
      // the scheme to the local server.
      const viaLoopback: WebhookTransport = (url, body, ms) =>
        t(new URL(`${hook.origin}${url.pathname}`), body, ms);
      const r = await deliverSummary('https://hooks.example.test/hook', SUMMARY, {
        transport: viaLoopback,
        sleep: async () => undefined,
      });
      expect(r).toMatchObject({ delivered: false, attempts: 1, status: code });
      expect(r.lastError).toContain('redirect not followed');
      expect(hook.seen).toEqual(['POST /hook', 'POST /hook']);
      expect(elsewhere.seen).toEqual([]);
    },
  );
});

describe('webhook: bounded time', () => {
  it('a server that accepts and never answers costs one timeout per attempt, then the delivery gives up', async () => {
    const hang = await server(() => undefined);
    const t = fetchTransport(fetch);
    const r = await deliverSummary('https://hooks.example.test/hook', SUMMARY, {
      transport: (url, body) => t(new URL(`${hang.origin}${url.pathname}`), body, 150),
      attempts: 2,
      sleep: async () => undefined,
    });
    expect(r.delivered).toBe(false);
    expect(r.attempts).toBe(2);
    expect(r.lastError).toMatch(/TimeoutError|AbortError|aborted/i);
    expect(hang.seen).toHaveLength(2);
  });

  it('whatever the webhook does, the whole delivery ends within its budget (virtual time, property)', async () => {
    const behaviour = fc.oneof(
      fc.record({
        kind: fc.constant('status' as const),
        status: fc.integer({ min: 100, max: 599 }),
        latency: fc.nat(20_000),
      }),
      fc.record({
        kind: fc.constant('retry-after' as const),
        seconds: fc.oneof(
          fc.nat(10_000).map(String),
          fc.constantFrom('soon', '-1', 'Wed, 21 Oct 2099 07:28:00 GMT'),
        ),
        latency: fc.nat(5000),
      }),
      fc.record({ kind: fc.constant('hang' as const) }),
      fc.record({ kind: fc.constant('reset' as const), latency: fc.nat(3000) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(behaviour, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1000, max: 120_000 }),
        fc.integer({ min: 100, max: 30_000 }),
        fc.integer({ min: 1, max: 8 }),
        async (script, budget, perAttempt, attempts) => {
          let clock = 1_000_000;
          let calls = 0;
          const transport: WebhookTransport = async (_url, _body, timeoutMs) => {
            const b = script[Math.min(calls++, script.length - 1)]!;
            expect(timeoutMs).toBeGreaterThan(0);
            expect(timeoutMs).toBeLessThanOrEqual(perAttempt);
            if (b.kind === 'hang') {
              clock += timeoutMs;
              throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
            }
            const spent = Math.min(b.latency, timeoutMs);
            clock += spent;
            if (b.latency > timeoutMs) throw new DOMException('timeout', 'TimeoutError');
            if (b.kind === 'reset')
              throw Object.assign(new TypeError('fetch failed'), { cause: 'ECONNRESET' });
            if (b.kind === 'retry-after') return { status: 429, retryAfter: b.seconds };
            return { status: b.status, retryAfter: null };
          };
          const start = clock;
          const r = await deliverSummary('https://hooks.example.test/x', SUMMARY, {
            transport,
            now: () => clock,
            sleep: async (ms) => {
              expect(ms).toBeGreaterThanOrEqual(0);
              clock += ms;
            },
            totalBudgetMs: budget,
            timeoutMs: perAttempt,
            attempts,
            random: () => 0.5,
          });
          expect(clock - start).toBeLessThanOrEqual(budget);
          expect(r.attempts).toBeLessThanOrEqual(attempts);
          expect(calls).toBe(r.attempts);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('webhook: never fails a build', () => {
  it('the notify activity body resolves whatever the transport throws or answers', async () => {
    const lines: string[] = [];
    const log = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m) };
    const failures: WebhookTransport[] = [
      async () => {
        throw new Error('boom https://hooks.example.test/services/T0/B0/secret-token');
      },
      async () => {
        throw 'not even an Error';
      },
      async () => ({ status: 500, retryAfter: '1' }),
      async () => ({ status: 0, retryAfter: null }),
      (() => {
        throw new RangeError('synchronous');
      }) as unknown as WebhookTransport,
    ];
    for (const transport of failures) {
      const r = await notifyBuildResult(
        'https://hooks.example.test/services/T0/B0/secret-token',
        OUTPUT,
        log,
        {
          transport,
          sleep: async () => undefined,
        },
      );
      expect(r).toMatchObject({ delivered: false });
    }
    expect(lines.join('\n')).not.toContain('secret-token');
  });
});
