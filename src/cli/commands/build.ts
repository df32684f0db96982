/**
 * `jumpbox-builder build --url <function app> --definition <name> [--reason TEXT] [--force] [--dry-run]
 *   [--wait] [--follow] [--timeout 2h] [--poll-interval 15s] [--cancel-on-timeout] [--json] [--key-env NAME]
 *   [--auth key|entra] [--audience api://<client id>]`
 *
 * For pipelines: starts a build over HTTP and, with --wait, follows it to a terminal state; with --follow,
 * a 409 (a build of the definition is already running, e.g. the monthly timer's) follows that build.
 * The function key comes from an environment variable (default JUMPBOX_FUNCTION_KEY) and is never printed.
 * Progress goes to stderr (a status line redrawn in place on a TTY, plain lines otherwise); the result
 * (image id, or JSON) to stdout. A failed build prints its archived log URLs.
 * Exit codes: 0 success (also "up to date, nothing built"), 1 build failure, 2 usage, network or HTTP
 * errors (with the problem detail or the network cause), 3 the CLI's own timeout.
 */
import type { TokenCredential } from '@azure/core-auth';
import type { BuildProgress } from '../../orchestration/contracts.js';
import { authForApp, DEFAULT_KEY_ENV, parseAppConnection } from '../app-connection.js';
import { AUDIENCE_ENV, type AuthMode } from '../auth.js';
import { progressPercent } from '../build-progress.js';
import type { CliCommand } from '../dispatch.js';
import { ProgressDisplay } from '../progress.js';
import { UsageError } from '../usage-error.js';

export { UsageError };

export const EXIT = { ok: 0, buildFailed: 1, usage: 2, timeout: 3 } as const;
export { DEFAULT_KEY_ENV };

export interface BuildOptions {
  readonly url: string;
  readonly definition: string;
  readonly reason?: string | undefined;
  readonly force: boolean;
  readonly dryRun: boolean;
  readonly wait: boolean;
  /** On 409, follow the running build of the definition instead of failing (implies waiting). */
  readonly follow: boolean;
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
  'usage: jumpbox-builder build --url <function app URL> --definition <name> [--reason TEXT] [--force] [--dry-run] [--wait] [--follow] [--timeout 2h] [--poll-interval 15s] [--cancel-on-timeout] [--json] [--key-env NAME] [--auth key|entra] [--audience api://<client id>]';

export const BUILD_HELP = `${USAGE}

Starts a build of one image definition through the app's HTTP API (for pipelines).
  --url URL              the function app, e.g. https://my-app.azurewebsites.net (http:// only for localhost)
  --definition NAME      image definition to build
  --reason TEXT          recorded with the build
  --force                build even when the definition is up to date
  --dry-run              print the plan (preflight, template, egress); create nothing
  --wait                 follow the build to its end (progress on stderr, image id on stdout)
  --follow               like --wait, and when a build of the definition is already running (HTTP 409),
                         follow that build instead of failing
  --timeout DURATION     how long --wait/--follow waits (default 2h; 90s, 15m, 2h)
  --poll-interval DUR    time between status requests (default 15s)
  --cancel-on-timeout    cancel the build when --timeout expires
  --json                 one JSON object on stdout (buildId, status, imageId, upToDate, error, logs,
                         sbom, provenance, vulnerabilities)
  --key-env NAME         environment variable holding the function key (default ${DEFAULT_KEY_ENV})
  --auth key|entra       function key (default) or a Microsoft Entra token from DefaultAzureCredential
  --audience URI         with --auth entra: the API's audience, api://<client id> (default $${AUDIENCE_ENV})

The function key is read from the environment and never printed.
Exit codes: 0 succeeded (or up to date, nothing built); 1 the build failed, was canceled or timed out in
Azure (its archived log URLs are printed); 2 usage, network or HTTP errors; 3 --timeout expired.
`;

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
  const boolean = ['--force', '--dry-run', '--wait', '--follow', '--cancel-on-timeout', '--json'];
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
  const definition = values['--definition'];
  if (!values['--url']) throw new UsageError(`--url is required; ${USAGE}`);
  if (!definition) throw new UsageError(`--definition is required; ${USAGE}`);
  return {
    ...parseAppConnection(values, USAGE),
    definition,
    reason: values['--reason'],
    force: flags.has('--force'),
    dryRun: flags.has('--dry-run'),
    wait: flags.has('--wait') || flags.has('--follow'),
    follow: flags.has('--follow'),
    timeoutMs: parseDuration(values['--timeout'] ?? '2h', '--timeout'),
    pollIntervalMs: parseDuration(values['--poll-interval'] ?? '15s', '--poll-interval'),
    cancelOnTimeout: flags.has('--cancel-on-timeout'),
    json: flags.has('--json'),
  };
}

