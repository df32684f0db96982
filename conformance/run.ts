/**
 * `npm run conformance`: the app's orchestrations on the real Durable Functions extension
 * (Microsoft.Azure.WebJobs.Extensions.DurableTask 3.19.0 with DurableTask.Core and DurableTask.AzureStorage, on
 * Azurite), compared scenario by scenario with the local Durable host's run of the same scenario.
 *
 * One Node process: the ARM emulator and the app's Azurite (src/local/local-azure.ts), the local host (which
 * captures the app's registrations and runs the local side), a bridge that runs the app's real orchestrator
 * and activity handlers for the .NET harness (conformance/harness), a second local host used only as the HTTP
 * front whose durable client points at the extension's client API, and a counting proxy in front of the
 * task hub's Azurite. Ends with one JSON line; exit code 1 when a scenario fails or differs without a
 * documented justification (conformance/differences.ts).
 */
import '../src/local/durable-host/index.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { resetAzureClients, setCredentialOverride } from '../src/azure/clients.js';
import { resetConfigForTests } from '../src/config.js';
import { freePort, stopProcess } from '../src/local/azurite.js';
import { type LocalDurableHost, startLocalDurableHost } from '../src/local/durable-host/index.js';
import {
  fromTypedData,
  invokeRegisteredFunction,
  type RpcTypedData,
} from '../src/local/durable-host/invoke.js';
import type { RegisteredFunction } from '../src/local/durable-host/registry.js';
import { type LocalAzure, startLocalAzure } from '../src/local/local-azure.js';
import { LocalTestCredential } from '../src/local/test-credential.js';
import { BUILD_ORCHESTRATOR, buildInstanceId } from '../src/orchestration/contracts.js';
import { ACTIVITY } from '../src/orchestration/steps.js';
import { DOCUMENTED_DIFFERENCES } from './differences.js';
import { proxiesSource } from './proxies.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const HARNESS_DIR = join(HERE, 'harness');
const HARNESS_DLL = join(HARNESS_DIR, 'bin', 'Release', 'net10.0', 'ConformanceHarness.dll');
const ENGINE =
  'Microsoft.Azure.WebJobs.Extensions.DurableTask 3.19.0 (DurableTask.Core 3.11.3, DurableTask.AzureStorage 2.11.3) on Azurite';
/**
 * Azurite's built-in development account: a public emulator constant, used only between this harness and the
 * Azurite it starts for the task hub. The app never sees it (it uses identity-based auth).
 */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
/** Generous: a restart waits for the dead worker's leases (app lease 1 min) and CI shares 2 cores. */
const SCENARIO_TIMEOUT_MS = 300_000;

const SCENARIOS = ['success', 'customizer-failure', 'cancel', 'kill-restart', 'concurrent-starts'] as const;
type ScenarioName = (typeof SCENARIOS)[number];
type Engine = 'local' | 'extension';

/** Short definition names, one per scenario and engine, so that the two runs share no build records. */
function definitionOf(s: ScenarioName, e: Engine): string {
  const short: Record<ScenarioName, string> = {
    success: 'ok',
    'customizer-failure': 'cust',
    cancel: 'cancel',
    'kill-restart': 'kill',
    'concurrent-starts': 'twice',
  };
  return `conf-${short[s]}-${e === 'local' ? 'l' : 'x'}`;
}

interface Observation {
  readonly outcome: unknown;
  readonly activities: string[];
  readonly history: string[];
}

