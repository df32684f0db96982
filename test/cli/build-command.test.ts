import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BuildIo,
  EXIT,
  parseBuildArgs,
  parseDuration,
  runBuild,
  UsageError,
} from '../../src/cli/commands/build.js';

const KEY = 'sEcReT-function-key-123';
const BASE = 'https://app.example.net';
const STATUS = `${BASE}/api/builds/aks-jumpbox.20260101T000000Z.0000abcd`;

type Reply = { status: number; body: unknown };

/** A scripted API: the POST reply, then one reply per status poll (the last repeats). */
function scripted(post: Reply, polls: Reply[] = []) {
  const requests: { method: string; url: string; headers: Record<string, string> }[] = [];
  let i = 0;
  const f = (async (url: string, init: RequestInit) => {
    requests.push({ method: String(init.method), url, headers: init.headers as Record<string, string> });
    const r = init.method === 'POST' ? post : polls[Math.min(i++, polls.length - 1)]!;
    return new Response(JSON.stringify(r.body), {
      status: r.status,
      headers: { 'content-type': 'application/json' },
    });
  }) as unknown as typeof fetch;
  return { f, requests };
}

function io(f: typeof fetch, extra: Partial<BuildIo> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  let t = 0;
  const value: BuildIo = {
    env: { JUMPBOX_FUNCTION_KEY: KEY },
    fetch: f,
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    isTTY: false,
    sleep: async (ms) => {
      t += ms;
    },
    now: () => t,
    ...extra,
  };
  return { value, out, err };
}

const accepted: Reply = {
  status: 202,
  body: { buildId: 'aks-jumpbox.20260101T000000Z.0000abcd', statusUrl: STATUS },
};
const running = (sub: string): Reply => ({
  status: 200,
  body: {
    buildId: 'x',
    status: 'Running',
    terminal: false,
    runtime: { customStatus: { phase: 'polling', runSubState: sub } },
  },
});
const args = (...extra: string[]) =>
  parseBuildArgs(['--url', BASE, '--definition', 'aks-jumpbox', '--wait', ...extra]);

