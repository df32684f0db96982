/**
 * `npm run local` = `jumpbox-builder local [--time-scale N] [--port P] [--scenario FILE] [--record FILE]`:
 * the whole app on the local Durable host against emulated Azure (Azurite + the ARM emulator with its
 * default scenario, on one virtual clock at a demo speed) - like `func start`, with no Azure needed.
 * Prints ONE JSON line {"baseUrl","functionKey","armEndpoint","controlEndpoint"} on stdout, then runs until
 * SIGINT/SIGTERM and stops everything. The function key is a random local key for this run only.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setCredentialOverride } from '../../azure/clients.js';
import { startLocalDurableHost } from '../../local/durable-host/index.js';
import { startLocalAzure } from '../../local/local-azure.js';
import { CLI_DEFAULT_SCENARIO, loadScenario } from '../../local/scenarios/index.js';
import { LocalTestCredential } from '../../local/test-credential.js';
import type { CliCommand } from '../dispatch.js';

/** Simulated seconds per real second: a default 40-minute build takes about 40 s. */
export const DEFAULT_LOCAL_TIME_SCALE = 60;

export class LocalUsageError extends Error {}

export interface LocalArgs {
  readonly timeScale: number;
  readonly port: number;
  readonly scenario?: string | undefined;
  readonly record?: string | undefined;
}

export function parseLocalArgs(argv: readonly string[]): LocalArgs {
  let timeScale = DEFAULT_LOCAL_TIME_SCALE;
  let port = 0;
  let scenario: string | undefined;
  let record: string | undefined;
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
    else {
      throw new LocalUsageError(
        `unknown option ${arg}; options: --time-scale N (default ${DEFAULT_LOCAL_TIME_SCALE}), --port P, --scenario FILE, --record FILE`,
      );
    }
  }
  return { timeScale, port, scenario, record };
}

/** src/functions/index.ts under tsx, dist/src/functions/index.js when compiled. */
function appEntryModule(): string {
  const ext = extname(fileURLToPath(import.meta.url));
  return fileURLToPath(new URL(`../../functions/index${ext}`, import.meta.url));
}

export const command: CliCommand = {
  summary: 'run the whole app locally on emulated Azure (prints one JSON line: baseUrl, functionKey, ...)',
  async run(argv) {
    let args: LocalArgs;
    try {
      args = parseLocalArgs(argv);
    } catch (e) {
      if (!(e instanceof LocalUsageError)) throw e;
      process.stderr.write(`jumpbox-builder local: ${e.message}\n`);
      return 2;
    }
    const azure = await startLocalAzure({
      timeScale: args.timeScale,
      // Realistic role assignment propagation (30 s to 10 min) unless the scenario file says otherwise.
      scenario: args.scenario ? loadScenario(args.scenario, CLI_DEFAULT_SCENARIO) : CLI_DEFAULT_SCENARIO,
      ...(args.record ? { recordFile: args.record } : {}),
    });
    // The app's own clients reach the stand-ins with a dummy token; production never sets this.
    setCredentialOverride(new LocalTestCredential());
    let host: Awaited<ReturnType<typeof startLocalDurableHost>>;
    try {
      host = await startLocalDurableHost({
        entryModules: [appEntryModule()],
        clock: azure.clock,
        port: args.port,
        env: { ...azure.appSettings, DURABLE_TASK_HUB_NAME: 'jumpboxlocal' },
      });
    } catch (e) {
      await azure.stop();
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
      `local: app on ${host.baseUrl} (${host.functions.size} functions), virtual clock x${args.timeScale}; Ctrl+C stops\n`,
    );
    return new Promise<number>((resolve) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`local: ${signal} received, stopping\n`);
        host
          .stop()
          .then(() => azure.stop())
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