const log = (line: string) => process.stderr.write(`conformance: ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- activity recording (both engines run the same handler objects) -------------------------------------

let recording: string[] = [];
const completed = new Set<string>();
function recordActivities(functions: ReadonlyMap<string, RegisteredFunction>): void {
  for (const fn of functions.values()) {
    if (fn.trigger !== 'activity') continue;
    const original = fn.handler;
    if ((original as { recorded?: boolean }).recorded) continue;
    const wrapped = async (...args: unknown[]) => {
      recording.push(fn.name);
      const rv = await original(...args);
      completed.add(fn.name);
      return rv;
    };
    (wrapped as { recorded?: boolean }).recorded = true;
    (fn as { handler: unknown }).handler = wrapped;
  }
}

// ---- the bridge the .NET proxies call ----------------------------------------------------------------------

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function startBridge(functions: () => ReadonlyMap<string, RegisteredFunction>): Promise<Server> {
  const server = createServer(async (req, res) => {
    const [, kind, rawName] = (req.url ?? '').split('/');
    const name = decodeURIComponent(rawName ?? '');
    const fn = functions().get(name);
    const body = await readBody(req);
    const reply = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (!fn || (kind === 'orchestrator' ? 'orchestration' : 'activity') !== fn.trigger) {
      reply(404, { message: `no ${kind} named ${name}` });
      return;
    }
    try {
      const trigger: RpcTypedData = { json: body };
      const rv = await invokeRegisteredFunction(fn, { trigger });
      reply(200, { result: fromTypedData(rv) ?? null });
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      reply(200, { error: { message: e.message, stack: e.stack ?? '' } });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

// ---- Azurite for the task hub, behind a counting proxy ----------------------------------------------------

interface TaskHubStorage {
  readonly connectionString: string;
  counts(): { blob: number; queue: number; table: number; total: number };
  reset(): void;
  stop(): Promise<void>;
}

async function startTaskHubStorage(): Promise<TaskHubStorage> {
  const services = ['blob', 'queue', 'table'] as const;
  const ports = { blob: await freePort(), queue: await freePort(), table: await freePort() };
  const workspace = mkdtempSync(join(tmpdir(), 'conformance-azurite-'));
  const main = join(ROOT, 'node_modules', 'azurite', 'dist', 'src', 'azurite.js');
  const child = spawn(
    process.execPath,
    [
      main,
      '--inMemoryPersistence',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--loose',
      '--blobPort',
      String(ports.blob),
      '--queuePort',
      String(ports.queue),
      '--tablePort',
      String(ports.table),
    ],
    { cwd: workspace, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AZURITE_ACCOUNTS: '' } },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  // generous: Azurite starts in a second on an idle machine, much later on 2 busy cores
  for (let i = 0; i < 1200 && !/Table service is successfully listening/.test(out); i++) await sleep(50);
  if (!/Table service is successfully listening/.test(out))
    throw new Error(`task hub Azurite did not start: ${out}`);

  const counts = { blob: 0, queue: 0, table: 0 };
  const proxies: Server[] = [];
  const front: Record<string, number> = {};
  for (const s of services) {
    const proxy = createServer((req, res) => {
      counts[s]++;
      const up = httpRequest(
        { host: '127.0.0.1', port: ports[s], method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const addr = proxy.address();
    front[s] = typeof addr === 'object' && addr ? addr.port : 0;
    proxies.push(proxy);
  }
  const endpoint = (s: string) => `http://127.0.0.1:${front[s]}/${DEV_ACCOUNT}`;
  return {
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_ACCOUNT_KEY};BlobEndpoint=${endpoint('blob')};QueueEndpoint=${endpoint('queue')};TableEndpoint=${endpoint('table')}`,
    counts: () => ({ ...counts, total: counts.blob + counts.queue + counts.table }),
    reset: () => {
      counts.blob = 0;
      counts.queue = 0;
      counts.table = 0;
    },
    stop: async () => {
      for (const p of proxies) {
        p.closeAllConnections();
        await new Promise<void>((r) => p.close(() => r()));
      }
      await stopProcess(child);
    },
  };
}

// ---- the .NET harness ------------------------------------------------------------------------------------

function run(cmd: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out.slice(-4000)}`)),
    );
  });
}

interface Harness {
  readonly process: ChildProcess;
  readonly client: { rpcBaseUrl: string } & Record<string, unknown>;
}

async function startHarness(env: Record<string, string>): Promise<Harness> {
  const child = spawn('dotnet', [HARNESS_DLL], {
    cwd: HARNESS_DIR,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let errText = '';
  child.stderr?.on('data', (d: Buffer) => {
    errText = (errText + d.toString()).slice(-20_000);
    if (process.env.CONFORMANCE_LOG === '1') process.stderr.write(d);
  });
  const lines = createInterface({ input: child.stdout! });
  const client = await new Promise<Harness['client']>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`harness did not start within 90 s:\n${errText}`)),
      90_000,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`harness exited ${code}:\n${errText}`));
    });
    lines.on('line', (line) => {
      if (!line.startsWith('CLIENT ')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line.slice('CLIENT '.length)) as Harness['client']);
    });
  });
  child.removeAllListeners('exit');
  return { process: child, client };
}

