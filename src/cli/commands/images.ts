/**
 * `jumpbox-builder images --url <function app> [--definition NAME] [--json] [--key-env NAME]
 *   [--auth key|entra] [--audience api://<client id>]`
 *
 * Shows each image definition's current image (the image of its newest successful build, tagged
 * jumpbox-current: a build never deletes it before a newer one exists), when and by which build it was made,
 * and the build running now, from GET /api/definitions.
 * Exit codes: 0 listed; 2 usage, network or HTTP errors, or an unknown --definition.
 */
import type { TokenCredential } from '@azure/core-auth';
import { authForApp, DEFAULT_KEY_ENV, parseAppConnection } from '../app-connection.js';
import { AUDIENCE_ENV } from '../auth.js';
import type { CliCommand } from '../dispatch.js';
import { UsageError } from '../usage-error.js';
import { EXIT, networkErrorText } from './build.js';

const USAGE =
  'usage: jumpbox-builder images --url <function app URL> [--definition NAME] [--json] [--key-env NAME] [--auth key|entra] [--audience api://<client id>]';

export const IMAGES_HELP = `${USAGE}

Shows each image definition's current image: the image of its newest successful build (tagged
jumpbox-current), the build that made it and when, and the build running now.
  --url URL              the function app, e.g. https://my-app.azurewebsites.net (http:// only for localhost)
  --definition NAME      only this definition
  --json                 one JSON object on stdout: {"definitions":[{name, currentImageId, builtBy, builtAt, running}]}
  --key-env NAME         environment variable holding the function key (default ${DEFAULT_KEY_ENV})
  --auth key|entra       function key (default) or a Microsoft Entra token from DefaultAzureCredential
  --audience URI         with --auth entra: the API's audience, api://<client id> (default $${AUDIENCE_ENV})

Exit codes: 0 listed; 2 usage, network or HTTP errors, or an unknown --definition.
`;

export interface ImagesOptions {
  readonly url: string;
  readonly definition?: string | undefined;
  readonly json: boolean;
  readonly keyEnv: string;
  readonly auth: 'key' | 'entra';
  readonly audience?: string | undefined;
}

export interface ImagesIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly fetch: typeof fetch;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly credential?: () => Promise<TokenCredential>;
}

/** One definition's current image, as the command prints it. */
export interface CurrentImageRow {
  readonly name: string;
  readonly currentImageId: string | null;
  readonly builtBy: string | null;
  readonly builtAt: string | null;
  readonly running: string | null;
}

export function parseImagesArgs(argv: readonly string[]): ImagesOptions {
  const values: Record<string, string> = {};
  let json = false;
  const valued = ['--url', '--definition', '--key-env', '--auth', '--audience'];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (valued.includes(name)) {
      const v = eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${name} needs a value; ${USAGE}`);
      values[name] = v;
    } else if (a === '--json') {
      json = true;
    } else {
      throw new UsageError(`unknown option ${a}; ${USAGE}`);
    }
  }
  return { definition: values['--definition'], json, ...parseAppConnection(values, USAGE) };
}

interface DefinitionSummary {
  readonly name: string;
  readonly currentImageId?: string | null;
  readonly lastSuccessfulBuild?: { buildId?: string; finishedAt?: string } | null;
  readonly running?: { buildId?: string; runtimeStatus?: string } | null;
}

/** The rows the command prints, from a GET /api/definitions body (pure). */
export function currentImageRows(body: unknown): CurrentImageRow[] {
  const list = (body as { definitions?: unknown })?.definitions;
  if (!Array.isArray(list)) throw new Error('the app answered without a "definitions" list');
  return (list as DefinitionSummary[]).map((d) => ({
    name: d.name,
    currentImageId: d.currentImageId ?? null,
    builtBy: d.lastSuccessfulBuild?.buildId ?? null,
    builtAt: d.lastSuccessfulBuild?.finishedAt ?? null,
    running: d.running ? (d.running.buildId ?? d.running.runtimeStatus ?? 'running') : null,
  }));
}

/** Plain text: one block per definition, the image id on its own line so it can be copied whole. */
export function formatRows(rows: readonly CurrentImageRow[]): string {
  return rows
    .map((r) => {
      const lines = [`${r.name}`];
      lines.push(`  current image: ${r.currentImageId ?? 'none yet (no successful build)'}`);
      if (r.builtBy) lines.push(`  built by:      ${r.builtBy}${r.builtAt ? ` at ${r.builtAt}` : ''}`);
      if (r.running) lines.push(`  running now:   ${r.running}`);
      return lines.join('\n');
    })
    .join('\n\n');
}

export async function runImages(options: ImagesOptions, io: ImagesIo): Promise<number> {
  const fail = (line: string) => {
    io.stderr(`jumpbox-builder images: ${line}\n`);
    return EXIT.usage;
  };
  const auth = await authForApp(options, io.env, io.credential);
  if (typeof auth === 'string') return fail(auth);
  let headers: Record<string, string>;
  try {
    headers = await auth.headers();
  } catch (e) {
    return fail((e as Error).message);
  }
  let res: Response;
  try {
    res = await io.fetch(`${options.url}/api/definitions`, {
      method: 'GET',
      headers: { ...headers, accept: 'application/json', 'x-requested-by': 'jumpbox-builder CLI' },
      redirect: 'error',
    });
  } catch (e) {
    return fail(`cannot reach ${options.url}: ${networkErrorText(e)}`);
  }
  const text = await res.text();
  if (res.status === 401 || res.status === 403) return fail(`HTTP ${res.status}: ${auth.rejectedHint}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return fail(`HTTP ${res.status}: the app did not answer JSON: ${text.slice(0, 200)}`);
  }
  if (res.status !== 200) {
    const p = body as { title?: string; detail?: string };
    return fail(`HTTP ${res.status}${p.title ? ` ${p.title}` : ''}: ${p.detail ?? 'no detail'}`);
  }
  let rows: CurrentImageRow[];
  try {
    rows = currentImageRows(body);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (options.definition !== undefined) {
    const known = rows.map((r) => r.name);
    rows = rows.filter((r) => r.name === options.definition);
    if (rows.length === 0)
      return fail(
        `no definition "${options.definition}" in the app; it has: ${known.join(', ') || '(none)'}`,
      );
  }
  io.stdout(options.json ? `${JSON.stringify({ definitions: rows })}\n` : `${formatRows(rows)}\n`);
  return EXIT.ok;
}

export const command: CliCommand = {
  summary: "show each image definition's current image (from the app's API)",
  usage: IMAGES_HELP,
  run: (argv) =>
    runImages(parseImagesArgs(argv), {
      env: process.env,
      fetch: globalThis.fetch,
      stdout: (t) => process.stdout.write(t),
      stderr: (t) => process.stderr.write(t),
    }),
};
