/**
 * `npm run bench`: runs every bench/*.bench.ts in turn, each in its own process (each prints its figures
 * beside a baseline measured in the same run), and writes
 * - bench/results/latest.txt: the combined printed output;
 * - bench/results/latest.json: the figures (the `@@bench <key> <json>` lines of each script), the machine
 *   (cores, load, memory, node version) and the real time of each script.
 * `npm run bench -- fleet archival` runs only the scripts whose names contain one of the words; the JSON
 * then keeps the other figures of the previous latest.json. The machine may be shared: real-time figures
 * are noisy, which is why each comes with a baseline measured side by side.
 * `npm run bench -- --fleet 1000` runs the fleet bench alone with 1,000 definitions (key fleet1000).
 * The cold-start bench's package (`npm run package`) is made before the clock starts, when it is missing
 * or older than src/: packaging is not part of the 10 minutes.
 * `npm run bench -- --ingest <script>=<file> ...` records the output of scripts run standalone
 * (`node --import tsx bench/<script>`, e.g. with larger FLEET_DEFINITIONS) into the same two files.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));
const root = join(dir, '..');
let argv = process.argv.slice(2);
// --fleet N: the fleet bench with N definitions (default 200), figures under the key fleet<N>.
const fleetAt = argv.indexOf('--fleet');
let fleetSize: string | undefined;
if (fleetAt >= 0) {
  fleetSize = argv[fleetAt + 1];
  if (!fleetSize || !/^[1-9][0-9]{0,4}$/.test(fleetSize)) {
    process.stderr.write(
      `--fleet needs a number of definitions (1-99999), e.g. --fleet 1000; got "${fleetSize ?? ''}"\n`,
    );
    process.exit(2);
  }
  argv = [...argv.slice(0, fleetAt), ...argv.slice(fleetAt + 2)];
  if (argv.length === 0) argv = ['fleet'];
}
const ingest = argv.includes('--ingest')
  ? argv.filter((a) => a !== '--ingest').map((a) => a.split('=') as [string, string])
  : [];
const only = ingest.length > 0 ? ['(none)'] : argv;
const ORDER = ['polling', 'orchestration', 'durable-host', 'coldstart', 'archival', 'fleet', 'simulate'];
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort((a, b) => {
    const rank = (f: string) => {
      const i = ORDER.findIndex((o) => f.startsWith(o));
      return i < 0 ? ORDER.length : i;
    };
    return rank(a) - rank(b) || a.localeCompare(b);
  });
const resultsDir = join(dir, 'results');
const jsonPath = join(resultsDir, 'latest.json');
const previous =
  (only.length > 0 || ingest.length > 0) && existsSync(jsonPath)
    ? (JSON.parse(readFileSync(jsonPath, 'utf8')) as Record<string, unknown>)
    : {};
const machine = {
  cores: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryGB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  loadAverageAtStart: loadavg().map((x) => Math.round(x * 10) / 10),
  freeMemoryGBAtStart: Math.round(freemem() / 2 ** 30),
};
const figures: Record<string, unknown> = { ...previous };
const scripts: Record<string, { seconds: number; exitCode: number | null; loadAverageAfter: number[] }> = {
  ...((previous.scripts as Record<string, never>) ?? {}),
};
let combined = '';
let failed = 0;
// Packaging is not measured: the cold-start bench reads the deployment zip, made here (untimed) when it
// is missing or older than src/.
if (files.some((f) => f.startsWith('coldstart'))) {
  const zip = join(root, '.artifact', 'jumpbox-image-builder.zip');
  const newest = (p: string): number => {
    const st = statSync(p);
    return st.isDirectory()
      ? readdirSync(p).reduce((n, e) => Math.max(n, newest(join(p, e))), 0)
      : st.mtimeMs;
  };
  if (!existsSync(zip) || statSync(zip).mtimeMs < newest(join(root, 'src'))) {
    const t = performance.now();
    const r = spawnSync('npm', ['run', '--silent', 'package'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const note = `packaging (npm run package, not counted): ${Math.round((performance.now() - t) / 1000)} s, exit ${r.status}\n`;
    process.stdout.write(note);
    combined += note;
  }
}
const t0 = performance.now();
process.stdout.write(
  `machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGB} GB, node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}\n`,
);
for (const f of files) {
  const header = `\n=== ${f} (${new Date().toISOString()}, node ${process.version}) ===\n`;
  process.stdout.write(header);
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(dir, f)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      AZURITE_START_TIMEOUT_MS: '180000',
      ...process.env,
      ...(fleetSize && f.startsWith('fleet') ? { FLEET_DEFINITIONS: fleetSize } : {}),
    },
    maxBuffer: 256 * 1024 * 1024,
  });
  const seconds = Math.round((performance.now() - t) / 100) / 10;
  const printed: string[] = [];
  for (const l of (r.stdout ?? '').split('\n')) {
    const m = /^@@bench (\S+) (.*)$/.exec(l);
    if (m) figures[m[1]!] = JSON.parse(m[2]!);
    else printed.push(l);
  }
  const text = `${printed.join('\n').trimEnd()}\n(${f}: ${seconds} s real, exit ${r.status})\n`;
  process.stdout.write(text);
  combined += header + text;
  scripts[f] = {
    seconds,
    exitCode: r.status,
    loadAverageAfter: loadavg().map((x) => Math.round(x * 10) / 10),
  };
  if (r.status !== 0) failed++;
}
for (const [script, file] of ingest) {
  const printed: string[] = [];
  for (const l of readFileSync(file, 'utf8').split('\n')) {
    const m = /^@@bench (\S+) (.*)$/.exec(l);
    if (m) figures[m[1]!] = JSON.parse(m[2]!);
    else printed.push(l);
  }
  const text = `${printed.join('\n').trimEnd()}\n(${script}: run standalone, output recorded ${new Date().toISOString()})\n`;
  process.stdout.write(`\n=== ${script} ===\n${text}`);
  combined += `\n=== ${script} (standalone run) ===\n${text}`;
  scripts[`${script} (standalone)`] = {
    seconds: Number.NaN,
    exitCode: 0,
    loadAverageAfter: loadavg().map((x) => Math.round(x * 10) / 10),
  };
}
if (ingest.length > 0 && existsSync(join(resultsDir, 'latest.txt')))
  combined = `${readFileSync(join(resultsDir, 'latest.txt'), 'utf8').replace(/\nall: .*\n?$/, '')}\n${combined}`;
// An ingest records standalone runs: the total of the last whole run stays what it was.
const totalSeconds =
  ingest.length > 0 && typeof previous.totalSeconds === 'number'
    ? previous.totalSeconds
    : Math.round((performance.now() - t0) / 1000);
const tail = `\nall: ${totalSeconds} s real (goal: within 10 minutes on 2 cores)\n`;
process.stdout.write(tail);
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'latest.txt'), `${combined.trimStart()}${tail}`);
writeFileSync(
  jsonPath,
  `${JSON.stringify({ ...figures, machine, scripts, totalSeconds, writtenAt: new Date().toISOString() }, null, 2)}\n`,
);
process.exitCode = failed ? 1 : 0;