async function killHarness(h: Harness): Promise<void> {
  if (h.process.exitCode !== null || h.process.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    h.process.once('exit', () => resolve());
    h.process.kill('SIGKILL');
  });
}

// ---- observing an instance through a durable client API ---------------------------------------------------

interface StatusJson {
  runtimeStatus: string;
  output?: unknown;
  historyEvents?: Array<Record<string, unknown>>;
}

async function getStatus(rpcBase: string, id: string, history = false): Promise<StatusJson | undefined> {
  const q = history ? '?showHistory=true&showHistoryOutput=false&showInput=false' : '';
  const res = await fetch(`${rpcBase}instances/${encodeURIComponent(id)}${q}`);
  if (res.status === 404) return undefined;
  return (await res.json()) as StatusJson;
}

/** Event type and name of each history entry of the client API's showHistory view. */
function historyShape(status: StatusJson | undefined): string[] {
  return (status?.historyEvents ?? []).map((e) => {
    const name = (e.FunctionName ?? e.Name ?? '') as string;
    return name ? `${String(e.EventType)}:${name}` : String(e.EventType);
  });
}

/** The build result without ids and times. */
function outcomeOf(status: StatusJson | undefined): Record<string, unknown> {
  const out = (status?.output ?? {}) as Record<string, unknown>;
  const error = out.error as Record<string, unknown> | undefined;
  return {
    runtimeStatus: status?.runtimeStatus ?? 'missing',
    result: out.result ?? null,
    errorCode: error?.code ?? null,
  };
}

const TERMINAL = ['Completed', 'Failed', 'Terminated', 'Canceled'];

// ---- the scenarios -----------------------------------------------------------------------------------------

interface Driver {
  readonly engine: Engine;
  /** The app's HTTP API (a local host's front) and its function key. */
  readonly api: () => { baseUrl: string; key: string };
  readonly rpcBase: () => string;
  /** Runs until the build's orchestration waits for its first poll (the run has started). */
  waitUntilRunStarted(instanceId: string): Promise<void>;
  waitForEnd(instanceId: string): Promise<void>;
  /** Stops the engine hard between two steps of the build and starts it again on the same storage. */
  crashAndRestart(): Promise<void>;
}

async function postBuild(d: Driver, definition: string): Promise<{ status: number; buildId?: string }> {
  const { baseUrl, key } = d.api();
  const res = await fetch(`${baseUrl}/api/builds`, {
    method: 'POST',
    headers: { 'x-functions-key': key, 'content-type': 'application/json' },
    body: JSON.stringify({ definition, reason: 'conformance', force: true }),
  });
  const body = (await res.json().catch(() => ({}))) as { buildId?: string };
  return { status: res.status, ...(body.buildId ? { buildId: body.buildId } : {}) };
}

async function runScenario(d: Driver, s: ScenarioName, emu: LocalAzure): Promise<Observation> {
  const definition = definitionOf(s, d.engine);
  const instanceId = buildInstanceId(definition);
  recording = [];
  completed.clear();
  emu.emulator.control.setBuildBehaviour({
    outcome: s === 'customizer-failure' ? 'customizer-failure' : 'success',
  });
  let outcomeExtra: Record<string, unknown> = {};
  if (s === 'concurrent-starts') {
    const answers = await Promise.all([postBuild(d, definition), postBuild(d, definition)]);
    // The durable client API itself, asked to start the running instance again (NonRunningStates).
    const again = await fetch(
      `${d.rpcBase()}orchestrators/${BUILD_ORCHESTRATOR}/${encodeURIComponent(instanceId)}`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
    );
    outcomeExtra = {
      startStatuses: answers.map((a) => a.status).sort(),
      clientApiRestartStatus: again.status,
    };
  } else {
    const started = await postBuild(d, definition);
    if (started.status !== 202)
      throw new Error(`${s}/${d.engine}: POST /api/builds answered ${started.status}`);
    if (s === 'cancel' || s === 'kill-restart') {
      await d.waitUntilRunStarted(instanceId);
      if (s === 'cancel') {
        const { baseUrl, key } = d.api();
        const res = await fetch(`${baseUrl}/api/builds/${encodeURIComponent(started.buildId ?? '')}/cancel`, {
          method: 'POST',
          headers: { 'x-functions-key': key },
        });
        outcomeExtra = { cancelStatus: res.status };
      } else {
        await d.crashAndRestart();
      }
    }
  }
  await d.waitForEnd(instanceId);
  const status = await getStatus(d.rpcBase(), instanceId, true);
  return {
    outcome: { ...outcomeOf(status), ...outcomeExtra },
    activities: [...recording],
    history: historyShape(status),
  };
}

