/**
 * Cold start: the deployment package's size and the time a fresh Node process takes to import the
 * package's `main` (every function registration), against a minimal v4 app in the same package folder
 * that imports only @azure/functions and durable-functions (one HTTP starter, one orchestrator, one
 * activity). Both are imported COLDSTART_REPEATS times (default 5), alternating, in fresh processes; the
 * medians and their ratio are the figures. What drives the difference: the modules each loads (counted by a
 * module-loader hook) and the import time of each production dependency alone.
 *
 * The package is `npm run package` (its zip path is the last line on stdout); without that script, the
 * `npm run build` output plus the production dependencies are measured instead (and said so).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emit, line, round } from './lib/report.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const REPEATS = Number(process.env.COLDSTART_REPEATS ?? 5);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  main: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};

function dirBytes(p: string): number {
  const s = statSync(p);
  if (!s.isDirectory()) return s.size;
  return readdirSync(p).reduce((n, e) => n + dirBytes(join(p, e)), 0);
}

let appDir: string;
let zipBytes: number | undefined;
let source: string;
/** Newest modification time under `p` (to tell whether an existing package is current). */
function newest(p: string): number {
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  return readdirSync(p).reduce((n, e) => Math.max(n, newest(join(p, e))), 0);
}
const existingZip = join(root, '.artifact', 'jumpbox-image-builder.zip');
if (pkg.scripts.package && !process.env.COLDSTART_NO_PACKAGE) {
  // Packaging is not part of the measurement (it reinstalls the production dependencies: minutes):
  // an existing package is reused (`npm run bench` makes it first, untimed, when there is none or it is
  // older than src/), otherwise it is made once here.
  const zip = existsSync(existingZip)
    ? existingZip
    : execFileSync('npm', ['run', '--silent', 'package'], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      })
        .trim()
        .split('\n')
        .at(-1)!
        .trim();
  zipBytes = statSync(zip).size;
  appDir = join(dirname(zip), 'app');
  const stale = statSync(zip).mtimeMs < newest(join(root, 'src'));
  source = `npm run package (${zip.replace(root, '')}${stale ? ', older than src/: rerun npm run package to refresh' : ''})`;
} else {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'ignore' });
  appDir = root;
  source = 'npm run build output (dist/) + node_modules (npm run package not available)';
}
const main = join(appDir, pkg.main);
if (!existsSync(main)) throw new Error(`the package has no main ${main}`);
const unpackedBytes =
  appDir === root
    ? dirBytes(join(root, 'dist')) +
      Object.keys(pkg.dependencies).reduce((n, d) => n + dirBytes(join(root, 'node_modules', d)), 0)
    : dirBytes(appDir);

// The minimal v4 app, resolved against the same node_modules.
const baselineDir = join(appDir, '.bench-baseline');
mkdirSync(baselineDir, { recursive: true });
const baselineMain = join(baselineDir, 'index.mjs');
writeFileSync(
  baselineMain,
  `import { app } from '@azure/functions';
import * as df from 'durable-functions';
df.app.orchestration('hello', function* (context) { return yield context.df.callActivity('say', 'x'); });
df.app.activity('say', { handler: (x) => x });
app.http('start', { route: 'start', extraInputs: [df.input.durableClient()], handler: async (req, ctx) => {
  const id = await df.getClient(ctx).startNew('hello');
  return { status: 202, body: id };
} });
`,
);

// A loader hook that counts the modules a process loads (ESM and CommonJS, own files vs node_modules).
const hookDir = join(appDir, '.bench-hooks');
mkdirSync(hookDir, { recursive: true });
writeFileSync(
  join(hookDir, 'hooks.mjs'),
  `let port;
export function initialize(data) { port = data.port; }
export async function load(url, context, next) { port.postMessage(url); return next(url, context); }
`,
);
writeFileSync(
  join(hookDir, 'measure.mjs'),
  `import { register, createRequire } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
const target = process.argv[2];
const count = process.argv[3] === 'count';
const urls = new Set();
let port1;
if (count) {
  const ch = new MessageChannel();
  port1 = ch.port1;
  port1.on('message', (u) => urls.add(u));
  port1.unref();
  register(pathToFileURL(${JSON.stringify(join(hookDir, 'hooks.mjs'))}).href, { data: { port: ch.port2 }, transferList: [ch.port2] });
}
const t = performance.now();
await import(pathToFileURL(target).href);
const ms = performance.now() - t;
await new Promise((r) => setTimeout(r, count ? 200 : 0));
const cjs = Object.keys(createRequire(import.meta.url).cache);
const all = [...urls, ...cjs.map((f) => pathToFileURL(f).href)];
const files = [...new Set(all)].filter((u) => u.startsWith('file:'));
const pkgOf = (u) => { const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(u); return m ? m[1] : '(app)'; };
const byPackage = {};
for (const u of files) byPackage[pkgOf(u)] = (byPackage[pkgOf(u)] ?? 0) + 1;
process.stdout.write(JSON.stringify({ ms, modules: files.length, byPackage }) + '\\n');
process.exit(0);
`,
);

