/**
 * `jumpbox-builder provenance BUILD_ID --url <function app> [--json] [--key-env NAME] [--auth key|entra]
 *   [--audience api://<client id>]`
 *
 * Shows a build's provenance record: GET /api/builds/{id} (function key or Entra token, as every command),
 * then reads the archived provenance.json that the record links to, with the caller's own Microsoft Entra
 * identity (DefaultAzureCredential; Storage Blob Data Reader on the archive — no SAS, no key), as for the
 * archived logs (docs/operations.md). docs/provenance.md explains the fields.
 * The blob's SHA-256 is checked against the one the build wrote into its record (`provenanceSha256`): a
 * mismatch is reported in one line and nothing of the blob is shown; a record older than the field is
 * shown with a warning that it cannot be verified.
 * Exit codes: 0 shown; 1 the build has no provenance record (it did not reach its run) or the blob does
 * not match the record's SHA-256; 2 usage, network, HTTP or storage errors.
 */
import { createHash } from 'node:crypto';
import type { TokenCredential } from '@azure/core-auth';
import { formatProvenance, type ProvenanceRecord } from '../../supply-chain/provenance.js';
import { authForApp, DEFAULT_KEY_ENV, parseAppConnection } from '../app-connection.js';
import { AUDIENCE_ENV, defaultCredential } from '../auth.js';
import type { CliCommand } from '../dispatch.js';
import { UsageError } from '../usage-error.js';
import { EXIT, networkErrorText } from './build.js';

const USAGE =
  'usage: jumpbox-builder provenance BUILD_ID --url <function app URL> [--json] [--key-env NAME] [--auth key|entra] [--audience api://<client id>]';

export const PROVENANCE_HELP = `${USAGE}

Shows the provenance record of a build: source image and version, template name and content hash, every
tool with version, SHA-256 and source URL, the customizer scripts' SHA-256, the vulnerability gate and
its findings, times and result (docs/provenance.md). The record is read from the archive with your own
Microsoft Entra identity (DefaultAzureCredential; Storage Blob Data Reader on the archive container),
and its SHA-256 is checked against the one the build wrote into its record: a blob changed after the
build is refused, not shown. Records of builds from before the hash was recorded are shown with a
warning on stderr that they cannot be verified.
  BUILD_ID               the build id (POST /api/builds answered it; the build's record shows it)
  --url URL              the function app, e.g. https://my-app.azurewebsites.net (http:// only for localhost)
  --json                 {provenance, sha256, recordedSha256, verified, record} on stdout (record: as stored)
  --key-env NAME         environment variable holding the function key (default ${DEFAULT_KEY_ENV})
  --auth key|entra       function key (default) or a Microsoft Entra token from DefaultAzureCredential
  --audience URI         with --auth entra: the API's audience, api://<client id> (default $${AUDIENCE_ENV})

Exit codes: 0 shown; 1 the build has no provenance record (it ended before its run), or the blob's
SHA-256 differs from the record's (changed after the build); 2 usage, network, HTTP or storage errors.
`;

export interface ProvenanceOptions {
  readonly buildId: string;
  readonly url: string;
  readonly json: boolean;
  readonly keyEnv: string;
  readonly auth: 'key' | 'entra';
  readonly audience?: string | undefined;
}

export interface ProvenanceIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly fetch: typeof fetch;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly credential?: () => Promise<TokenCredential>;
  /** Reads a blob's bytes with the caller's identity (default: BlobClient with DefaultAzureCredential). */
  readonly readBlob?: (url: string) => Promise<Uint8Array>;
}

/** What --json prints: the record as stored, and whether its bytes matched the build record's SHA-256. */
export interface ProvenanceJson {
  readonly provenance: string;
  /** SHA-256 (hex) of the blob as read now. */
  readonly sha256: string;
  /** SHA-256 the build wrote into its record; null for records from before the field. */
  readonly recordedSha256: string | null;
  /** True when both are equal; false only for records without a hash (a mismatch prints nothing). */
  readonly verified: boolean;
  readonly record: ProvenanceRecord;
}

/** A value from the record or the URL, on one line: control and line-separator characters escaped. */
function oneLine(value: string): string {
  let out = '';
  for (const c of value) {
    const code = c.codePointAt(0) ?? 0;
    const breaks = code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
    out += breaks ? `\\u${code.toString(16).padStart(4, '0')}` : c;
  }
  return out;
}

/** The one line that reports a provenance blob whose bytes differ from the build record's SHA-256. */
export function mismatchLine(url: string, actual: string, recorded: unknown): string {
  const shown = typeof recorded === 'string' ? oneLine(recorded) : oneLine(JSON.stringify(recorded) ?? '');
  return `${oneLine(url)} was changed after the build: its sha256 is ${actual}, the build record says ${shown} (the image tag jumpbox-provenance-sha256 holds the hash from build time); not shown, do not trust its content`;
}

