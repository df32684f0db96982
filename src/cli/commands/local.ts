/**
 * `npm run local` = `jumpbox-builder local [--time-scale N] [--port P] [--scenario FILE] [--record FILE] [--app DIR] [--state DIR]`:
 * the whole app on the local Durable host against emulated Azure (Azurite + the ARM emulator with its
 * default scenario, on one virtual clock at a demo speed) - like `func start`, with no Azure needed.
 * `--app DIR` runs an unpacked deployment package (`npm run package`) instead of this source tree: the host
 * loads DIR/package.json's "main" with DIR's own node_modules, exactly the files Azure would run.
 * Prints ONE JSON line {"baseUrl","functionKey","armEndpoint","controlEndpoint"} on stdout, then runs until
 * SIGINT/SIGTERM and stops everything. The function key is a random local key for this run only.
 * `--state DIR` keeps everything in DIR (src/local/local-state.ts): the process may be killed at any moment
 * and restarted on the same DIR, with the same URLs and key, and the work in flight carries on.
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setCredentialOverride } from '../../azure/clients.js';
import { startLocalDurableHost } from '../../local/durable-host/index.js';
import { startLocalAzure } from '../../local/local-azure.js';
import {
  LOCAL_TASK_HUB,
  LocalPortError,
  LocalStateError,
  type PreparedLocalState,
  prepareLocalState,
} from '../../local/local-state.js';
import { CLI_DEFAULT_SCENARIO, loadScenario, type Scenario } from '../../local/scenarios/index.js';
import { LocalTestCredential } from '../../local/test-credential.js';
import { loadOrCreateLocalCertificate } from '../../local/tls.js';
import { writeFileAtomic } from '../../local/write-atomic.js';
import type { CliCommand } from '../dispatch.js';

/** Simulated seconds per real second: a default 40-minute build takes about 40 s. */
export const DEFAULT_LOCAL_TIME_SCALE = 60;

export class LocalUsageError extends Error {}

export const LOCAL_USAGE = `usage: jumpbox-builder local [--time-scale N] [--port P] [--scenario FILE] [--record FILE] [--app DIR] [--state DIR]

Runs the whole app on the local Durable host against emulated Azure (Azurite + the ARM emulator), prints
ONE JSON line {"baseUrl","functionKey","armEndpoint","controlEndpoint"} on stdout and runs until Ctrl+C.
  --time-scale N     simulated seconds per real second (default ${DEFAULT_LOCAL_TIME_SCALE}; with --state: the saved one)
  --port P           HTTP port of the app (default 0: any free port)
  --scenario FILE    JSON scenario the ARM emulator starts with (default: the built-in valid environment)
  --record FILE      record every ARM request and response to FILE
  --app DIR          run an unpacked deployment package (npm run package) instead of this source tree
  --state DIR        keep everything in DIR (created if missing, 0700: it holds the function key); killed at
                     any moment and restarted with the same DIR, the app carries on with the same URLs, key,
                     ports and data, and virtual time has flowed meanwhile. On a restart --scenario and --port
                     are fixed by DIR (only the first start applies them); a new --time-scale applies from now.

Environment: LOCAL_CRASH_EVERY_EPISODES=N (crash tests, with --state only) kills this process with SIGKILL
right after every N-th orchestration episode it commits.

Exit codes: 0 stopped by a signal; 1 the stand-ins failed to start or stop, or a port saved in DIR is taken;
2 usage error (including a --state DIR that is a file, foreign, or used by a running local).
`;

export interface LocalArgs {
  readonly timeScale: number;
  /** --time-scale was on the command line (a restart on --state otherwise keeps the saved scale). */
  readonly timeScaleGiven: boolean;
  readonly port: number;
  readonly scenario?: string | undefined;
  readonly record?: string | undefined;
  readonly app?: string | undefined;
  readonly state?: string | undefined;
}

