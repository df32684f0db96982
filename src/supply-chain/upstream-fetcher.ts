/**
 * The one way `tools check` and `tools bump` reach upstreams. Every request is an https:// URL of the real
 * upstream; with a base URL (option `--upstream`, or JUMPBOX_UPSTREAM_BASE_URL) `https://HOST/PATH` is fetched
 * from `BASE/HOST/PATH` instead — the same mapping the install script uses, so tests serve every upstream from
 * one local fake server. No credentials are sent.
 */

export const UPSTREAM_BASE_URL_ENV = 'JUMPBOX_UPSTREAM_BASE_URL';

/** An upstream could not be read (network, HTTP status, malformed body): one readable line. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
}

export interface UpstreamFetcher {
  /** Where requests actually go (the base URL, or "the real upstreams"). */
  readonly target: string;
  bytes(url: string): Promise<Buffer>;
  text(url: string): Promise<string>;
  json(url: string): Promise<unknown>;
}

export interface UpstreamFetcherOptions {
  readonly baseUrl?: string | undefined;
  readonly timeoutMs?: number;
  readonly fetchImpl?: typeof fetch;
}

function checkedUpstreamUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UpstreamError(`not a URL: ${url}`);
  }
  if (u.protocol !== 'https:' || u.username || u.password) {
    throw new UpstreamError(`upstream URLs must be https:// without credentials: ${url}`);
  }
  return u;
}

/** The URL actually requested for an upstream URL, given an optional base. */
export function mappedUrl(url: string, baseUrl: string | undefined): string {
  const u = checkedUpstreamUrl(url);
  if (!baseUrl) return u.href;
  return `${baseUrl.replace(/\/+$/, '')}/${u.host}${u.pathname}${u.search}`;
}

export function createUpstreamFetcher(options: UpstreamFetcherOptions = {}): UpstreamFetcher {
  const baseUrl = options.baseUrl ?? (process.env[UPSTREAM_BASE_URL_ENV] || undefined);
  if (baseUrl !== undefined) {
    try {
      const b = new URL(baseUrl);
      if (b.protocol !== 'http:' && b.protocol !== 'https:') throw new Error('scheme');
    } catch {
      throw new UpstreamError(
        `upstream base URL "${baseUrl}" is not an http(s) URL; unset ${UPSTREAM_BASE_URL_ENV} or pass --upstream http://HOST:PORT`,
      );
    }
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  const doFetch = options.fetchImpl ?? fetch;
  const bytes = async (url: string): Promise<Buffer> => {
    const target = mappedUrl(url, baseUrl);
    let res: Response;
    try {
      res = await doFetch(target, {
        redirect: 'follow',
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          'user-agent': 'jumpbox-builder-tools',
          accept: url.startsWith('https://api.github.com/') ? 'application/vnd.github+json' : '*/*',
        },
      });
    } catch (e) {
      const c = (e as { cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } })
        .cause;
      const cause = c?.code ?? c?.errors?.[0]?.code ?? c?.message ?? (e as Error).message;
      throw new UpstreamError(`cannot reach ${url} (${cause})`);
    }
    if (!res.ok) {
      const limited = url.startsWith('https://api.github.com/') && (res.status === 403 || res.status === 429);
      throw new UpstreamError(
        `${url} answered HTTP ${res.status}${limited ? " (GitHub's rate limit for unauthenticated calls, 60 an hour; retry later)" : ''}`,
      );
    }
    return Buffer.from(await res.arrayBuffer());
  };
  return {
    target: baseUrl ?? 'the real upstreams',
    bytes,
    text: async (url) => (await bytes(url)).toString('utf8'),
    json: async (url) => {
      const text = (await bytes(url)).toString('utf8');
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new UpstreamError(`${url} did not return JSON`);
      }
    },
  };
}