export interface BuildIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly fetch: typeof fetch;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** stderr is a terminal: progress is a status line redrawn in place. */
  readonly isTTY: boolean;
  /** Colour on the final line (default: isTTY; off with NO_COLOR). */
  readonly colour?: boolean;
  /** Terminal width (default 80). */
  readonly columns?: () => number | undefined;
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
  readonly runtime?: { customStatus?: Record<string, unknown>; output?: unknown } | null;
  readonly record?: {
    readonly logUrls?: readonly string[];
    readonly upToDate?: boolean;
    readonly sbom?: string;
    readonly provenance?: string;
    readonly vulnerabilities?: SupplyChainView['vulnerabilities'];
  } | null;
  readonly links?: { status: string; cancel: string };
}

/** "connect ECONNREFUSED 127.0.0.1:1" from fetch's `cause` chain (undici hides it behind "fetch failed"). */
export function networkErrorText(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur && depth < 4; depth++) {
    const err = cur as { message?: string; code?: string; cause?: unknown };
    const msg = err.message ?? String(cur);
    if (!parts.some((p) => p.includes(msg)))
      parts.push(err.code && !msg.includes(err.code) ? `${err.code} ${msg}` : msg);
    cur = err.cause;
  }
  const text = parts.filter((p) => p !== 'fetch failed').join(': ') || parts.join(': ');
  return text || 'unknown network error';
}

/** Hints for the usual network failures of a pipeline reaching the app. */
function networkHint(text: string): string {
  if (/bad port/.test(text)) {
    return 'fetch refuses this port (a blocked port of the Fetch standard); use the port the app listens on';
  }
  if (/ECONNREFUSED/.test(text)) return 'nothing listens there; check --url and that the app is running';
  if (/ENOTFOUND|EAI_AGAIN/.test(text)) return 'the host name does not resolve; check --url';
  if (/CERT|certificate|SSL|TLS/i.test(text)) return 'TLS failed; check the URL and the certificate chain';
  if (/ETIMEDOUT|UND_ERR_CONNECT_TIMEOUT|timeout/i.test(text))
    return 'no answer; check network access to the app';
  return 'check --url and network access to the app';
}

interface SupplyChainView {
  readonly sbom: string | null;
  readonly provenance: string | null;
  readonly vulnerabilities: {
    readonly critical: number;
    readonly high: number;
    readonly medium: number;
    readonly low: number;
    readonly unknown: number;
    readonly blocking: readonly string[];
    readonly report?: string;
  } | null;
}

/** SBOM and provenance links and the vulnerability counts of a finished build (docs/provenance.md). */
export function supplyChainOf(view: BuildStatusView): SupplyChainView {
  return {
    sbom: view.record?.sbom ?? null,
    provenance: view.record?.provenance ?? null,
    vulnerabilities: view.record?.vulnerabilities ?? null,
  };
}

/** Archived log URLs of a finished build: the record's copies, else the orchestration output's. */
export function archivedLogs(view: BuildStatusView): string[] {
  const fromRecord = view.record?.logUrls ?? [];
  if (fromRecord.length > 0) return [...fromRecord];
  const out = view.runtime?.output;
  const logs = out && typeof out === 'object' ? (out as { logs?: unknown }).logs : undefined;
  return Array.isArray(logs) ? logs.filter((l): l is string => typeof l === 'string') : [];
}