// ---- main ----------------------------------------------------------------------------------------------------

function settingsFor(azure: LocalAzure): Record<string, string> {
  const definitions = SCENARIOS.flatMap((s) => [definitionOf(s, 'local'), definitionOf(s, 'extension')]);
  return {
    ...azure.appSettings,
    DURABLE_TASK_HUB_NAME: 'conformancelocal',
    IMAGE_DEFINITIONS: JSON.stringify(definitions.map((name) => ({ name }))),
    // Real time with short intervals: first poll at 0.3 × 1 minute, then every 5 s (the settings' floor).
    EXPECTED_BUILD_MINUTES: '1',
    POLL_MIN_INTERVAL_SECONDS: '5',
    POLL_MAX_INTERVAL_SECONDS: '5',
    // No timer trigger may fire during a scenario.
    MONTHLY_REBUILD_SCHEDULE: '0 0 0 1 1 *',
    BASE_IMAGE_CHECK_SCHEDULE: '0 0 0 1 1 *',
    JANITOR_SCHEDULE: '0 0 0 1 1 *',
  };
}

/** About 11 s from run start to the end, so that the first poll (18 s after the start) sees it finished. */
const SHORT_PHASES = {
  queued: 1,
  building: 2,
  customizing: 4,
  optimizing: 1,
  validating: 1,
  distributing: 2,
  canceling: 2,
};