export function parseLocalArgs(argv: readonly string[]): LocalArgs {
  let timeScale = DEFAULT_LOCAL_TIME_SCALE;
  let timeScaleGiven = false;
  let port = 0;
  let state: string | undefined;
  let scenario: string | undefined;
  let record: string | undefined;
  let app: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new LocalUsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--time-scale') {
      const raw = value();
      timeScale = Number(raw);
      timeScaleGiven = true;
      if (!Number.isFinite(timeScale) || timeScale <= 0) {
        throw new LocalUsageError(
          `--time-scale must be a positive number of simulated seconds per real second, got "${raw}"`,
        );
      }
    } else if (arg === '--port') {
      const raw = value();
      port = Number(raw);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new LocalUsageError(`--port must be a TCP port from 0 (any free port) to 65535, got "${raw}"`);
      }
    } else if (arg === '--scenario') scenario = value();
    else if (arg === '--record') record = value();
    else if (arg === '--app') app = value();
    else if (arg === '--state') {
      state = value();
      if (state.trim() === '') throw new LocalUsageError('--state needs a directory path, got ""');
    } else {
      throw new LocalUsageError(
        `unknown option ${arg}; options: --time-scale N (default ${DEFAULT_LOCAL_TIME_SCALE}), --port P, --scenario FILE, --record FILE, --app DIR, --state DIR`,
      );
    }
  }
  return { timeScale, timeScaleGiven, port, scenario, record, app, state };
}

/**
 * LOCAL_CRASH_EVERY_EPISODES=N (crash tests of `--state`): SIGKILL this process right after every N-th
 * orchestration episode it commits. Only with --state, which is what a restart carries on from.
 */
export function crashEveryEpisodes(raw: string | undefined, state: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new LocalUsageError(
      `LOCAL_CRASH_EVERY_EPISODES must be a whole number of episodes >= 1, got "${raw}"; unset it to run without crashes`,
    );
  }
  if (state === undefined) {
    throw new LocalUsageError(
      'LOCAL_CRASH_EVERY_EPISODES needs --state DIR: without it a crash loses the emulated Azure and the app state',
    );
  }
  return n;
}

/** The entry module of an unpacked package: DIR/package.json "main", which must exist. */
export function packagedAppEntry(dir: string): string {
  const root = resolve(dir);
  const manifest = resolve(root, 'package.json');
  if (!existsSync(manifest)) {
    throw new LocalUsageError(
      `--app ${dir}: no package.json there; unpack the zip that \`npm run package\` prints`,
    );
  }
  const main = (JSON.parse(readFileSync(manifest, 'utf8')) as { main?: unknown }).main;
  if (typeof main !== 'string' || main === '')
    throw new LocalUsageError(`--app ${dir}: package.json has no "main"`);
  const entry = resolve(root, main);
  if (!existsSync(entry)) throw new LocalUsageError(`--app ${dir}: "main" (${main}) is not in the package`);
  return entry;
}

/**
 * The package's own copy of src/azure/clients.ts (next to its main, as in the source tree): a separate module
 * instance from this CLI's, so the local credential must be set there too.
 */
async function useLocalCredentialIn(entry: string, credential: LocalTestCredential): Promise<void> {
  const clientsUrl = new URL('../azure/clients.js', pathToFileURL(entry));
  if (!existsSync(fileURLToPath(clientsUrl))) {
    throw new LocalUsageError(
      `--app: ${fileURLToPath(clientsUrl)} is missing; is this a package of this app?`,
    );
  }
  const clients = (await import(clientsUrl.href)) as {
    setCredentialOverride?: (c: LocalTestCredential) => void;
  };
  if (typeof clients.setCredentialOverride !== 'function') {
    throw new LocalUsageError(`--app: ${fileURLToPath(clientsUrl)} exports no setCredentialOverride`);
  }
  clients.setCredentialOverride(credential);
}

/** The host's episode hook that kills this process after every `every`-th committed episode. */
function crashAfterEpisodes(every: number): (info: { instanceId: string }) => void {
  let episodes = 0;
  return (info) => {
    episodes += 1;
    if (episodes % every !== 0) return;
    process.stderr.write(
      `local: LOCAL_CRASH_EVERY_EPISODES=${every}: SIGKILL after episode ${episodes} (${info.instanceId})\n`,
    );
    process.kill(process.pid, 'SIGKILL');
  };
}

/** src/functions/index.ts under tsx, dist/src/functions/index.js when compiled. */
function appEntryModule(): string {
  const ext = extname(fileURLToPath(import.meta.url));
  return fileURLToPath(new URL(`../../functions/index${ext}`, import.meta.url));
}

