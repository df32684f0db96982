/**
 * `npm run faults`: the full fault matrix against fresh local stand-ins (Azurite, the ARM emulator, the
 * local Durable host, one manual virtual clock). Prints one line per cell, then one JSON line
 * {"cells","passed","leakedGrants","nonTerminalRecords","lostLogs"}; exits 1 when a cell failed or a
 * secret was found.
 *
 * Options: --paths success,customizer-failure  --faults 429,503  --calls <regex over call labels>
 *          --list (print the discovered calls and stop)
 */

import { VirtualClock } from '../local/clock.js';
import { startLocalAzure } from '../local/local-azure.js';
import {
  type CellResult,
  discoverCalls,
  FAULT_KINDS,
  type MatrixFault,
  RUN_PATHS,
  type RunPath,
  runCell,
  startFaultEnvironment,
  summarize,
} from './matrix.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function listOption<T extends string>(name: string, all: readonly T[]): T[] {
  const v = option(name);
  if (!v) return [...all];
  const picked = v.split(',').map((x) => x.trim());
  for (const p of picked) {
    if (!all.includes(p as T)) {
      process.stderr.write(`--${name}: "${p}" is not one of ${all.join(', ')}\n`);
      process.exit(2);
    }
  }
  return picked as T[];
}

async function main(): Promise<number> {
  const paths = listOption<RunPath>('paths', RUN_PATHS);
  const faults = listOption<MatrixFault>('faults', FAULT_KINDS);
  const callFilter = option('calls') ? new RegExp(option('calls')!, 'i') : undefined;
  const started = Date.now();
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
  });
  const results: CellResult[] = [];
  try {
    const calls = (await discoverCalls(e)).filter((c) => !callFilter || callFilter.test(c.label));
    process.stdout.write(`${calls.length} distinct calls from a successful build's recorded traffic:\n`);
    for (const c of calls) process.stdout.write(`  ${c.service.padEnd(5)} ${c.label}\n`);
    if (process.argv.includes('--list')) return 0;
    process.stdout.write(
      `\n${'path'.padEnd(19)} ${'fault'.padEnd(6)} ${'hits'.padStart(4)}  ${'result'.padEnd(10)} ${'ok'.padEnd(4)} call\n`,
    );
    for (const runPath of paths) {
      for (const call of calls) {
        for (const fault of faults) {
          const r = await runCell(e, call, fault, runPath);
          results.push(r);
          process.stdout.write(
            `${runPath.padEnd(19)} ${fault.padEnd(6)} ${String(r.faultHits).padStart(4)}  ${`${r.result}${r.errorCode ? `:${r.errorCode}` : ''}`.padEnd(10)} ${(r.passed ? 'ok' : 'FAIL').padEnd(4)} ${call.label}${[...r.problems, ...r.notes].length ? `  [${[...r.problems, ...r.notes].join('; ')}]` : ''}\n`,
          );
        }
      }
    }
  } finally {
    await e.stop();
    await azure.stop();
  }
  const secrets = e.scanner.findings;
  process.stdout.write(
    `\nsecret scan: ${e.scanner.count} texts (log lines, records, notifications, archived blob names and metadata), ${secrets.length} finding(s)\n`,
  );
  for (const f of secrets.slice(0, 20)) process.stdout.write(`  ${f.rule} in ${f.source}: ${f.excerpt}\n`);
  const seconds = Math.round((Date.now() - started) / 1000);
  process.stdout.write(`${results.length} cells in ${seconds} s\n`);
  const summary = summarize(results);
  const deferred = results.filter((r) => r.deferredLogs).length;
  if (deferred > 0)
    process.stdout.write(`${deferred} cell(s) with log archival deferred (see the notes above)\n`);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return summary.passed === summary.cells && secrets.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`faults: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