export async function runBuild(options: BuildOptions, io: BuildIo): Promise<number> {
  const auth = await authForApp(options, io.env, io.credential);
  if (typeof auth === 'string') {
    io.stderr(`jumpbox-builder build: ${auth}\n`);
    return EXIT.usage;
  }
  try {
    await auth.headers(); // fails early, with one readable line, when no credential can get a token
  } catch (e) {
    io.stderr(`jumpbox-builder build: ${(e as Error).message}\n`);
    return EXIT.usage;
  }
  const display = new ProgressDisplay(
    { write: io.stderr },
    { tty: io.isTTY, colour: io.colour ?? io.isTTY, ...(io.columns ? { columns: io.columns } : {}) },
  );
  const progress = (line: string) => display.log(line);
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
    const cause = networkErrorText(e);
    io.stderr(`jumpbox-builder build: cannot reach ${options.url}: ${cause} (${networkHint(cause)})\n`);
    return EXIT.usage;
  }
  if (options.dryRun && started.status === 200) {
    io.stdout(`${JSON.stringify(started.body, null, options.json ? undefined : 2)}\n`);
    return EXIT.ok;
  }
  let accepted: { buildId: string; statusUrl: string };
  const conflict = (started.body && typeof started.body === 'object' ? started.body : {}) as Problem;
  if (started.status === 202) {
    accepted = started.body as { buildId: string; statusUrl: string };
    progress(`build ${accepted.buildId} accepted for ${options.definition}`);
  } else if (
    started.status === 409 &&
    options.follow &&
    typeof conflict.runningBuildId === 'string' &&
    typeof conflict.statusUrl === 'string'
  ) {
    accepted = { buildId: conflict.runningBuildId, statusUrl: conflict.statusUrl };
    progress(
      `build ${accepted.buildId} of ${options.definition} is already running; following it (--follow) instead of starting another`,
    );
  } else {
    io.stderr(
      `jumpbox-builder build: ${describeHttpFailure(started.status, started.body, auth.rejectedHint)}\n`,
    );
    if (started.status === 409 && !options.follow) {
      io.stderr('  pass --follow to wait for the running build instead\n');
    }
    return EXIT.usage;
  }
  progress(`status: ${accepted.statusUrl}`);
  if (!options.wait && !options.follow) {
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
      const message = e instanceof HttpFailure ? e.message : `network error: ${networkErrorText(e)}`;
      const retryable = status === 0 || status === 429 || status >= 500;
      if (!retryable || ++failures > 5) {
        display.finish(`build ${accepted.buildId}: status unknown`, false);
        io.stderr(`jumpbox-builder build: ${message}\n`);
        return EXIT.usage;
      }
      progress(`status check failed (${message.split('\n')[0]}); retrying`);
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
    const elapsed = typeof cs.elapsedSeconds === 'number' ? `elapsed=${cs.elapsedSeconds}s` : undefined;
    if (io.isTTY) {
      display.update({
        percent: view.terminal ? 100 : progressPercent(cs as Partial<BuildProgress>),
        label: line,
        detail: elapsed,
      });
    } else if (line !== lastLine) {
      progress(`${line}${elapsed ? ` ${elapsed}` : ''}`);
    }
    lastLine = line;
    if (view.terminal) {
      const ok = view.status === 'Succeeded';
      const upToDate = ok && view.record?.upToDate === true;
      display.finish(
        upToDate
          ? `build ${view.buildId}: up to date, nothing built (same template and source version as the last successful build)`
          : `build ${view.buildId} ${view.status}`,
        ok,
      );
      if (upToDate) progress(`current image: ${view.imageId ?? '(unknown)'}; pass --force to build anyway`);
      if (!ok && view.error) progress(`error: ${view.error.code}: ${view.error.message}`);
      const logs = archivedLogs(view);
      const supply = supplyChainOf(view);
      const v = supply.vulnerabilities;
      if (v) {
        progress(
          `vulnerabilities: critical ${v.critical}, high ${v.high}, medium ${v.medium}, low ${v.low}, unknown ${v.unknown}${v.blocking.length ? `; blocking: ${v.blocking.join('; ')}` : ''}`,
        );
      }
      if (supply.provenance)
        progress(`provenance: ${supply.provenance} (npm run cli -- provenance ${view.buildId})`);
      if (supply.sbom) progress(`SBOM: ${supply.sbom}`);
      if (!ok) {
        if (logs.length > 0) {
          progress(
            'archived logs (kept after the staging group is deleted; see docs/operations.md to read them):',
          );
          for (const l of logs) progress(`  ${l}`);
        } else {
          progress('archived logs: none (the build failed before Image Builder wrote any)');
        }
      }
      if (options.json) {
        io.stdout(
          `${JSON.stringify({
            buildId: view.buildId,
            status: view.status,
            imageId: view.imageId ?? null,
            upToDate,
            error: view.error ?? null,
            logs,
            ...supply,
          })}\n`,
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
    display.finish(`build ${accepted.buildId}: still running (CLI timeout)`, false);
    io.stderr(
      `jumpbox-builder build: timed out after ${Math.round(options.timeoutMs / 1000)}s; build ${accepted.buildId} is still running (${accepted.statusUrl})\n`,
    );
    if (options.cancelOnTimeout) {
      try {
        const r = await call('POST', `${accepted.statusUrl}/cancel`);
        io.stderr(`cancel requested: HTTP ${r.status}\n`);
      } catch (e) {
        io.stderr(`cancel request failed: ${networkErrorText(e)}\n`);
      }
    }
    if (options.json)
      io.stdout(`${JSON.stringify({ buildId: accepted.buildId, status: 'Running', timedOut: true })}\n`);
    return EXIT.timeout;
  }
}

export const command: CliCommand = {
  summary:
    'start a build over HTTP (for pipelines); --wait/--follow follow it: exit 0 ok, 1 failed, 2 usage/HTTP, 3 timeout',
  usage: BUILD_HELP,
  async run(argv) {
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
      isTTY: Boolean(process.stderr.isTTY),
      colour: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR,
      columns: () => process.stderr.columns,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      now: () => Date.now(),
    });
  },
};
