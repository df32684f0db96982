/**
 * `npm run faults`: the full fault matrix against fresh local stand-ins (Azurite, the ARM emulator, the
 * local Durable host, one manual virtual clock). Prints one line per cell, then one JSON line
 * {"cells","passed","leakedGrants","nonTerminalRecords","lostLogs"}; exits 1 when a cell failed or a
 * secret was found.
 *
 * Options: --paths success,customizer-failure  --faults 429,503  --calls <regex over call labels>
 *          --rbac-delay <seconds> (a fixed role propagation delay; default: drawn per cell in 30-600 s)
 *          --jobs <n> (cells in n worker processes, each with its own stand-ins; default 1)
 *          --list (print the discovered calls and stop)
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { VirtualClock } from '../local/clock.js';
import { startLocalAzure } from '../local/local-azure.js';
import {
  type CellResult,
  discoverCalls,
  FAULT_KINDS,
  type MatrixFault,
  RBAC_DELAY_RANGE,
  RUN_PATHS,
  type RunPath,
  runCell,
  startFaultEnvironment,
  summarize,
} from './matrix.js';
import type { SecretFinding as Finding } from './secrets.js';

function fail(message: string): never {
  process.stderr.write(`faults: ${message}\n`);
  process.exit(2);
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) fail(`--${name} needs a value`);
  return v;
}

function listOption<T extends string>(name: string, all: readonly T[]): T[] {
  const v = option(name);
  if (!v) return [...all];
  const picked = v.split(',').map((x) => x.trim());
  for (const p of picked) {
    if (!all.includes(p as T)) fail(`--${name}: "${p}" is not one of ${all.join(', ')}`);
  }
  return picked as T[];
}

function intOption(name: string, min: number): number | undefined {
  const v = option(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be a whole number >= ${min} (got "${v}")`);
  return n;
}

/** A stable shard for a cell, so each worker process takes a fixed share whatever the order. */
function shardOf(key: string, of: number): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) >>> 0;
  return h % of;
}

const cellKey = (runPath: string, fault: string, label: string) => `${runPath} ${fault} ${label}`;

function row(r: CellResult): string {
  const notes = [...r.problems, ...r.notes];
  return `${r.runPath.padEnd(19)} ${r.fault.padEnd(6)} ${String(r.faultHits).padStart(4)} ${String(r.rbacDelaySeconds).padStart(4)}  ${`${r.result}${r.errorCode ? `:${r.errorCode}` : ''}`.padEnd(10)} ${(r.passed ? 'ok' : 'FAIL').padEnd(4)} ${r.call}${notes.length ? `  [${notes.join('; ')}]` : ''}\n`;
}

const HEADER = `\n${'path'.padEnd(19)} ${'fault'.padEnd(6)} ${'hits'.padStart(4)} ${'rbac'.padStart(4)}  ${'result'.padEnd(10)} ${'ok'.padEnd(4)} call\n`;

interface Outcome {
  readonly results: CellResult[];
  readonly findings: Finding[];
  readonly scanned: number;
}

/**
 * Runs this process's share of the cells. As a worker (shard given) it writes JSON lines for the parent
 * instead of the table.
 */
async function runShard(shard?: { index: number; of: number }): Promise<Outcome> {
  const paths = listOption<RunPath>('paths', RUN_PATHS);
  const faults = listOption<MatrixFault>('faults', FAULT_KINDS);
  const callFilter = option('calls') ? new RegExp(option('calls')!, 'i') : undefined;
  const rbacDelaySeconds = intOption('rbac-delay', 0);
  const emit = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
  const azure = await startLocalAzure({ clock: new VirtualClock() });
  const e = await startFaultEnvironment({
    emulator: azure.emulator,
    clock: azure.clock,
    appSettings: azure.appSettings,
    certificate: azure.certificate,
    azurite: {
      blob: new URL(azure.azurite.endpoints.blob).origin,
      table: new URL(azure.azurite.endpoints.table).origin,
    },
    rbacDelaySeconds,
  });
  const results: CellResult[] = [];
  try {
    const calls = (await discoverCalls(e)).filter((c) => !callFilter || callFilter.test(c.label));
    if (shard) emit({ calls: calls.map((c) => c.label) });
    else {
      process.stdout.write(`${calls.length} distinct calls from a successful build's recorded traffic:\n`);
      for (const c of calls) process.stdout.write(`  ${c.service.padEnd(5)} ${c.label}\n`);
      if (process.argv.includes('--list')) return { results, findings: [], scanned: 0 };
      process.stdout.write(HEADER);
    }
    for (const runPath of paths) {
      for (const call of calls) {
        for (const fault of faults) {
          if (shard && shardOf(cellKey(runPath, fault, call.label), shard.of) !== shard.index) continue;
          const r = await runCell(e, call, fault, runPath);
          results.push(r);
          if (shard) emit({ cell: r });
          else process.stdout.write(row(r));
        }
      }
    }
  } finally {
    await e.stop();
    await azure.stop();
  }
  const outcome = { results, findings: [...e.scanner.findings], scanned: e.scanner.count };
  if (shard) emit({ done: { findings: outcome.findings, scanned: outcome.scanned } });
  return outcome;
}

