/**
 * `jumpbox-builder build --url <function app> --definition <name> [--reason TEXT] [--force] [--dry-run]
 *   [--wait] [--timeout 2h] [--poll-interval 15s] [--cancel-on-timeout] [--json] [--key-env NAME]
 *   [--auth key|entra] [--audience api://<client id>]`
 *
 * For pipelines: starts a build over HTTP and, with --wait, follows it to a terminal state.
 * The function key comes from an environment variable (default JUMPBOX_FUNCTION_KEY) and is never printed.
 * Progress goes to stderr as plain lines (colour only on a TTY); the result (image id, or JSON) to stdout.
 * Exit codes: 0 success, 1 build failure, 2 usage or HTTP errors (with the problem detail), 3 timeout.
 */
import type { TokenCredential } from '@azure/core-auth';
import {
  AUDIENCE_ENV,
  type AuthHeaders,
  type AuthMode,
  defaultCredential,
  entraAuth,
  keyAuth,
} from '../auth.js';
import type { CliCommand } from '../dispatch.js';

/** A usage problem (exit 2). Local class: importing the dispatcher at runtime would load it as an entry. */
export class UsageError extends Error {}

export const EXIT = { ok: 0, buildFailed: 1, usage: 2, timeout: 3 } as const;
export const DEFAULT_KEY_ENV = 'JUMPBOX_FUNCTION_KEY';

export interface BuildOptions {
  readonly url: string;
  readonly definition: string;
  readonly reason?: string | undefined;
  readonly force: boolean;
  readonly dryRun: boolean;
  readonly wait: boolean;
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
  readonly cancelOnTimeout: boolean;
  readonly json: boolean;
  readonly keyEnv: string;
  readonly auth: AuthMode;
  /** With --auth entra: the API's audience (api://<client id>); else from $JUMPBOX_API_AUDIENCE at run time. */
  readonly audience?: string | undefined;
}

/** "90" (seconds), "500ms", "30s", "15m", "2h". */
export function parseDuration(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${option} must be a duration like 90s, 15m or 2h, got "${text}"`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const ms = n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  if (!Number.isFinite(ms) || ms <= 0) throw new UsageError(`${option} must be greater than zero`);
  return Math.round(ms);
}

const USAGE =
  'usage: jumpbox-builder build --url <function app URL> --definition <name> [--reason TEXT] [--force] [--dry-run] [--wait] [--timeout 2h] [--poll-interval 15s] [--cancel-on-timeout] [--json] [--key-env NAME] [--auth key|entra] [--audience api://<client id>]';

export function parseBuildArgs(argv: readonly string[]): BuildOptions {
  const values: Record<string, string> = {};
  const flags = new Set<string>();
  const valued = [
    '--url',
    '--definition',
    '--reason',
    '--timeout',
    '--poll-interval',
    '--key-env',
    '--auth',
    '--audience',
  ];
  const boolean = ['--force', '--dry-run', '--wait', '--cancel-on-timeout', '--json'];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (valued.includes(name)) {
      const v = eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${name} needs a value; ${USAGE}`);
      values[name] = v;
    } else if (boolean.includes(a)) {
      flags.add(a);
    } else {
      throw new UsageError(`unknown option ${a}; ${USAGE}`);
    }
  }
  const url = values['--url'];
  const definition = values['--definition'];
  if (!url) throw new UsageError(`--url is required; ${USAGE}`);
  if (!definition) throw new UsageError(`--definition is required; ${USAGE}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(
      `--url must be the function app URL, e.g. https://my-app.azurewebsites.net, got "${url}"`,
    );
  }
  if (
    parsed.protocol !== 'https:' &&
    !(parsed.protocol === 'http:' && ['127.0.0.1', 'localhost'].includes(parsed.hostname))
  ) {
    throw new UsageError('--url must use https:// (http:// only for 127.0.0.1/localhost)');
  }
  if (parsed.search || parsed.username || parsed.password) {
    throw new UsageError(
      '--url must not carry a query string or credentials; put the key in the environment',
    );
  }
  const auth = values['--auth'] ?? 'key';
  if (auth !== 'key' && auth !== 'entra') {
    throw new UsageError(
      `--auth must be "key" (function key) or "entra" (Microsoft Entra token), got "${auth}"`,
    );
  }
  if (values['--audience'] !== undefined && auth !== 'entra') {
    throw new UsageError('--audience goes with --auth entra');
  }
  return {
    url: parsed.href.replace(/\/+$/, '').replace(/\/api$/, ''),
    definition,
    reason: values['--reason'],
    force: flags.has('--force'),
    dryRun: flags.has('--dry-run'),
    wait: flags.has('--wait'),
    timeoutMs: parseDuration(values['--timeout'] ?? '2h', '--timeout'),
    pollIntervalMs: parseDuration(values['--poll-interval'] ?? '15s', '--poll-interval'),
    cancelOnTimeout: flags.has('--cancel-on-timeout'),
    json: flags.has('--json'),
    keyEnv: values['--key-env'] ?? DEFAULT_KEY_ENV,
    auth,
    audience: values['--audience'],
  };
}

