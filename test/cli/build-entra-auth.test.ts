/**
 * `jumpbox-builder build --auth entra`: a Microsoft Entra token for the API audience instead of (or, when the key
 * variable is set too, next to) a function key. The credential is a stand-in TokenCredential (what
 * DefaultAzureCredential returns in a pipeline); the HTTP side is a recording fetch.
 */
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { describe, expect, it } from 'vitest';
import { scopeForAudience } from '../../src/cli/auth.js';
import { type BuildIo, EXIT, parseBuildArgs, runBuild } from '../../src/cli/commands/build.js';

const URL_ = 'https://func-jumpbox.example.net';

function recorder(responses: { status: number; body: unknown }[]) {
  const requests: { url: string; headers: Record<string, string> }[] = [];
  const fetchImpl = (async (url: string, init?: RequestInit) => {
    requests.push({ url: String(url), headers: { ...(init?.headers as Record<string, string>) } });
    const r = responses.shift() ?? { status: 500, body: {} };
    return new Response(JSON.stringify(r.body), {
      status: r.status,
      headers: { 'content-type': 'application/json' },
    });
  }) as typeof fetch;
  return { requests, fetchImpl };
}

function credential(tokens: string[], scopes: string[]): TokenCredential {
  return {
    async getToken(scope: string | string[]): Promise<AccessToken | null> {
      scopes.push(Array.isArray(scope) ? scope.join(' ') : scope);
      return { token: tokens.shift() ?? 'token-x', expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
}

function io(env: Record<string, string>, fetchImpl: typeof fetch, cred?: TokenCredential) {
  const out: string[] = [];
  const err: string[] = [];
  const value: BuildIo = {
    env,
    fetch: fetchImpl,
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    isTTY: false,
    sleep: async () => {},
    now: () => 0,
    ...(cred ? { credential: async () => cred } : {}),
  };
  return { value, out, err };
}

const accepted = { status: 202, body: { buildId: 'b1', statusUrl: `${URL_}/api/builds/b1` } };

describe('build --auth entra', () => {
  it('parses --auth and --audience, and rejects them by name when wrong', () => {
    const base = ['--url', URL_, '--definition', 'aks-jumpbox'];
    expect(parseBuildArgs(base)).toMatchObject({ auth: 'key' });
    expect(parseBuildArgs([...base, '--auth', 'entra', '--audience', 'api://abc'])).toMatchObject({
      auth: 'entra',
      audience: 'api://abc',
    });
    expect(() => parseBuildArgs([...base, '--auth', 'oauth'])).toThrow(/--auth must be "key".*"entra"/);
    expect(() => parseBuildArgs([...base, '--audience', 'api://abc'])).toThrow(
      /--audience goes with --auth entra/,
    );
  });

  it('turns an audience into its .default scope', () => {
    expect(scopeForAudience('api://abc')).toBe('api://abc/.default');
    expect(scopeForAudience('api://abc/')).toBe('api://abc/.default');
    expect(scopeForAudience('https://app.example/.default')).toBe('https://app.example/.default');
  });

  it('sends a bearer token for the audience on every call and no function key when none is set', async () => {
    const { requests, fetchImpl } = recorder([
      accepted,
      { status: 200, body: { buildId: 'b1', status: 'Succeeded', terminal: true, imageId: '/img' } },
    ]);
    const scopes: string[] = [];
    const t = io({}, fetchImpl, credential(['t0', 't1', 't2'], scopes));
    const code = await runBuild(
      parseBuildArgs([
        '--url',
        URL_,
        '--definition',
        'aks-jumpbox',
        '--wait',
        '--auth',
        'entra',
        '--audience',
        'api://abc',
      ]),
      t.value,
    );
    expect(code, t.err.join('')).toBe(EXIT.ok);
    expect(requests.map((r) => r.headers.authorization)).toEqual(['Bearer t1', 'Bearer t2']);
    expect(requests.every((r) => !('x-functions-key' in r.headers))).toBe(true);
    expect(new Set(scopes)).toEqual(new Set(['api://abc/.default']));
    expect(t.err.join('')).not.toMatch(/t[012]/);
  });

  it('reads the audience from JUMPBOX_API_AUDIENCE and sends the key too when it is set (both required)', async () => {
    const { requests, fetchImpl } = recorder([accepted]);
    const t = io(
      { JUMPBOX_API_AUDIENCE: 'api://from-env', JUMPBOX_FUNCTION_KEY: 'k' },
      fetchImpl,
      credential([], []),
    );
    const code = await runBuild(
      parseBuildArgs(['--url', URL_, '--definition', 'aks-jumpbox', '--auth', 'entra']),
      t.value,
    );
    expect(code).toBe(EXIT.ok);
    expect(requests[0]?.headers).toMatchObject({ authorization: 'Bearer token-x', 'x-functions-key': 'k' });
  });

  it('fails with one readable line (exit 2) without an audience, without a token, or when the token is rejected', async () => {
    const noAudience = io({}, recorder([]).fetchImpl, credential([], []));
    expect(
      await runBuild(
        parseBuildArgs(['--url', URL_, '--definition', 'd', '--auth', 'entra']),
        noAudience.value,
      ),
    ).toBe(EXIT.usage);
    expect(noAudience.err.join('')).toMatch(/--auth entra needs --audience/);

    const failing: TokenCredential = {
      getToken: async () => {
        throw new Error('DefaultAzureCredential failed to retrieve a token\nmore detail');
      },
    };
    const noToken = io({}, recorder([]).fetchImpl, failing);
    const args = ['--url', URL_, '--definition', 'd', '--auth', 'entra', '--audience', 'api://abc'];
    expect(await runBuild(parseBuildArgs(args), noToken.value)).toBe(EXIT.usage);
    expect(noToken.err).toEqual([
      'jumpbox-builder build: no Microsoft Entra token for api://abc/.default: DefaultAzureCredential failed to retrieve a token\n',
    ]);

    const rejected = io({}, recorder([{ status: 401, body: '' }]).fetchImpl, credential([], []));
    expect(await runBuild(parseBuildArgs(args), rejected.value)).toBe(EXIT.usage);
    expect(rejected.err.join('')).toMatch(
      /HTTP 401: the Microsoft Entra token for api:\/\/abc\/\.default was rejected/,
    );
  });

  it('keeps the function key path unchanged: no key and no --auth entra is a usage error naming both', async () => {
    const t = io({}, recorder([]).fetchImpl);
    expect(await runBuild(parseBuildArgs(['--url', URL_, '--definition', 'd']), t.value)).toBe(EXIT.usage);
    expect(t.err.join('')).toMatch(/JUMPBOX_FUNCTION_KEY.*or use --auth entra/);
  });
});