async function main(): Promise<number> {
  const started = Date.now();
  const azure = await startLocalAzure();
  setCredentialOverride(new LocalTestCredential());
  resetConfigForTests();
  const settings = settingsFor(azure);
  azure.emulator.control.setBuildBehaviour({ phaseDurations: SHORT_PHASES });
  azure.emulator.control.setTiming({ principalReplicationSeconds: 0 });
  const entry = join(ROOT, 'src', 'functions', 'index.ts');
  const stateDir = mkdtempSync(join(tmpdir(), 'conformance-local-'));
  let local: LocalDurableHost = await startLocalDurableHost({
    entryModules: [entry],
    clock: azure.clock,
    env: settings,
    stateDir,
  });
  recordActivities(local.functions);

  // The proxies come from the registrations the local host captured; build while the local runs go on.
  writeFileSync(join(HARNESS_DIR, 'Proxies.g.cs'), proxiesSource(local.functions.values()));
  const built = run('dotnet', ['build', '-c', 'Release', '--nologo', '-v', 'q'], HARNESS_DIR);
  built.catch(() => {});

  const observations = new Map<string, Observation>();
  const errors = new Map<string, string>();
  const localDriver: Driver = {
    engine: 'local',
    api: () => ({ baseUrl: local.baseUrl, key: local.functionKey }),
    rpcBase: () => `${local.baseUrl}/durabletask/`,
    waitUntilRunStarted: async () => {
      await local.settle();
      if (!completed.has(ACTIVITY.startRun)) throw new Error('the run did not start');
    },
    waitForEnd: async (id) => {
      await local.waitForInstance(id, { timeoutMs: SCENARIO_TIMEOUT_MS });
    },
    crashAndRestart: async () => {
      await local.stop();
      local = await startLocalDurableHost({
        entryModules: [entry],
        clock: azure.clock,
        env: settings,
        stateDir,
      });
      recordActivities(local.functions);
    },
  };
  for (const s of SCENARIOS) {
    try {
      observations.set(`${s}/local`, await runScenario(localDriver, s, azure));
    } catch (err) {
      errors.set(`${s}/local`, String(err));
    }
    log(`${s}: local host done`);
  }

  await built;
  log(`harness built (${Math.round((Date.now() - started) / 1000)} s)`);
  const storage = await startTaskHubStorage();
  const bridge = await startBridge(() => local.functions);
  const bridgeAddr = bridge.address();
  const harnessEnv = {
    AzureWebJobsStorage: storage.connectionString,
    CONFORMANCE_HUB: 'conformanceext',
    CONFORMANCE_BRIDGE_URL: `http://127.0.0.1:${typeof bridgeAddr === 'object' && bridgeAddr ? bridgeAddr.port : 0}`,
  };
  let harness = await startHarness(harnessEnv);
  log(`extension host started; client API ${harness.client.rpcBaseUrl}`);
  // The app's HTTP functions, served by a local host front whose durable client is the extension's.
  const front = await startLocalDurableHost({
    entryModules: [entry],
    clock: azure.clock,
    env: settings,
    durableClientBinding: () => harness.client as never,
  });
  azure.clock.setScale(1);
  let storagePerBuild: { total: number } | undefined;
  const waitExt = async (id: string, until: (s: StatusJson | undefined) => boolean) => {
    const deadline = Date.now() + SCENARIO_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (until(await getStatus(harness.client.rpcBaseUrl, id))) return;
      await sleep(250);
    }
    throw new Error(`instance ${id} did not get there within ${SCENARIO_TIMEOUT_MS / 1000} s`);
  };
  const extDriver: Driver = {
    engine: 'extension',
    api: () => ({ baseUrl: front.baseUrl, key: front.functionKey }),
    rpcBase: () => harness.client.rpcBaseUrl,
    waitUntilRunStarted: async (id) => {
      await waitExt(
        id,
        (st) => completed.has(ACTIVITY.startRun) || TERMINAL.includes(st?.runtimeStatus ?? ''),
      );
      // let the orchestration record the activity result and schedule its first poll timer
      await sleep(1500);
    },
    waitForEnd: (id) => waitExt(id, (st) => TERMINAL.includes(st?.runtimeStatus ?? '')),
    crashAndRestart: async () => {
      await killHarness(harness);
      harness = await startHarness(harnessEnv);
      log(`harness killed and restarted; client API ${harness.client.rpcBaseUrl}`);
    },
  };
  for (const s of SCENARIOS) {
    try {
      if (s === 'success') storage.reset();
      observations.set(`${s}/extension`, await runScenario(extDriver, s, azure));
      if (s === 'success') storagePerBuild = storage.counts();
    } catch (err) {
      errors.set(`${s}/extension`, String(err));
    }
    log(`${s}: extension done`);
  }

  const scenarios = SCENARIOS.map((name) => {
    const l = observations.get(`${name}/local`);
    const x = observations.get(`${name}/extension`);
    const problems = [errors.get(`${name}/local`), errors.get(`${name}/extension`)].filter(Boolean);
    const diffs: string[] = [];
    if (l && x) {
      for (const k of ['outcome', 'activities', 'history'] as const) {
        if (JSON.stringify(l[k]) !== JSON.stringify(x[k])) {
          diffs.push(`${k}: local ${JSON.stringify(l[k])} vs extension ${JSON.stringify(x[k])}`);
        }
      }
    }
    const matches = problems.length === 0 && diffs.length === 0;
    const justified = !matches && problems.length === 0 && DOCUMENTED_DIFFERENCES[name] !== undefined;
    for (const p of problems) log(`${name}: ERROR ${p}`);
    for (const d of diffs) log(`${name}: DIFFERENCE ${d}`);
    if (justified) log(`${name}: documented difference: ${DOCUMENTED_DIFFERENCES[name]}`);
    log(`${name}: extension outcome ${JSON.stringify(x?.outcome ?? null)}`);
    return { name, result: matches || justified ? 'pass' : 'fail', matchesLocalHost: matches };
  });

  await killHarness(harness);
  await front.stop();
  await local.stop();
  bridge.closeAllConnections();
  await new Promise<void>((r) => bridge.close(() => r()));
  await storage.stop();
  await azure.stop();
  setCredentialOverride(undefined);
  resetAzureClients();

  log(`storage requests during the successful build, by service: ${JSON.stringify(storagePerBuild ?? null)}`);
  log(`finished in ${Math.round((Date.now() - started) / 1000)} s`);
  process.stdout.write(
    `${JSON.stringify({
      engine: ENGINE,
      scenarios,
      storageTransactionsPerBuild: storagePerBuild?.total ?? null,
    })}\n`,
  );
  return scenarios.every((s) => s.result === 'pass') ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`conformance: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    const scenarios = SCENARIOS.map((name) => ({ name, result: 'fail', matchesLocalHost: false }));
    process.stdout.write(
      `${JSON.stringify({ engine: ENGINE, scenarios, storageTransactionsPerBuild: null })}\n`,
    );
    process.exit(1);
  },
);
