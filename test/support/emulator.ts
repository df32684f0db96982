/**
 * Test helper: an ARM emulator in-process against the shared test Azurite, with a fresh manual virtual
 * clock, real SDK clients (factory + LocalTestCredential + the local CA) and the app settings; stopped
 * after the file's tests.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll } from 'vitest';
import { type AzureClients, createAzureClients } from '../../src/azure/clients.js';
import {
  type ArmEmulator,
  type ArmEmulatorOptions,
  startArmEmulator,
} from '../../src/local/arm-emulator/index.js';
import { STAGING_ACCOUNT_POOL } from '../../src/local/azurite.js';
import { VirtualClock } from '../../src/local/clock.js';
import { appSettingsFor } from '../../src/local/scenarios/index.js';
import { LocalTestCredential } from '../../src/local/test-credential.js';
import { sharedAzurite } from './azurite.js';
import { fidelityIssues, specsAvailable } from './oav.js';

export interface EmulatorHarness {
  readonly emulator: ArmEmulator;
  readonly clients: AzureClients;
  readonly clock: VirtualClock;
  readonly appSettings: Record<string, string>;
}

export async function startTestEmulator(
  options: Partial<
    Pick<
      ArmEmulatorOptions,
      'scenario' | 'recordFile' | 'rbacPropagationSeconds' | 'stateFile' | 'port' | 'crashFaults'
    >
  > & {
    maxRetries?: number;
    /** A clock to use (e.g. the one an earlier emulator on the same state file ran on). */
    clock?: VirtualClock;
  } = {},
): Promise<EmulatorHarness> {
  const a = sharedAzurite();
  const clock = options.clock ?? new VirtualClock();
  const recordFile = options.recordFile ?? process.env.ARM_EMULATOR_RECORD_DIR;
  const emulator = await startArmEmulator({
    certificate: {
      cert: a.caCertPem,
      key: await readFile(a.keyPath, 'utf8'),
      certPath: a.certPath,
      keyPath: a.keyPath,
    },
    clock,
    storage: {
      blobEndpoint: a.endpoints.blob,
      stagingAccounts: a.accounts.filter((x) => STAGING_ACCOUNT_POOL.includes(x)),
    },
    ...(options.scenario ? { scenario: options.scenario } : {}),
    ...(options.stateFile ? { stateFile: options.stateFile } : {}),
    ...(options.crashFaults ? { crashFaults: true } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    // Role assignments take effect at once unless a test asks for propagation (docs/emulator.md).
    rbacPropagationSeconds: options.rbacPropagationSeconds ?? options.scenario?.rbacPropagationSeconds ?? 0,
    ...(recordFile
      ? {
          recordFile: recordFile.endsWith('.jsonl')
            ? recordFile
            : `${recordFile}/${process.pid}-${Date.now()}.jsonl`,
        }
      : {}),
  });
  const raw = emulator;
  // Fidelity: when a test stops its emulator, everything it sent and received must match the REST specs.
  const checked: ArmEmulator = {
    ...raw,
    async stop() {
      await raw.stop();
      await assertSpecFidelity(raw);
    },
  };
  const clients = createAzureClients({
    subscriptionId: emulator.subscriptionId,
    armEndpoint: emulator.armEndpoint,
    caCert: { pem: a.caCertPem },
    credential: new LocalTestCredential(),
    maxRetries: options.maxRetries ?? 2,
  });
  const appSettings = appSettingsFor(emulator, {
    blobAccountUrl: `${a.endpoints.blob}/devstoreaccount1`,
    tableEndpoint: `${a.endpoints.table}/devstoreaccount1`,
  });
  return { emulator: checked, clients, clock, appSettings };
}

/**
 * Throws when the emulator's recorded traffic for the specified providers does not validate against
 * ../shared/specs with oav's LiveValidator (skipped only when the specs are absent).
 */
export async function assertSpecFidelity(emulator: ArmEmulator): Promise<void> {
  if (!specsAvailable()) return;
  const issues = await fidelityIssues(emulator.state.requests());
  if (issues.length > 0) {
    throw new Error(
      `ARM traffic does not match the REST specifications (${issues.length}):\n${issues.slice(0, 25).join('\n')}`,
    );
  }
}

/** Starts one emulator for the calling test file and stops it after its tests. */
export function useEmulator(options: Parameters<typeof startTestEmulator>[0] = {}): () => EmulatorHarness {
  let harness: EmulatorHarness | undefined;
  beforeAll(async () => {
    harness = await startTestEmulator(options);
  });
  afterAll(async () => {
    await harness?.emulator.stop();
  });
  return () => {
    if (!harness)
      throw new Error('useEmulator(): the emulator is started in beforeAll; read it inside a test');
    return harness;
  };
}

/**
 * A raw ARM call with the test credential and the local CA, for checks below the SDKs (malformed
 * requests, headers, api-versions). `path` starts at `/subscriptions/...` and carries its api-version.
 */
export async function armRequest(
  h: EmulatorHarness,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; headers: Record<string, string>; body: unknown }> {
  const token = await h.clients.credential.getToken(`${h.emulator.armEndpoint}/.default`);
  const { request } = await import('node:https');
  const ca = await readFile(h.emulator.caCertPath, 'utf8');
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${h.emulator.armEndpoint}${path}`,
      {
        method,
        ca,
        headers: {
          authorization: `Bearer ${token!.token}`,
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }
            : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)])),
            body: text ? (JSON.parse(text) as unknown) : undefined,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
