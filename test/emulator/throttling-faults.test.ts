/**
 * ARM-wide throttling (token buckets, 429 with Retry-After and the remaining-requests headers) and
 * fault injection per operation, seen through raw calls and through the SDK's retry policies.
 */
import { describe, expect, it } from 'vitest';
import { SubscriptionThrottle, TokenBucket } from '../../src/local/arm-emulator/throttle.js';
import { armRequest, useEmulator } from '../support/emulator.js';

describe('throttling and fault injection', () => {
  const harness = useEmulator({ maxRetries: 3 });

  it('answers 429 with Retry-After and remaining-reads 0 once the read bucket is empty, and refills', async () => {
    const h = harness();
    h.emulator.control.setThrottling({ reads: { capacity: 3, refillPerSecond: 0.5 } });
    try {
      const path = `/subscriptions/${h.emulator.subscriptionId}/resourcegroups?api-version=2021-04-01`;
      const remaining: string[] = [];
      for (let i = 0; i < 3; i++)
        remaining.push(
          (await armRequest(h, 'GET', path)).headers['x-ms-ratelimit-remaining-subscription-reads']!,
        );
      expect(remaining).toEqual(['2', '1', '0']);
      const throttled = await armRequest(h, 'GET', path);
      expect(throttled.status).toBe(429);
      expect(throttled.headers['retry-after']).toBe('2');
      expect(throttled.headers['x-ms-ratelimit-remaining-subscription-reads']).toBe('0');
      expect((throttled.body as { error: { code: string } }).error.code).toBe(
        'SubscriptionRequestsThrottled',
      );
      h.emulator.control.setThrottling({ reads: { capacity: 3, refillPerSecond: 50 } });
      await new Promise((r) => setTimeout(r, 100));
      expect((await armRequest(h, 'GET', path)).status).toBe(200);
      // Writes have their own bucket.
      const put = await armRequest(
        h,
        'PUT',
        `/subscriptions/${h.emulator.subscriptionId}/resourcegroups/rg-throttle?api-version=2021-04-01`,
        { location: 'eastus2' },
      );
      expect(put.headers['x-ms-ratelimit-remaining-subscription-writes']).toMatch(/^\d+$/);
    } finally {
      h.emulator.control.setThrottling({ reads: { capacity: 250, refillPerSecond: 25 } });
    }
  });

  it('injects 429/503/500 for the next N matching calls; the SDK retries through them', async () => {
    const h = harness();
    const count = () =>
      h.emulator.state
        .requests()
        .filter((r) => /\/virtualNetworks\/vnet-imagebuilder\/subnets\/snet-imagebuilder/.test(r.request.url))
        .length;
    const before = count();
    h.emulator.control.injectFault({
      method: 'GET',
      path: '/subnets/snet-imagebuilder$',
      kind: '429',
      times: 1,
      retryAfterSeconds: 1,
    });
    h.emulator.control.injectFault({
      method: 'GET',
      path: '/subnets/snet-imagebuilder$',
      kind: '503',
      times: 1,
      retryAfterSeconds: 1,
    });
    const subnet = await h.clients.network.subnets.get(
      'rg-enterprise-networking-spokes',
      'vnet-imagebuilder',
      'snet-imagebuilder',
    );
    expect(subnet.name).toBe('snet-imagebuilder');
    expect(count() - before).toBe(3);
    const statuses = h.emulator.state
      .requests()
      .slice(-3)
      .map((r) => r.response.statusCode);
    expect(statuses).toEqual([429, 503, 200]);
    expect(h.emulator.state.requests().at(-3)!.response.headers['retry-after']).toBe('1');
  }, 20_000);

  it('fails permanently until cleared, resets connections, and leaves other operations alone', async () => {
    const h = harness();
    h.emulator.control.injectFault({ path: '/networkSecurityGroups/', kind: '500' });
    const nsgPath = `/subscriptions/${h.emulator.subscriptionId}/resourceGroups/rg-enterprise-networking-spokes/providers/Microsoft.Network/networkSecurityGroups/nsg-snet-imagebuilder?api-version=2025-05-01`;
    for (let i = 0; i < 3; i++) {
      const r = await armRequest(h, 'GET', nsgPath);
      expect(r.status).toBe(500);
      expect(r.body).toMatchObject({ error: { code: 'InternalServerError' } });
    }
    await expect(
      h.clients.network.subnets.get(
        'rg-enterprise-networking-spokes',
        'vnet-imagebuilder',
        'snet-imagebuilder',
      ),
    ).resolves.toBeDefined();
    h.emulator.control.clearFaults();
    await expect(
      h.clients.network.networkSecurityGroups.get('rg-enterprise-networking-spokes', 'nsg-snet-imagebuilder'),
    ).resolves.toBeDefined();
    h.emulator.control.injectFault({ path: '/resourcegroups$', kind: 'reset', times: 1 });
    await expect(
      armRequest(
        h,
        'GET',
        `/subscriptions/${h.emulator.subscriptionId}/resourcegroups?api-version=2021-04-01`,
      ),
    ).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(
      (
        await armRequest(
          h,
          'GET',
          `/subscriptions/${h.emulator.subscriptionId}/resourcegroups?api-version=2021-04-01`,
        )
      ).status,
    ).toBe(200);
    h.emulator.control.injectFault({ path: '/resourcegroups$', kind: 'delay', delayMs: 300, times: 1 });
    // The delayed answer is still outstanding after a shorter timer set before it (timer order, not a
    // measured duration), and then arrives normally.
    let answered = false;
    const delayed = armRequest(
      h,
      'GET',
      `/subscriptions/${h.emulator.subscriptionId}/resourcegroups?api-version=2021-04-01`,
    ).finally(() => {
      answered = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(answered).toBe(false);
    expect((await delayed).status).toBe(200);
    expect(() => h.emulator.control.injectFault({ path: '', kind: '500' })).toThrow(/path/);
    expect(() => h.emulator.control.injectFault({ path: 'x', kind: '418' as never })).toThrow(/kind/);
  });
});

describe('token buckets', () => {
  it('allow capacity requests, then refill at the configured rate', () => {
    let now = 0;
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 4 }, () => now);
    expect(bucket.take()).toBe(1);
    expect(bucket.take()).toBe(0);
    expect(bucket.take()).toBeUndefined();
    expect(bucket.secondsUntilToken()).toBe(1);
    now += 250;
    expect(bucket.take()).toBe(0);
    now += 10_000;
    expect(bucket.remaining()).toBe(2);
  });

  it('keeps reads, writes and deletes apart per subscription', () => {
    const t = new SubscriptionThrottle(
      {
        reads: { capacity: 1, refillPerSecond: 1 },
        writes: { capacity: 1, refillPerSecond: 1 },
        deletes: { capacity: 1, refillPerSecond: 1 },
        minRetryAfterSeconds: 1,
      },
      () => 0,
    );
    expect(t.check('a', 'GET').allowed).toBe(true);
    expect(t.check('a', 'GET')).toMatchObject({ allowed: false, kind: 'reads', retryAfterSeconds: 1 });
    expect(t.check('a', 'PUT').allowed).toBe(true);
    expect(t.check('a', 'POST').allowed).toBe(false);
    expect(t.check('a', 'DELETE').allowed).toBe(true);
    expect(t.check('b', 'GET').allowed).toBe(true);
  });
});