interface Sample {
  ms: number;
  modules: number;
  byPackage: Record<string, number>;
}
function importOnce(target: string, count = false): Sample {
  const r = spawnSync(process.execPath, [join(hookDir, 'measure.mjs'), target, count ? 'count' : ''], {
    cwd: dirname(target),
    encoding: 'utf8',
    env: { ...process.env, NODE_ENV: 'production', FUNCTIONS_WORKER_RUNTIME: 'node' },
  });
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !last.startsWith('{'))
    throw new Error(`importing ${target} failed (${r.status}): ${r.stderr.slice(-1500)}`);
  return JSON.parse(last) as Sample;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
importOnce(main); // warm the file system cache for both (cold process, warm disk)
importOnce(baselineMain);
const appMs: number[] = [];
const baseMs: number[] = [];
for (let i = 0; i < REPEATS; i++) {
  if (i % 2) {
    baseMs.push(importOnce(baselineMain).ms);
    appMs.push(importOnce(main).ms);
  } else {
    appMs.push(importOnce(main).ms);
    baseMs.push(importOnce(baselineMain).ms);
  }
}
const appModules = importOnce(main, true);
const baseModules = importOnce(baselineMain, true);

// Each production dependency alone (what a lazy import would save at start-up).
const depMs: Record<string, number> = {};
const probeDir = join(appDir, '.bench-probe');
mkdirSync(probeDir, { recursive: true });
for (const d of Object.keys(pkg.dependencies)) {
  const probe = join(probeDir, `${d.replace(/[@/]/g, '_')}.mjs`);
  writeFileSync(probe, `await import(${JSON.stringify(d)});\n`);
  try {
    depMs[d] = round(importOnce(probe).ms, 0); // one fresh process each: an indication, not a median
  } catch {
    depMs[d] = Number.NaN;
  }
}

const importMs = round(median(appMs), 0);
const baselineImportMs = round(median(baseMs), 0);
line(`package: ${source}`);
line(
  `package size: ${zipBytes !== undefined ? `${round(zipBytes / 1e6)} MB zip, ` : ''}${round(unpackedBytes / 1e6)} MB unpacked`,
);
line(
  `import of main: median ${importMs} ms over ${REPEATS} fresh processes (${appMs.map((x) => x.toFixed(0)).join(', ')})`,
);
line(
  `minimal v4 app (baseline): median ${baselineImportMs} ms (${baseMs.map((x) => x.toFixed(0)).join(', ')}); ratio ×${(importMs / baselineImportMs).toFixed(2)}`,
);
line(`modules loaded: app ${appModules.modules}, baseline ${baseModules.modules}`);
const top = Object.entries(appModules.byPackage)
  .sort((a, b) => b[1] - a[1])
  .slice(0, 12);
line(`modules by package (app): ${top.map(([p, n]) => `${p} ${n}`).join(', ')}`);
line(
  `import time of each production dependency alone (ms): ${Object.entries(depMs)
    .sort((a, b) => b[1] - a[1])
    .map(([d, ms]) => `${d} ${ms}`)
    .join(', ')}`,
);
emit('coldStart', {
  importMs,
  baselineImportMs,
  ratio: round(importMs / baselineImportMs, 2),
  packageMB: round((zipBytes ?? unpackedBytes) / 1e6),
  packageIs: zipBytes !== undefined ? 'zip' : 'unpacked (no npm run package)',
  unpackedMB: round(unpackedBytes / 1e6),
  modulesLoaded: appModules.modules,
  baselineModulesLoaded: baseModules.modules,
  modulesByPackage: Object.fromEntries(top),
  dependencyImportMs: depMs,
  source,
});
