/**
 * Starts the local stand-ins for Azure together: one certificate, Azurite (blob, queue, table) and the
 * ARM emulator on a shared virtual clock, plus the app settings that point the app at them.
 */
import {
  type ArmEmulator,
  type ArmEmulatorOptions,
  type PropagationSpec,
  startArmEmulator,
} from './arm-emulator/index.js';
import { type AzuriteInstance, DEFAULT_ACCOUNT, startAzurite } from './azurite.js';
import { VirtualClock } from './clock.js';
import { appSettingsFor, DEFAULT_SCENARIO, loadScenario, type Scenario } from './scenarios/index.js';
import { createLocalCertificate, type LocalCertificate } from './tls.js';

/** Simulated seconds per real second for live runs: a default build (about 43 simulated minutes) ends in about 13 s. */
export const DEFAULT_TIME_SCALE = 200;

export interface LocalAzureOptions {
  /** Simulated seconds per real second; omit for a manual clock (moved by the caller). */
  readonly timeScale?: number;
  /** A scenario JSON file (default: the built-in default scenario). */
  readonly scenarioFile?: string;
  /** JSON lines of every ARM exchange. */
  readonly recordFile?: string;
  /** A scenario object (instead of a file). */
  readonly scenario?: Scenario;
  /** Overrides the scenario's role assignment propagation delay. */
  readonly rbacPropagationSeconds?: PropagationSpec;
  /** A clock to share (e.g. the local Durable host's); timeScale is then ignored. */
  readonly clock?: VirtualClock;
  /** The certificate to use (default: a new one in a temp dir). */
  readonly certificate?: LocalCertificate;
  /** Kept across restarts (`npm run local -- --state DIR`): fixed ports and on-disk state. */
  readonly persistent?: {
    readonly ports: {
      readonly arm: number;
      readonly blob: number;
      readonly queue: number;
      readonly table: number;
    };
    /** Azurite's --location. */
    readonly azuriteLocation: string;
    /** Where the Azurite child's pid is kept (to stop an orphan on the next start). */
    readonly azuritePidFile: string;
    /** The ARM emulator's state file: restored when it exists (the scenario is then not seeded again). */
    readonly armStateFile: string;
  };
}

export interface LocalAzure {
  readonly certificate: LocalCertificate;
  readonly azurite: AzuriteInstance;
  readonly emulator: ArmEmulator;
  readonly clock: VirtualClock;
  readonly appSettings: Record<string, string>;
  stop(): Promise<void>;
}

export async function startLocalAzure(o: LocalAzureOptions = {}): Promise<LocalAzure> {
  if (o.timeScale !== undefined && (!Number.isFinite(o.timeScale) || o.timeScale <= 0)) {
    throw new Error(
      `timeScale must be a positive number of simulated seconds per real second (got ${o.timeScale})`,
    );
  }
  const scenario = o.scenario ?? (o.scenarioFile ? loadScenario(o.scenarioFile) : DEFAULT_SCENARIO);
  const certificate = o.certificate ?? (await createLocalCertificate());
  const p = o.persistent;
  const azurite = await startAzurite({
    certificate,
    ...(p
      ? {
          location: p.azuriteLocation,
          ports: p.ports,
          pidFile: p.azuritePidFile,
          // On-disk metadata is flushed on SIGTERM; give it time before a SIGKILL.
          stopGraceMs: 20_000,
        }
      : {}),
  });
  const clock = o.clock ?? new VirtualClock(undefined, o.timeScale);
  let emulator: ArmEmulator;
  try {
    const emulatorOptions: ArmEmulatorOptions = {
      certificate,
      clock,
      scenario,
      storage: {
        blobEndpoint: azurite.endpoints.blob,
        stagingAccounts: azurite.accounts.filter((a) => a !== DEFAULT_ACCOUNT),
      },
      ...(o.recordFile ? { recordFile: o.recordFile } : {}),
      ...(o.rbacPropagationSeconds !== undefined ? { rbacPropagationSeconds: o.rbacPropagationSeconds } : {}),
      // The emulated Azure outlives the process: its state file, and `crash` faults (control API) allowed.
      ...(p ? { port: p.ports.arm, stateFile: p.armStateFile, crashFaults: true } : {}),
    };
    emulator = await startArmEmulator(emulatorOptions);
  } catch (e) {
    await azurite.stop();
    throw e;
  }
  const appSettings = appSettingsFor(emulator, {
    blobAccountUrl: azurite.blobAccountUrl(),
    tableEndpoint: azurite.tableAccountUrl(),
  });
  return {
    certificate,
    azurite,
    emulator,
    clock,
    appSettings,
    async stop() {
      await emulator.stop();
      await azurite.stop();
    },
  };
}
