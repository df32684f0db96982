/**
 * `jumpbox-builder emulator [--time-scale N] [--scenario FILE] [--record FILE]`: starts Azurite and the ARM
 * emulator, prints one JSON line with the endpoints, and runs until SIGINT/SIGTERM, then stops both.
 * `--scenario` is the same option as in `local` and `simulate` (it was `--seed` here; that name is refused
 * with a pointer to the new one, so scripts fail loudly instead of silently ignoring it).
 */
import { type CliCommand, UsageError } from '../dispatch.js';

/** Same value as DEFAULT_TIME_SCALE in src/local/local-azure.ts (not imported: usage errors stay fast). */
const DEFAULT_TIME_SCALE = 200;

export interface EmulatorArgs {
  readonly timeScale: number;
  readonly scenario?: string;
  readonly record?: string;
}

export const EMULATOR_USAGE = `usage: jumpbox-builder emulator [--time-scale N] [--scenario FILE] [--record FILE]

Starts Azurite and the local ARM emulator, prints one JSON line (armEndpoint, caCertPath, controlEndpoint,
subscriptionId, storage) on stdout and runs until Ctrl+C (SIGINT) or SIGTERM.
  --time-scale N     simulated seconds per real second (default ${DEFAULT_TIME_SCALE})
  --scenario FILE    JSON scenario the emulator starts with (default: the built-in valid environment)
  --record FILE      record every ARM request and response to FILE

Exit codes: 0 stopped by a signal; 1 the stand-ins failed to start or stop; 2 usage error.
`;

export function parseEmulatorArgs(argv: readonly string[]): EmulatorArgs {
  let timeScale = DEFAULT_TIME_SCALE;
  let scenario: string | undefined;
  let record: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--time-scale') {
      const raw = value();
      timeScale = Number(raw);
      if (!Number.isFinite(timeScale) || timeScale <= 0) {
        throw new UsageError(
          `--time-scale must be a positive number of simulated seconds per real second (got "${raw}")`,
        );
      }
    } else if (arg === '--scenario') scenario = value();
    else if (arg === '--record') record = value();
    else if (arg === '--seed') {
      throw new UsageError('--seed is now --scenario FILE (the same option as in local and simulate)');
    } else
      throw new UsageError(`unknown option ${arg}; options: --time-scale N, --scenario FILE, --record FILE`);
  }
  return { timeScale, ...(scenario ? { scenario } : {}), ...(record ? { record } : {}) };
}

export const command: CliCommand = {
  summary: 'run Azurite + the local ARM emulator (prints one JSON line of endpoints; Ctrl+C stops)',
  usage: EMULATOR_USAGE,
  async run(argv) {
    const args = parseEmulatorArgs(argv);
    const { startLocalAzure } = await import('../../local/local-azure.js');
    const local = await startLocalAzure({
      timeScale: args.timeScale,
      ...(args.scenario ? { scenarioFile: args.scenario } : {}),
      ...(args.record ? { recordFile: args.record } : {}),
    });
    process.stdout.write(
      `${JSON.stringify({
        armEndpoint: local.emulator.armEndpoint,
        caCertPath: local.emulator.caCertPath,
        controlEndpoint: local.emulator.controlEndpoint,
        subscriptionId: local.emulator.subscriptionId,
        storage: local.azurite.endpoints,
      })}\n`,
    );
    return new Promise<number>((resolve) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`emulator: ${signal} received, stopping\n`);
        local.stop().then(
          () => resolve(0),
          (e: unknown) => {
            process.stderr.write(`emulator: stop failed: ${e instanceof Error ? e.message : String(e)}\n`);
            resolve(1);
          },
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  },
};
