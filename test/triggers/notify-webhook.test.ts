import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { notifyBuildResult } from '../../src/notify/notify-activity.js';
import { backoffDelayMs, deliverSummary, summaryOf } from '../../src/notify/webhook.js';
import type { BuildOutput } from '../../src/orchestration/contracts.js';

const OUTPUT: BuildOutput = {
  buildId: 'aks-jumpbox.20260101T030000Z.0000abcd',
  definition: 'aks-jumpbox',
  result: 'Succeeded',
  imageId: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/images/img',
  logs: ['https://logs/customization.log'],
  durations: { total: 2400 },
};
const SECRET_URL = 'https://hooks.example.com/services/T000/B000/very-secret-token';

function scriptedFetch(script: (number | Error)[]) {
  const calls: { url: string; body: unknown }[] = [];
  const f = (async (url: string, init: RequestInit) => {
    calls.push({ url, body: JSON.parse(String(init.body)) });
    const next = script[Math.min(calls.length - 1, script.length - 1)]!;
    if (next instanceof Error) throw next;
    return new Response(null, { status: next, headers: next === 429 ? { 'retry-after': '2' } : {} });
  }) as unknown as typeof fetch;
  return { f, calls };
}

describe('deliverSummary', () => {
  it('posts the JSON summary once when the webhook accepts it', async () => {
    const { f, calls } = scriptedFetch([200]);
    const r = await deliverSummary(SECRET_URL, summaryOf(OUTPUT), { fetch: f, sleep: async () => undefined });
    expect(r).toMatchObject({
      delivered: true,
      attempts: 1,
      status: 200,
      target: 'https://hooks.example.com',
    });
    expect(calls[0]?.body).toMatchObject({
      buildId: OUTPUT.buildId,
      result: 'Succeeded',
      imageId: OUTPUT.imageId,
    });
  });

  it('retries 5xx, 429 (honouring Retry-After) and network errors with backoff, then delivers', async () => {
    const { f, calls } = scriptedFetch([503, 429, new TypeError('fetch failed'), 204]);
    const sleeps: number[] = [];
    const r = await deliverSummary(SECRET_URL, summaryOf(OUTPUT), {
      fetch: f,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      baseDelayMs: 100,
      random: () => 0.5,
    });
    expect(r).toMatchObject({ delivered: true, attempts: 4 });
    expect(calls).toHaveLength(4);
    expect(sleeps).toEqual([100, 2000, 400]);
  });

  it('gives up on a 4xx at once and after the attempt budget otherwise, never throwing nor leaking the URL', async () => {
    const bad = scriptedFetch([404]);
    expect(
      await deliverSummary(SECRET_URL, summaryOf(OUTPUT), { fetch: bad.f, sleep: async () => undefined }),
    ).toMatchObject({
      delivered: false,
      attempts: 1,
      status: 404,
    });
    const down = scriptedFetch([new Error(`connect ECONNREFUSED ${SECRET_URL}`)]);
    const r = await deliverSummary(SECRET_URL, summaryOf(OUTPUT), {
      fetch: down.f,
      sleep: async () => undefined,
      attempts: 3,
    });
    expect(r).toMatchObject({ delivered: false, attempts: 3 });
    expect(down.calls).toHaveLength(3);
    expect(JSON.stringify(r)).not.toContain('very-secret-token');
  });

  it('backoff grows exponentially within +-20% and never exceeds the cap (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (retry, rnd) => {
          const d = backoffDelayMs(retry, 1000, 30_000, () => rnd);
          const nominal = Math.min(30_000, 1000 * 2 ** (retry - 1));
          expect(d).toBeLessThanOrEqual(30_000);
          expect(d).toBeGreaterThanOrEqual(Math.floor(nominal * 0.8));
          expect(d).toBeLessThanOrEqual(Math.ceil(nominal * 1.2));
        },
      ),
    );
  });
});

describe('notifyBuildResult (the activity body)', () => {
  const lines: string[] = [];
  const log = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m) };

  it('is a no-op without a webhook setting', async () => {
    const { f, calls } = scriptedFetch([200]);
    expect(await notifyBuildResult(undefined, OUTPUT, log, { fetch: f })).toMatchObject({ skipped: true });
    expect(calls).toHaveLength(0);
  });

  it('resolves (never rejects) when the webhook keeps failing, and logs only the origin', async () => {
    const { f } = scriptedFetch([500]);
    const r = await notifyBuildResult(
      SECRET_URL,
      { ...OUTPUT, result: 'Failed', error: { code: 'X', message: 'y' } },
      log,
      {
        fetch: f,
        sleep: async () => undefined,
      },
    );
    expect(r).toMatchObject({ skipped: false, delivered: false, attempts: 5 });
    expect(lines.join('\n')).not.toContain('very-secret-token');
    expect(lines.join('\n')).toContain('https://hooks.example.com');
  });

  it('skips input that is not a build output', async () => {
    expect(await notifyBuildResult(SECRET_URL, { nope: true }, log)).toMatchObject({ skipped: true });
  });
});