describe('build command', () => {
  it('exit 0 and the image id on stdout on success; key sent as a header, never printed; no ANSI off a TTY', async () => {
    const api = scripted(accepted, [
      running('Building'),
      running('Customizing'),
      {
        status: 200,
        body: { buildId: 'x', status: 'Succeeded', terminal: true, imageId: '/subscriptions/s/images/img' },
      },
    ]);
    const { value, out, err } = io(api.f);
    expect(await runBuild(args(), value)).toBe(EXIT.ok);
    expect(out.join('')).toBe('/subscriptions/s/images/img\n');
    expect(err.join('')).toContain('runSubState=Customizing');
    expect(err.join('') + out.join('')).not.toContain(KEY);
    expect(err.join('').includes('\u001b[')).toBe(false);
    expect(api.requests[0]).toMatchObject({ method: 'POST', url: `${BASE}/api/builds` });
    expect(api.requests.every((r) => r.headers['x-functions-key'] === KEY && !r.url.includes(KEY))).toBe(
      true,
    );
  });

  it('exit 1 on a failed build with the error', async () => {
    const api = scripted(accepted, [
      {
        status: 200,
        body: {
          buildId: 'x',
          status: 'Failed',
          terminal: true,
          error: { code: 'CustomizerFailed', message: 'step 3' },
        },
      },
    ]);
    const { value, err } = io(api.f);
    expect(await runBuild(args(), value)).toBe(EXIT.buildFailed);
    expect(err.join('')).toContain('CustomizerFailed');
  });

  it('exit 2 with the problem detail on 409, 422 and a rejected key', async () => {
    const conflict = scripted({
      status: 409,
      body: { title: 'Conflict', detail: 'A build of "aks-jumpbox" is already running', statusUrl: STATUS },
    });
    let r = io(conflict.f);
    expect(await runBuild(args(), r.value)).toBe(EXIT.usage);
    expect(r.err.join('')).toContain('already running');
    expect(r.err.join('')).toContain(STATUS);

    const invalid = scripted({
      status: 422,
      body: { detail: 'Invalid request', errors: [{ field: 'definition', reason: 'is not configured' }] },
    });
    r = io(invalid.f);
    expect(await runBuild(args(), r.value)).toBe(EXIT.usage);
    expect(r.err.join('')).toContain('definition: is not configured');

    const denied = scripted({ status: 401, body: '' });
    r = io(denied.f);
    expect(await runBuild(args(), r.value)).toBe(EXIT.usage);
    expect(r.err.join('')).toContain('JUMPBOX_FUNCTION_KEY');
    expect(r.err.join('')).not.toContain(KEY);
  });

  it('exit 2 without a key, exit 3 (and optional cancel) on timeout', async () => {
    const none = io(scripted(accepted).f, { env: {} });
    expect(await runBuild(args(), none.value)).toBe(EXIT.usage);

    const api = scripted(accepted, [running('Building')]);
    const { value, err } = io(api.f);
    expect(
      await runBuild(args('--timeout', '1m', '--poll-interval', '10s', '--cancel-on-timeout'), value),
    ).toBe(EXIT.timeout);
    expect(err.join('')).toContain('timed out');
    expect(api.requests.at(-1)).toMatchObject({ method: 'POST', url: `${STATUS}/cancel` });
    // 1 minute at a 10 s interval: about six polls, not more.
    expect(api.requests.filter((q) => q.method === 'GET').length).toBeLessThanOrEqual(7);
  });

  it('retries transient status failures, then gives up with exit 2', async () => {
    const api = scripted(accepted, [{ status: 503, body: {} }]);
    const { value } = io(api.f);
    expect(await runBuild(args(), value)).toBe(EXIT.usage);
    expect(api.requests.filter((q) => q.method === 'GET')).toHaveLength(6);
  });

  it('--dry-run prints the plan and exits 0 without polling; without --wait prints the build id', async () => {
    const plan = {
      dryRun: true,
      definition: 'aks-jumpbox',
      template: { name: 'aks-jumpbox-0123456789ab', action: 'reuse' },
    };
    const dry = scripted({ status: 200, body: plan });
    const d = io(dry.f);
    const code = await runBuild(
      parseBuildArgs(['--url', BASE, '--definition', 'aks-jumpbox', '--dry-run', '--json']),
      d.value,
    );
    expect(code).toBe(EXIT.ok);
    expect(JSON.parse(d.out.join(''))).toEqual(plan);
    expect(dry.requests).toHaveLength(1);

    const fire = scripted(accepted);
    const f = io(fire.f);
    expect(await runBuild(parseBuildArgs(['--url', BASE, '--definition', 'aks-jumpbox']), f.value)).toBe(
      EXIT.ok,
    );
    expect(f.out.join('')).toBe('aks-jumpbox.20260101T000000Z.0000abcd\n');
    expect(fire.requests).toHaveLength(1);
  });

  it('rejects bad usage with a message naming the option', () => {
    expect(() => parseBuildArgs(['--definition', 'x'])).toThrow(/--url is required/);
    expect(() => parseBuildArgs(['--url', BASE])).toThrow(/--definition is required/);
    expect(() => parseBuildArgs(['--url', 'http://example.com', '--definition', 'x'])).toThrow(/https/);
    expect(() => parseBuildArgs(['--url', `${BASE}?code=abc`, '--definition', 'x'])).toThrow(/query/);
    expect(() => parseBuildArgs(['--url', BASE, '--definition', 'x', '--bogus'])).toThrow(UsageError);
    expect(parseBuildArgs(['--url', `${BASE}/api/`, '--definition=x', '--timeout=90m']).url).toBe(BASE);
  });

  it('parses durations in every unit and rejects junk (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.constantFrom(['ms', 1], ['s', 1000], ['m', 60_000], ['h', 3_600_000], ['', 1000]),
        (n, [u, f]) => {
          expect(parseDuration(`${n}${u}`, '--timeout')).toBe(n * (f as number));
        },
      ),
    );
    for (const bad of ['', 'abc', '-5s', '0', '5d', '1e3s'])
      expect(() => parseDuration(bad, '--timeout')).toThrow(/--timeout/);
  });
});