/** Runs the cells in `jobs` worker processes (this file with --worker), printing rows as they come. */
async function runWorkers(jobs: number): Promise<Outcome> {
  const self = fileURLToPath(import.meta.url);
  const args = process.argv.slice(2).filter((a, i, all) => a !== '--jobs' && all[i - 1] !== '--jobs');
  const callLists: string[][] = [];
  const results: CellResult[] = [];
  const findings: Finding[] = [];
  let scanned = 0;
  let headerShown = false;
  await Promise.all(
    Array.from({ length: jobs }, (_, index) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', self, ...args, '--worker', `${index}/${jobs}`],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let done = false;
      createInterface({ input: child.stdout! }).on('line', (line) => {
        let msg: { calls?: string[]; cell?: CellResult; done?: { findings: Finding[]; scanned: number } };
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          return;
        }
        if (msg.calls) {
          callLists[index] = msg.calls;
          if (!headerShown) {
            headerShown = true;
            process.stdout.write(
              `${msg.calls.length} distinct calls from a successful build's recorded traffic:\n`,
            );
            for (const c of msg.calls) process.stdout.write(`  ${c}\n`);
            process.stdout.write(`${jobs} worker processes${HEADER}`);
          }
        } else if (msg.cell) {
          results.push(msg.cell);
          process.stdout.write(row(msg.cell));
        } else if (msg.done) {
          done = true;
          findings.push(...msg.done.findings);
          scanned += msg.done.scanned;
        }
      });
      return new Promise<void>((resolve, reject) =>
        child.once('exit', (code) =>
          done
            ? resolve()
            : reject(new Error(`worker ${index}/${jobs} ended (exit ${code}) before its last cell`)),
        ),
      );
    }),
  );
  // Every worker must have discovered the same calls, or the shards would not cover the matrix.
  const first = JSON.stringify(callLists[0]);
  if (callLists.some((l) => JSON.stringify(l) !== first))
    throw new Error('the workers discovered different call lists; run with --jobs 1 to see them');
  return { results, findings, scanned };
}

async function main(): Promise<number> {
  const worker = option('worker');
  if (worker) {
    const [index, of] = worker.split('/').map(Number);
    await runShard({ index: index!, of: of! });
    return 0;
  }
  const jobs = intOption('jobs', 1) ?? 1;
  const fixed = intOption('rbac-delay', 0);
  const started = Date.now();
  const { results, findings, scanned } =
    jobs > 1 && !process.argv.includes('--list') ? await runWorkers(jobs) : await runShard();
  if (process.argv.includes('--list')) return 0;
  process.stdout.write(
    `\nsecret scan: ${scanned} texts (log lines, records, notifications, archived blob names and metadata), ${findings.length} finding(s)\n`,
  );
  for (const f of findings.slice(0, 20)) process.stdout.write(`  ${f.rule} in ${f.source}: ${f.excerpt}\n`);
  const seconds = Math.round((Date.now() - started) / 1000);
  process.stdout.write(
    `${results.length} cells in ${seconds} s with ${jobs} job(s); role propagation delay ${fixed !== undefined ? `${fixed} s` : `drawn per cell in ${RBAC_DELAY_RANGE.min}-${RBAC_DELAY_RANGE.max} s`} (virtual)\n`,
  );
  const summary = summarize(results);
  const deferred = results.filter((r) => r.deferredLogs).length;
  if (deferred > 0)
    process.stdout.write(`${deferred} cell(s) with log archival deferred (see the notes above)\n`);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return summary.passed === summary.cells && findings.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`faults: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
