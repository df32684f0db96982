/**
 * End-to-end harness for the build orchestration: the ARM emulator (default scenario) against the shared
 * Azurite, the app's real registrations (src/functions/index.ts) on the local Durable host, one manual
 * virtual clock. Builds start through the app's own POST /api/builds.
 *
 * Stand-in limitation handled here: Azurite does not forward x-ms-copy-source-authorization when it
 * fetches a copy source, so the staging accounts' `packerlogs` containers are made readable without
 * credentials locally; on Azure the archive copy authenticates to the source with the app's token.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setCredentialOverride } from '../../src/azure/clients.js';
import type { ImageDefinitionInput } from '../../src/image/definition.js';
import type { AssignmentView } from '../../src/local/arm-emulator/index.js';
import {
  type EpisodeInfo,
  type LocalDurableHost,
  startLocalDurableHost,
} from '../../src/local/durable-host/index.js';
import { LocalTestCredential } from '../../src/local/test-credential.js';
import { BUILD_ORCHESTRATOR, type BuildOutput, buildInstanceId } from '../../src/orchestration/contracts.js';
import { BuildRecordStore } from '../../src/records/build-records.js';
import { type EmulatorHarness, startTestEmulator } from '../support/emulator.js';

export const ENTRY_MODULE = fileURLToPath(new URL('../../src/functions/index.ts', import.meta.url));

export interface BuildHost {
  readonly host: LocalDurableHost;
  readonly harness: EmulatorHarness;
  readonly records: BuildRecordStore;
  readonly env: Record<string, string>;
  /** POST /api/builds; returns the build id. */
  startBuild(definition: string, body?: { force?: boolean; reason?: string }): Promise<string>;
  /** Drives virtual time until the definition's instance ends; returns its output. */
  finish(definition: string): Promise<{ runtimeStatus: string; output: BuildOutput }>;
  /**
   * Like finish, but moves the clock in steps and lets the actions registered with whenRunReaches
   * complete (e.g. an HTTP cancel request) before time moves on.
   */
  finishStepwise(
    definition: string,
    stepSeconds?: number,
  ): Promise<{ runtimeStatus: string; output: BuildOutput }>;
  /** Image Contributor assignments on the destination resource group (emulator state). */
  imageContributorAssignments(): AssignmentView[];
  /**
   * Runs `action` once, the first time the clock moves while the definition's template is in `subState`
   * (the run is in progress); returns a promise of the action's completion.
   */
  whenRunReaches(subState: string, action: () => Promise<unknown>): Promise<unknown>;
  /** Makes the staging log containers readable for the copy (see the header). */
  stop(): Promise<void>;
}

export async function startBuildHost(
  o: {
    definitions?: ImageDefinitionInput[];
    env?: Record<string, string>;
    onEpisode?: (info: EpisodeInfo) => void;
  } = {},
): Promise<BuildHost> {
  const harness = await startTestEmulator();
  setCredentialOverride(new LocalTestCredential());
  const definitions = o.definitions ?? [{ name: 'aks-jumpbox' }];
  const env: Record<string, string> = {
    ...harness.appSettings,
    DURABLE_TASK_HUB_NAME: `orch${process.pid}`,
    IMAGE_DEFINITIONS: JSON.stringify(definitions),
    RECORDS_TABLE_NAME: `builds${process.pid}${randomUUID().replace(/-/g, '').slice(0, 8)}`,
    ARCHIVE_CONTAINER: `aib-logs-${randomUUID().slice(0, 8)}`,
    ...o.env,
  };
  const host = await startLocalDurableHost({
    entryModules: [ENTRY_MODULE],
    clock: harness.clock,
    env,
    ...(o.onEpisode ? { onEpisode: o.onEpisode } : {}),
  });
  const records = new BuildRecordStore(
    harness.clients.table(env.RECORDS_TABLE_ENDPOINT!, env.RECORDS_TABLE_NAME!),
  );
  const destination =
    `/subscriptions/${harness.emulator.subscriptionId}/resourceGroups/${env.IMAGE_DESTINATION_RESOURCE_GROUP}`.toLowerCase();
  const imageContributorGuid = env.IMAGE_CONTRIBUTOR_ROLE_ID!.slice(
    env.IMAGE_CONTRIBUTOR_ROLE_ID!.lastIndexOf('/') + 1,
  );

  const pending = new Set<Promise<unknown>>();

  return {
    host,
    harness,
    records,
    env,
    async startBuild(definition, body = {}) {
      const res = await fetch(`${host.baseUrl}/api/builds`, {
        method: 'POST',
        headers: { 'x-functions-key': host.functionKey, 'content-type': 'application/json' },
        body: JSON.stringify({ definition, reason: 'e2e', ...body }),
      });
      const json = (await res.json()) as { buildId?: string };
      if (res.status !== 202 || !json.buildId)
        throw new Error(`start failed: ${res.status} ${JSON.stringify(json)}`);
      return json.buildId;
    },
    async finish(definition) {
      const s = await host.waitForInstance(buildInstanceId(definition), { timeoutMs: 60_000 });
      return { runtimeStatus: s.runtimeStatus, output: s.output as BuildOutput };
    },
    imageContributorAssignments() {
      return harness.emulator.state
        .roleAssignments()
        .filter(
          (a) =>
            a.scope.toLowerCase() === destination &&
            a.roleDefinitionId.toLowerCase().endsWith(imageContributorGuid),
        );
    },
    async finishStepwise(definition, stepSeconds = 60) {
      const id = buildInstanceId(definition);
      for (let i = 0; i < 20_000; i++) {
        await host.settle();
        const s = await host.getStatus(id);
        if (s && ['Completed', 'Failed', 'Terminated', 'Canceled'].includes(s.runtimeStatus)) {
          return { runtimeStatus: s.runtimeStatus, output: s.output as BuildOutput };
        }
        while (pending.size > 0) {
          await Promise.allSettled([...pending]);
          await host.settle();
        }
        harness.clock.advanceBy(stepSeconds * 1000);
      }
      throw new Error(`${id} did not finish`);
    },
    whenRunReaches(subState, action) {
      return new Promise((resolve, reject) => {
        const off = harness.clock.onAdvance(() => {
          const running = harness.emulator.state
            .imageTemplates()
            .find((t) => t.lastRunStatus?.runState === 'Running' && t.lastRunStatus.runSubState === subState);
          if (!running) return;
          off();
          const p = action().then(resolve, reject);
          pending.add(p);
          void p.finally(() => pending.delete(p));
        });
      });
    },
    async stop() {
      await host.stop();
      await harness.emulator.stop();
    },
  };
}

export { BUILD_ORCHESTRATOR };