export interface BuildIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly fetch: typeof fetch;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly isTTY: boolean;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  /** Credential for --auth entra (default: DefaultAzureCredential). */
  readonly credential?: () => Promise<TokenCredential>;
}

interface Problem {
  readonly title?: string;
  readonly detail?: string;
  readonly errors?: readonly { readonly field: string; readonly reason: string }[];
  readonly runningBuildId?: string;
  readonly statusUrl?: string;
}

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function describeHttpFailure(status: number, body: unknown, rejectedHint: string): string {
  const p = (body && typeof body === 'object' ? body : {}) as Problem;
  if (status === 401 || status === 403) {
    return `HTTP ${status}: ${rejectedHint}`;
  }
  const parts = [
    `HTTP ${status}${p.title ? ` ${p.title}` : ''}: ${p.detail ?? (typeof body === 'string' ? body.slice(0, 300) : 'no detail')}`,
  ];
  for (const e of p.errors ?? []) parts.push(`  ${e.field}: ${e.reason}`);
  if (p.statusUrl) parts.push(`  running build status: ${p.statusUrl}`);
  return parts.join('\n');
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

interface BuildStatusView {
  readonly buildId: string;
  readonly status: string;
  readonly terminal: boolean;
  readonly imageId?: string;
  readonly error?: { code: string; message: string };
  readonly runtime?: { customStatus?: Record<string, unknown> } | null;
  readonly links?: { status: string; cancel: string };
}

export async function runBuild(options: BuildOptions, io: BuildIo): Promise<number> {
  const key = io.env[options.keyEnv];
  let auth: AuthHeaders;
  if (options.auth === 'entra') {
    const audience = options.audience ?? io.env[AUDIENCE_ENV];
    if (!audience) {
      io.stderr(
        `jumpbox-builder build: --auth entra needs --audience api://<client id> (or $${AUDIENCE_ENV}); azd prints it as API_AUDIENCE\n`,
      );
      return EXIT.usage;
    }
    // A function key, when set, goes along (for deployments that require both).
    auth = entraAuth(await (io.credential ?? defaultCredential)(), audience, key);
  } else if (key) {
    auth = keyAuth(key, options.keyEnv);
  } else {
    io.stderr(
      `jumpbox-builder build: set ${options.keyEnv} to a function key of the app (it is never printed), or use --auth entra\n`,
    );
    return EXIT.usage;
  }
  try {
    await auth.headers(); // fails early, with one readable line, when no credential can get a token
  } catch (e) {
    io.stderr(`jumpbox-builder build: ${(e as Error).message}\n`);
    return EXIT.usage;
  }
  const colour = (code: number, s: string) => (io.isTTY ? `\u001b[${code}m${s}\u001b[0m` : s);
  const progress = (line: string) => io.stderr(`${line}\n`);
  const call = async (method: 'GET' | 'POST', url: string, body?: unknown) => {
    const headers = {
      ...(await auth.headers()),
      accept: 'application/json',
      'x-requested-by': 'jumpbox-builder CLI',
    };
    const res = await io.fetch(url, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'error',
    });
    return { status: res.status, body: await readBody(res), location: res.headers.get('location') };
  };

  let started: { status: number; body: unknown; location: string | null };
  try {
    started = await call('POST', `${options.url}/api/builds`, {
      definition: options.definition,
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
      ...(options.force ? { force: true } : {}),
      ...(options.dryRun ? { dryRun: true } : {}),
    });
  } catch (e) {
    io.stderr(`jumpbox-builder build: cannot reach ${options.url}: ${(e as Error).message}\n`);
    return EXIT.usage;
  }
  if (options.dryRun && started.status === 200) {
    io.stdout(`${JSON.stringify(started.body, null, options.json ? undefined : 2)}\n`);
    return EXIT.ok;
  }
  if (started.status !== 202) {
    io.stderr(
      `jumpbox-builder build: ${describeHttpFailure(started.status, started.body, auth.rejectedHint)}\n`,
    );
    return EXIT.usage;
  }
  const accepted = started.body as { buildId: string; statusUrl: string };
  progress(`build ${accepted.buildId} accepted for ${options.definition}`);
  progress(`status: ${accepted.statusUrl}`);
  if (!options.wait) {
    io.stdout(options.json ? `${JSON.stringify(accepted)}\n` : `${accepted.buildId}\n`);
    return EXIT.ok;
  }

  const deadline = io.now() + options.timeoutMs;
  let lastLine = '';
  let failures = 0;
  for (;;) {
    let view: BuildStatusView;
    try {
      const r = await call('GET', accepted.statusUrl);
      if (r.status !== 200)
        throw new HttpFailure(r.status, describeHttpFailure(r.status, r.body, auth.rejectedHint));
      view = r.body as BuildStatusView;
      failures = 0;
    } catch (e) {
      const status = e instanceof HttpFailure ? e.status : 0;
      const retryable = status === 0 || status === 429 || status >= 500;
      if (!retryable || ++failures > 5) {
        io.stderr(`jumpbox-builder build: ${(e as Error).message}\n`);
        return EXIT.usage;
      }
      progress(`status check failed (${(e as Error).message.split('\n')[0]}); retrying`);
      await io.sleep(Math.min(options.pollIntervalMs, Math.max(0, deadline - io.now())));
      if (io.now() >= deadline) return timedOut();
      continue;
    }
    const cs = view.runtime?.customStatus ?? {};
    const line = [
      `status=${view.status}`,
      cs.phase ? `phase=${String(cs.phase)}` : '',
      cs.runState ? `runState=${String(cs.runState)}` : '',
      cs.runSubState ? `runSubState=${String(cs.runSubState)}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    if (line !== lastLine) {
      const elapsed = typeof cs.elapsedSeconds === 'number' ? ` elapsed=${cs.elapsedSeconds}s` : '';
      progress(`${line}${elapsed}`);
      lastLine = line;
    }
    if (view.terminal) {
      const ok = view.status === 'Succeeded';
      progress(
        ok
          ? colour(32, `build ${view.buildId} Succeeded`)
          : colour(31, `build ${view.buildId} ${view.status}`),
      );
      if (!ok && view.error) progress(`error: ${view.error.code}: ${view.error.message}`);
      if (options.json) {
        io.stdout(
          `${JSON.stringify({ buildId: view.buildId, status: view.status, imageId: view.imageId ?? null, error: view.error ?? null })}\n`,
        );
      } else if (ok) {
        io.stdout(`${view.imageId ?? ''}\n`);
      }
      return ok ? EXIT.ok : EXIT.buildFailed;
    }
    const left = deadline - io.now();
    if (left <= 0) return timedOut();
    await io.sleep(Math.min(options.pollIntervalMs, left));
  }

  async function timedOut(): Promise<number> {
    io.stderr(
      `jumpbox-builder build: timed out after ${Math.round(options.timeoutMs / 1000)}s; build ${accepted.buildId} is still running (${accepted.statusUrl})\n`,
    );
    if (options.cancelOnTimeout) {
      try {
        const r = await call('POST', `${accepted.statusUrl}/cancel`);
        io.stderr(`cancel requested: HTTP ${r.status}\n`);
      } catch (e) {
        io.stderr(`cancel request failed: ${(e as Error).message}\n`);
      }
    }
    if (options.json)
      io.stdout(`${JSON.stringify({ buildId: accepted.buildId, status: 'Running', timedOut: true })}\n`);
    return EXIT.timeout;
  }
}

export const command: CliCommand = {
  summary:
    'start a build over HTTP (for pipelines); --wait follows it: exit 0 ok, 1 failed, 2 usage/HTTP, 3 timeout',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(
        `${USAGE}\n\nThe function key is read from $${DEFAULT_KEY_ENV} (or the variable named by --key-env) and never printed.\n` +
          `--auth entra sends a Microsoft Entra token for --audience (or $${AUDIENCE_ENV}) from DefaultAzureCredential instead (docs/deploying.md).\n`,
      );
      return EXIT.ok;
    }
    let options: BuildOptions;
    try {
      options = parseBuildArgs(argv);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      process.stderr.write(`jumpbox-builder build: ${e.message}\n`);
      return EXIT.usage;
    }
    return runBuild(options, {
      env: process.env,
      fetch,
      stdout: (t) => process.stdout.write(t),
      stderr: (t) => process.stderr.write(t),
      isTTY: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      now: () => Date.now(),
    });
  },
};