export function parseProvenanceArgs(argv: readonly string[]): ProvenanceOptions {
  const values: Record<string, string> = {};
  let json = false;
  let buildId: string | undefined;
  const valued = ['--url', '--key-env', '--auth', '--audience'];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (valued.includes(name)) {
      const v = eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${name} needs a value; ${USAGE}`);
      values[name] = v;
    } else if (a === '--json') json = true;
    else if (!a.startsWith('-') && buildId === undefined) buildId = a;
    else throw new UsageError(`unknown option ${a}; ${USAGE}`);
  }
  if (!buildId) throw new UsageError(`BUILD_ID is required; ${USAGE}`);
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(buildId)) {
    throw new UsageError(
      `BUILD_ID must be a build id such as aks-jumpbox.20261201T030000Z.0000abcd (letters, digits, '.', '_', '-'), got "${buildId}"`,
    );
  }
  return { buildId, json, ...parseAppConnection(values, USAGE) };
}

/** Reads a blob with DefaultAzureCredential (the caller's Entra identity; no SAS, no key). */
async function readBlobWithEntra(
  url: string,
  credential: () => Promise<TokenCredential>,
): Promise<Uint8Array> {
  const { BlobClient } = await import('@azure/storage-blob');
  return new BlobClient(url, await credential()).downloadToBuffer();
}

export async function runProvenance(options: ProvenanceOptions, io: ProvenanceIo): Promise<number> {
  const fail = (line: string, code: number = EXIT.usage) => {
    io.stderr(`jumpbox-builder provenance: ${line}\n`);
    return code;
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
    res = await io.fetch(`${options.url}/api/builds/${encodeURIComponent(options.buildId)}`, {
      method: 'GET',
      headers: { ...headers, accept: 'application/json', 'x-requested-by': 'jumpbox-builder CLI' },
      redirect: 'error',
    });
  } catch (e) {
    return fail(`cannot reach ${options.url}: ${networkErrorText(e)}`);
  }
  const text = await res.text();
  if (res.status === 401 || res.status === 403) return fail(`HTTP ${res.status}: ${auth.rejectedHint}`);
  let body: {
    record?: { provenance?: string; provenanceSha256?: unknown; status?: string } | null;
    status?: string;
    title?: string;
    detail?: string;
  };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return fail(`HTTP ${res.status}: the app did not answer JSON: ${text.slice(0, 200)}`);
  }
  if (res.status === 404)
    return fail(`no build ${options.buildId} in the app (check the id: npm run cli -- build --help)`);
  if (res.status !== 200)
    return fail(`HTTP ${res.status}${body.title ? ` ${body.title}` : ''}: ${body.detail ?? 'no detail'}`);
  const url = body.record?.provenance;
  if (!url) {
    return fail(
      `build ${options.buildId} (${body.status ?? 'unknown status'}) has no provenance record: it ended before its Image Builder run, or is still running`,
      EXIT.buildFailed,
    );
  }
  let raw: Uint8Array;
  try {
    raw = await (io.readBlob ?? ((u) => readBlobWithEntra(u, io.credential ?? defaultCredential)))(url);
  } catch (e) {
    const first = ((e as Error).message ?? String(e)).split('\n')[0];
    return fail(
      `cannot read ${url} with your Microsoft Entra identity: ${first}. It needs Storage Blob Data Reader on the archive (docs/provenance.md)`,
    );
  }
  const sha256 = createHash('sha256').update(raw).digest('hex');
  const recorded = body.record?.provenanceSha256;
  const hasHash = recorded !== undefined && recorded !== null;
  if (hasHash && recorded !== sha256) return fail(mismatchLine(url, sha256, recorded), EXIT.buildFailed);
  let record: ProvenanceRecord;
  try {
    record = JSON.parse(Buffer.from(raw).toString('utf8')) as ProvenanceRecord;
  } catch {
    return fail(`${url} is not JSON`);
  }
  if (!hasHash) {
    io.stderr(
      `jumpbox-builder provenance: warning: the record of ${options.buildId} has no provenanceSha256 (written before builds recorded it), so ${oneLine(url)} cannot be verified; compare its sha256 ${sha256} with the image tag jumpbox-provenance-sha256\n`,
    );
  }
  if (options.json) {
    const out: ProvenanceJson = {
      provenance: url,
      sha256,
      recordedSha256: hasHash ? sha256 : null,
      verified: hasHash,
      record,
    };
    io.stdout(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    const check = hasHash ? 'verified: matches the build record' : 'NOT verified: the record has no hash';
    io.stdout(`provenance  ${url}\nsha256      ${sha256} (${check})\n${formatProvenance(record)}`);
  }
  return EXIT.ok;
}

export const command: CliCommand = {
  summary: "show a build's provenance record (source, template, tools, scripts, findings)",
  usage: PROVENANCE_HELP,
  run: (argv) =>
    runProvenance(parseProvenanceArgs(argv), {
      env: process.env,
      fetch: globalThis.fetch,
      stdout: (t) => process.stdout.write(t),
      stderr: (t) => process.stderr.write(t),
    }),
};
