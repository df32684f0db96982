/**
 * The entry points on the local Durable host with the real DurableClient, against the ARM emulator and the
 * shared Azurite: the app's HTTP/timer/Event Grid/notify registrations plus a stand-in build orchestrator.
 */
import { fileURLToPath } from 'node:url';
import { setCredentialOverride } from '../../src/azure/clients.js';
import { type LocalDurableHost, startLocalDurableHost } from '../../src/local/durable-host/index.js';
import { LocalTestCredential } from '../../src/local/test-credential.js';
import { type EmulatorHarness, startTestEmulator } from '../support/emulator.js';

const fn = (name: string) => fileURLToPath(new URL(`../../src/functions/${name}.ts`, import.meta.url));

export const ENTRY_POINT_MODULES = [
  fn('http-start-build'),
  fn('http-list-builds'),
  fn('http-get-build'),
  fn('http-cancel-build'),
  fn('http-list-definitions'),
  fn('http-openapi'),
  fn('timer-monthly-rebuild'),
  fn('timer-base-image-check'),
  fn('eventgrid-base-image'),
  fn('activity-notify'),
];
export const STUB_ORCHESTRATOR = fileURLToPath(
  new URL('./fixtures/stub-build-orchestrator.ts', import.meta.url),
);

export interface AppHost {
  readonly host: LocalDurableHost;
  readonly harness: EmulatorHarness;
  call(
    method: string,
    path: string,
    o?: { body?: unknown; rawBody?: string; headers?: Record<string, string>; key?: string | null },
  ): Promise<{ status: number; headers: Headers; body: unknown }>;
  stop(): Promise<void>;
}

/** The whole app (every registration, the real build orchestrator): src/functions/index.ts. */
export const APP_ENTRY = fn('index');

export async function startAppHost(
  o: { definitions?: string[]; env?: Record<string, string>; entryModules?: string[] } = {},
): Promise<AppHost> {
  const harness = await startTestEmulator();
  setCredentialOverride(new LocalTestCredential());
  const definitions = o.definitions ?? ['aks-jumpbox'];
  const host = await startLocalDurableHost({
    entryModules: o.entryModules ?? [...ENTRY_POINT_MODULES, STUB_ORCHESTRATOR],
    clock: harness.clock,
    env: {
      ...harness.appSettings,
      DURABLE_TASK_HUB_NAME: `entry${process.pid}`,
      IMAGE_DEFINITIONS: JSON.stringify(definitions.map((name) => ({ name }))),
      RECORDS_TABLE_NAME: `builds${process.pid}${Date.now() % 100000}`,
      ...o.env,
    },
  });
  return {
    host,
    harness,
    async call(method, path, c = {}) {
      const headers: Record<string, string> = { ...(c.headers ?? {}) };
      if (c.key !== null) headers['x-functions-key'] = c.key ?? host.functionKey;
      let body: string | undefined = c.rawBody;
      if (c.body !== undefined) {
        body = JSON.stringify(c.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${host.baseUrl}${path}`, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {}
      return { status: res.status, headers: res.headers, body: parsed };
    },
    async stop() {
      await host.stop();
      await harness.emulator.stop();
    },
  };
}
