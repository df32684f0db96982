/**
 * `jumpbox-builder tools check|bump`: keeps src/image/tool-pins.json current (src/supply-chain/tools-check.ts,
 * tools-bump.ts). Every upstream is read through one fetcher whose base URL `--upstream` (or
 * JUMPBOX_UPSTREAM_BASE_URL) can point at a local fake upstream.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_TOOLS_MANIFEST, type ToolPins } from '../../image/tools-manifest.js';
import { bumpPins, VerificationError, writePinsFile } from '../../supply-chain/tools-bump.js';
import { checkPins, formatCheckReport, trackedTools } from '../../supply-chain/tools-check.js';
import {
  createUpstreamFetcher,
  UPSTREAM_BASE_URL_ENV,
  UpstreamError,
} from '../../supply-chain/upstream-fetcher.js';
import { type CliCommand, EXIT_CODES, UsageError } from '../dispatch.js';

export const TOOLS_USAGE = `usage: jumpbox-builder tools check [--json] [--strict] [--tool ID]... [--pins FILE] [--upstream URL]
       jumpbox-builder tools bump [--tool ID]... [--kubernetes-minor X.Y] [--dry-run] [--pins FILE] [--upstream URL]

check  compares every pin in tool-pins.json with its upstream release feed (GitHub releases, HashiCorp's
       release index, Kubernetes' stable-1.NN.txt marker, the Microsoft apt index) and prints what is
       behind, by how many releases and days, and the advisories (CVE/GHSA) the newer releases name.
bump   writes the newest versions and their SHA-256 (from the upstream checksum file, whose signature is
       verified where the upstream signs it) into tool-pins.json; nothing is written if any check fails.

  --tool ID               only this tool (repeatable)
  --json                  check: print the report as JSON
  --strict                check: exit 1 when a pin is behind
  --kubernetes-minor X.Y  bump: move kubectl to the newest patch of this Kubernetes minor (the clusters')
  --dry-run               bump: print the changes without writing
  --pins FILE             the pins file (default src/image/tool-pins.json under the current directory)
  --upstream URL          read every upstream from URL/HOST/PATH (tests; default: ${UPSTREAM_BASE_URL_ENV} or the real hosts)

Exit codes: check — 0 report printed (1 with --strict when a pin is behind), 2 usage error or a feed
could not be read. bump — 0 pins written (or already current), 1 refused: a signature or checksum did not
verify (tool-pins.json unchanged), 2 usage error or a feed/download could not be read (unchanged).
`;

interface ToolsOptions {
  readonly sub: 'check' | 'bump';
  readonly json: boolean;
  readonly strict: boolean;
  readonly dryRun: boolean;
  readonly only: string[];
  readonly kubernetesMinor?: string | undefined;
  readonly pinsPath: string;
  readonly upstream?: string | undefined;
}

export function parseToolsArgs(argv: readonly string[]): ToolsOptions {
  const [sub, ...rest] = argv;
  if (sub !== 'check' && sub !== 'bump') {
    throw new UsageError(`expected "check" or "bump"${sub ? `, not "${sub}"` : ''}; run tools --help`);
  }
  const known = new Set(trackedTools(DEFAULT_TOOLS_MANIFEST).map((t) => t.id));
  const opts = {
    sub: sub as ToolsOptions['sub'],
    json: false,
    strict: false,
    dryRun: false,
    only: [] as string[],
    kubernetesMinor: undefined as string | undefined,
    pinsPath: resolve('src/image/tool-pins.json'),
    upstream: undefined as string | undefined,
  };
  const value = (flag: string, v: string | undefined): string => {
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] as string;
    if (a === '--json' && sub === 'check') opts.json = true;
    else if (a === '--strict' && sub === 'check') opts.strict = true;
    else if (a === '--dry-run' && sub === 'bump') opts.dryRun = true;
    else if (a === '--tool') {
      const id = value(a, rest[++i]);
      if (!known.has(id)) throw new UsageError(`--tool ${id}: unknown tool; known: ${[...known].join(', ')}`);
      opts.only.push(id);
    } else if (a === '--kubernetes-minor' && sub === 'bump') {
      const m = value(a, rest[++i]);
      if (!/^1\.\d+$/.test(m)) throw new UsageError(`--kubernetes-minor ${m}: must look like 1.37`);
      opts.kubernetesMinor = m;
    } else if (a === '--pins') opts.pinsPath = resolve(value(a, rest[++i]));
    else if (a === '--upstream') opts.upstream = value(a, rest[++i]);
    else throw new UsageError(`unknown option ${a} for tools ${sub}; run tools --help`);
  }
  return opts;
}

export function readPins(path: string): ToolPins {
  if (!existsSync(path)) {
    throw new UsageError(`${path} does not exist; run from the repository root or pass --pins FILE`);
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`${path} is not valid JSON (${(e as Error).message})`);
  }
  const pins = json as Partial<ToolPins> | null;
  if (!pins || typeof pins.kubernetesMinor !== 'string' || typeof pins.tools !== 'object' || !pins.tools) {
    throw new UsageError(`${path} needs "kubernetesMinor" and "tools" (see src/image/tool-pins.json)`);
  }
  return pins as ToolPins;
}

async function run(argv: readonly string[]): Promise<number> {
  const opts = parseToolsArgs(argv);
  const pins = readPins(opts.pinsPath);
  let fetcher: ReturnType<typeof createUpstreamFetcher>;
  try {
    fetcher = createUpstreamFetcher({ baseUrl: opts.upstream });
  } catch (e) {
    if (e instanceof UpstreamError) throw new UsageError(e.message);
    throw e;
  }
  const only = opts.only.length > 0 ? opts.only : undefined;
  const now = new Date();
  if (opts.sub === 'check') {
    const statuses = await checkPins({ pins, manifest: DEFAULT_TOOLS_MANIFEST, fetcher, now, only });
    process.stdout.write(
      opts.json
        ? `${JSON.stringify({ kubernetesMinor: pins.kubernetesMinor, tools: statuses }, null, 2)}\n`
        : formatCheckReport(statuses),
    );
    if (statuses.some((s) => s.state === 'error')) return EXIT_CODES.usage;
    return opts.strict && statuses.some((s) => s.state === 'behind') ? EXIT_CODES.failed : EXIT_CODES.ok;
  }
  try {
    const result = await bumpPins({
      pins,
      manifest: DEFAULT_TOOLS_MANIFEST,
      fetcher,
      now,
      only,
      kubernetesMinor: opts.kubernetesMinor,
    });
    for (const s of result.skipped)
      process.stderr.write(`tools bump: ${s.id} left at ${s.pinned}: ${s.note}\n`);
    if (result.changes.length === 0) {
      process.stdout.write('every pin is current; tool-pins.json unchanged\n');
      return result.skipped.length > 0 ? EXIT_CODES.usage : EXIT_CODES.ok;
    }
    for (const c of result.changes) {
      process.stdout.write(
        `${c.id} ${c.from} -> ${c.to}${c.sha256 ? ` sha256 ${c.sha256}` : ''} (verified by ${c.verifiedBy})\n`,
      );
    }
    if (opts.dryRun) {
      process.stdout.write('--dry-run: tool-pins.json unchanged\n');
    } else {
      writePinsFile(opts.pinsPath, result.pins);
      process.stdout.write(
        `wrote ${opts.pinsPath}; next: UPDATE_GOLDEN=1 npx vitest run test/image/template-body.test.ts and review the diff\n`,
      );
    }
    return result.skipped.length > 0 ? EXIT_CODES.usage : EXIT_CODES.ok;
  } catch (e) {
    if (e instanceof VerificationError) {
      process.stderr.write(`jumpbox-builder tools bump: refused: ${e.message}; tool-pins.json unchanged\n`);
      return EXIT_CODES.failed;
    }
    if (e instanceof UpstreamError) {
      process.stderr.write(`jumpbox-builder tools bump: ${e.message}; tool-pins.json unchanged\n`);
      return EXIT_CODES.usage;
    }
    throw e;
  }
}

export const command: CliCommand = {
  summary:
    'check the tool pins against their upstream releases (check) or update them with verified checksums (bump)',
  usage: TOOLS_USAGE,
  run,
};
