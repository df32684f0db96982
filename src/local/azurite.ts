/**
 * Starts Azurite (blob, queue, table) as a child process: in memory (or on disk under `location`), HTTPS with
 * the local certificate, OAuth "basic" so that identity-based clients work as they do against Azure, free ports
 * (or the given ones).
 *
 * The child exits gracefully when its parent dies (a SIGKILL of `npm run local`): a preload module watches
 * process.ppid and sends SIGTERM to Azurite itself, whose handler closes its three servers; closing flushes the
 * LokiJS metadata (node_modules/azurite/dist/src/azurite.js `shutdown`, .../table/TableServer.js `afterClose`,
 * lokijs `Loki.prototype.close`: a final save when dirty). Without that, a killed Azurite loses the writes of
 * the last LokiJS autosave interval (5000 ms, .../table/persistence/LokiTableMetadataStore.js).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { LocalCertificate } from './tls.js';
import { writeFileAtomic } from './write-atomic.js';

export const DEFAULT_ACCOUNT = 'devstoreaccount1';

export interface AzuriteOptions {
  readonly certificate: LocalCertificate;
  /** Storage accounts to create besides devstoreaccount1 (e.g. Image Builder staging accounts). */
  readonly extraAccounts?: readonly string[];
  readonly startTimeoutMs?: number;
  /** Azurite's `--location`: data persists there instead of in memory. */
  readonly location?: string;
  /** Fixed ports (e.g. saved by `local --state`); default: free ports. */
  readonly ports?: { readonly blob: number; readonly queue: number; readonly table: number };
  /** Written (atomically) with `{"pid": n}` right after the spawn, so a later run can find an orphan. */
  readonly pidFile?: string;
  /** SIGTERM grace before SIGKILL on stop (default 3000 ms; on-disk data wants more time to flush). */
  readonly stopGraceMs?: number;
}

export interface AzuriteInstance {
  readonly pid: number;
  readonly accounts: readonly string[];
  /** `https://127.0.0.1:{port}` for each service; account URLs append `/{account}`. */
  readonly endpoints: { readonly blob: string; readonly queue: string; readonly table: string };
  blobAccountUrl(account?: string): string;
  tableAccountUrl(account?: string): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function azuriteMain(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'azurite.js');
}

/** Default staging account pool used by the ARM emulator for Image Builder staging storage. */
export const STAGING_ACCOUNT_POOL = Array.from({ length: 8 }, (_, i) => `aibstaging${i}`);

/**
 * Preloaded into the Azurite child (`node --import <this> azurite.js`): when the parent dies the child is
 * re-parented (process.ppid changes); Azurite then stops as on Ctrl+C, flushing its data. Writes to the dead
 * parent's pipes fail with EPIPE; those errors are dropped so that they cannot abort the shutdown.
 */
export const PARENT_DEATH_GUARD = [
  'const parent = process.ppid;',
  "for (const s of [process.stdout, process.stderr]) s.on('error', () => {});",
  'const watch = setInterval(() => {',
  '  if (process.ppid === parent) return;',
  '  clearInterval(watch);',
  "  process.kill(process.pid, 'SIGTERM');",
  '}, 250);',
  'watch.unref();',
].join('\n');

export function parentDeathGuardUrl(): string {
  return `data:text/javascript,${encodeURIComponent(PARENT_DEATH_GUARD)}`;
}

export async function startAzurite(options: AzuriteOptions): Promise<AzuriteInstance> {
  const [blob, queue, table] = options.ports
    ? [options.ports.blob, options.ports.queue, options.ports.table]
    : [await freePort(), await freePort(), await freePort()];
  const accounts = [DEFAULT_ACCOUNT, ...(options.extraAccounts ?? STAGING_ACCOUNT_POOL)];
  // Azurite needs a key per account; these are random and only ever held in memory.
  const accountsEnv = accounts.map((a) => `${a}:${randomBytes(64).toString('base64')}`).join(';');
  if (options.location) mkdirSync(options.location, { recursive: true, mode: 0o700 });
  const workspace = options.location ?? mkdtempSync(join(tmpdir(), 'jumpbox-azurite-'));
  const args = [
    '--import',
    parentDeathGuardUrl(),
    azuriteMain(),
    ...(options.location ? ['--location', options.location] : ['--inMemoryPersistence']),
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--silent',
    '--oauth',
    'basic',
    '--cert',
    options.certificate.certPath,
    '--key',
    options.certificate.keyPath,
    '--blobPort',
    String(blob),
    '--queuePort',
    String(queue),
    '--tablePort',
    String(table),
  ];
  const child: ChildProcess = spawn(process.execPath, args, {
    env: { ...process.env, AZURITE_ACCOUNTS: accountsEnv },
    cwd: workspace,
    stdio: ['ignore', 'pipe', 'pipe'],
    // On disk, Azurite gets its own process group: a signal to the parent's group (kill -9 -PGID, or a
    // terminal's) does not kill it unsaved; it stops through its parent, or its guard when the parent dies.
    detached: options.location !== undefined,
  });
  if (options.pidFile && child.pid !== undefined) {
    writeFileAtomic(options.pidFile, `${JSON.stringify({ pid: child.pid })}\n`);
  }
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  // AZURITE_START_TIMEOUT_MS: `npm run bench` raises it on a busy (shared) machine.
  const deadline =
    Date.now() + (options.startTimeoutMs ?? Number(process.env.AZURITE_START_TIMEOUT_MS ?? 30_000));
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`Azurite exited with code ${code}: ${output}`));
    child.once('exit', onExit);
    const check = () => {
      const ready = ['Blob', 'Queue', 'Table'].every((s) =>
        new RegExp(`Azurite ${s} service is successfully listening`).test(output),
      );
      if (ready) {
        child.off('exit', onExit);
        resolve();
      } else if (Date.now() > deadline) {
        child.kill('SIGKILL');
        reject(new Error(`Azurite did not start within the timeout: ${output}`));
      } else setTimeout(check, 50);
    };
    check();
  });
  const endpoints = {
    blob: `https://127.0.0.1:${blob}`,
    queue: `https://127.0.0.1:${queue}`,
    table: `https://127.0.0.1:${table}`,
  };
  const pid = child.pid!;
  return {
    pid,
    accounts,
    endpoints,
    blobAccountUrl: (account = DEFAULT_ACCOUNT) => `${endpoints.blob}/${account}`,
    tableAccountUrl: (account = DEFAULT_ACCOUNT) => `${endpoints.table}/${account}`,
    stop: () => stopProcess(child, options.stopGraceMs),
  };
}

/** Stops a child by PID: SIGTERM, then SIGKILL after a grace period. */
export async function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