export const command: CliCommand = {
  summary: 'run the whole app locally on emulated Azure (prints one JSON line: baseUrl, functionKey, ...)',
  usage: LOCAL_USAGE,
  async run(argv) {
    let args: LocalArgs;
    let crashEvery: number | undefined;
    let entry: string;
    try {
      args = parseLocalArgs(argv);
      crashEvery = crashEveryEpisodes(process.env.LOCAL_CRASH_EVERY_EPISODES, args.state);
      entry = args.app ? packagedAppEntry(args.app) : appEntryModule();
    } catch (e) {
      if (!(e instanceof LocalUsageError)) throw e;
      process.stderr.write(`jumpbox-builder local: ${e.message}\n`);
      return 2;
    }
    // Realistic role assignment propagation (30 s to 10 min) unless the scenario file says otherwise.
    const scenarioFromArgs = (): Scenario =>
      args.scenario ? loadScenario(args.scenario, CLI_DEFAULT_SCENARIO) : CLI_DEFAULT_SCENARIO;
    let state: PreparedLocalState | undefined;
    let scenario: Scenario;
    try {
      if (args.state) {
        state = await prepareLocalState(
          {
            dir: args.state,
            timeScale: args.timeScale,
            timeScaleGiven: args.timeScaleGiven,
            port: args.port,
            scenarioFile: args.scenario,
            log: (line) => process.stderr.write(`${line}\n`),
          },
          (path) => writeFileAtomic(path, `${JSON.stringify(scenarioFromArgs(), null, 2)}\n`),
        );
        // The copy made on the first start: a restart runs in the environment it started in.
        scenario = loadScenario(state.paths.scenario, CLI_DEFAULT_SCENARIO);
      } else scenario = scenarioFromArgs();
    } catch (e) {
      if (e instanceof LocalStateError) {
        process.stderr.write(`jumpbox-builder local: ${e.message}\n`);
        return 2;
      }
      if (e instanceof LocalPortError) {
        process.stderr.write(`jumpbox-builder local: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
    const saved = state?.config;
    let azure: Awaited<ReturnType<typeof startLocalAzure>>;
    try {
      azure = await startLocalAzure({
        ...(state && saved
          ? {
              clock: state.clock,
              certificate: await loadOrCreateLocalCertificate(state.paths.tls),
              persistent: {
                ports: saved.ports,
                azuriteLocation: state.paths.azurite,
                azuritePidFile: state.paths.azuritePid,
                armStateFile: state.paths.armState,
              },
            }
          : { timeScale: args.timeScale }),
        scenario,
        ...(args.record ? { recordFile: args.record } : {}),
      });
    } catch (e) {
      state?.release();
      throw e;
    }
    // The app's own clients reach the stand-ins with a dummy token; production never sets this.
    setCredentialOverride(new LocalTestCredential());
    let host: Awaited<ReturnType<typeof startLocalDurableHost>>;
    try {
      if (args.app) await useLocalCredentialIn(entry, new LocalTestCredential());
      host = await startLocalDurableHost({
        entryModules: [entry],
        clock: azure.clock,
        port: saved?.ports.app ?? args.port,
        env: { ...azure.appSettings, DURABLE_TASK_HUB_NAME: saved?.taskHub ?? LOCAL_TASK_HUB },
        ...(state && saved ? { stateDir: state.paths.durable, functionKey: saved.functionKey } : {}),
        ...(crashEvery ? { onEpisode: crashAfterEpisodes(crashEvery) } : {}),
      });
    } catch (e) {
      await azure.stop();
      state?.release();
      throw e;
    }
    process.stdout.write(
      `${JSON.stringify({
        baseUrl: host.baseUrl,
        functionKey: host.functionKey,
        armEndpoint: azure.emulator.armEndpoint,
        controlEndpoint: azure.emulator.controlEndpoint,
      })}\n`,
    );
    process.stderr.write(
      `local: app${args.app ? ` from ${resolve(args.app)}` : ''} on ${host.baseUrl} (${host.functions.size} functions), virtual clock x${azure.clock.scale ?? 'manual'}${state ? `, state in ${state.paths.dir} (${state.firstStart ? 'new' : 'restarted'})` : ''}; Ctrl+C stops\n`,
    );
    process.stderr.write(`local: functions: ${[...host.functions.keys()].sort().join(', ')}\n`);
    return new Promise<number>((resolve) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`local: ${signal} received, stopping\n`);
        host
          .stop()
          .then(() => azure.stop())
          .then(() => state?.release())
          .then(
            () => resolve(0),
            (e: unknown) => {
              process.stderr.write(`local: stop failed: ${e instanceof Error ? e.message : String(e)}\n`);
              resolve(1);
            },
          );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  },
};
