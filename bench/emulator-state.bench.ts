/**
 * What keeping the ARM emulator's state on disk costs (`stateFile`, used by `npm run local -- --state DIR`):
 * the same build cycles through the real SDK clients against an emulator in memory (baseline) and one that
 * saves its state before every answer, side by side, alternating, each twice. Prints the real time per ARM
 * request of each and the size of the state file after the cycles.
 * Cycles: identity, network role, template PUT + poll, grant, run, 60 template reads one simulated minute
 * apart, run operation, revoke. STATE_BENCH_CYCLES=N (default 5).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAzureClients } from '../src/azure/clients.js';
import { startArmEmulator } from '../src/local/arm-emulator/index.js';
import { STAGING_ACCOUNT_POOL, startAzurite } from '../src/local/azurite.js';
import { VirtualClock } from '../src/local/clock.js';
import { appSettingsFor } from '../src/local/scenarios/index.js';
import { LocalTestCredential } from '../src/local/test-credential.js';
import { createLocalCertificate } from '../src/local/tls.js';
import { emit, line, ratio, round } from './lib/report.js';

const CYCLES = Number(process.env.STATE_BENCH_CYCLES ?? 5);
const certificate = await createLocalCertificate();
const azurite = await startAzurite({ certificate, startTimeoutMs: 180_000 });
const dir = mkdtempSync(join(tmpdir(), 'bench-emulator-state-'));

async function measure(stateFile: string | undefined): Promise<{ msPerRequest: number; requests: number }> {
  const clock = new VirtualClock();
  const emulator = await startArmEmulator({
    certificate,
    clock,
    storage: {
      blobEndpoint: azurite.endpoints.blob,
      stagingAccounts: azurite.accounts.filter((a) => STAGING_ACCOUNT_POOL.includes(a)),
    },
    rbacPropagationSeconds: 0,
    ...(stateFile ? { stateFile } : {}),
  });
  const c = createAzureClients({
    subscriptionId: emulator.subscriptionId,
    armEndpoint: emulator.armEndpoint,
    caCert: { pem: certificate.cert },
    credential: new LocalTestCredential(),
  });
  const s = appSettingsFor(emulator, {
    blobAccountUrl: azurite.blobAccountUrl(),
    tableEndpoint: azurite.tableAccountUrl(),
  });
  const rg = s.IMAGE_BUILDER_RESOURCE_GROUP!;
  const destination = `/subscriptions/${s.AZURE_SUBSCRIPTION_ID}/resourceGroups/${s.IMAGE_DESTINATION_RESOURCE_GROUP}`;
  const fast = { updateIntervalInMs: 1 };
  const t0 = performance.now();
  for (let i = 0; i < CYCLES; i++) {
    const id = await c.msi.userAssignedIdentities.createOrUpdate(rg, `id-bench-${i}`, {
      location: s.AZURE_LOCATION!,
    });
    await c.authorization.roleAssignments.create(
      s.BUILD_SUBNET_ID!.replace(/\/subnets\/[^/]+$/, ''),
      randomUUID(),
      {
        roleDefinitionId: s.NETWORK_JOINER_ROLE_ID!,
        principalId: id.principalId!,
        principalType: 'ServicePrincipal',
      },
    );
    const name = `bench-${i}`;
    await c.imageBuilder.virtualMachineImageTemplates
      .createOrUpdate(
        rg,
        name,
        {
          location: s.AZURE_LOCATION!,
          identity: { type: 'UserAssigned', userAssignedIdentities: { [id.id!]: {} } },
          source: {
            type: 'PlatformImage',
            publisher: 'Canonical',
            offer: 'ubuntu-24_04-lts',
            sku: 'server',
            version: 'latest',
          },
          customize: [{ type: 'Shell', name: 'tools', inline: ['true'] }],
          distribute: [
            {
              type: 'ManagedImage',
              runOutputName: 'managed',
              imageId: `${destination}/providers/Microsoft.Compute/images/img-${name}`,
              location: s.AZURE_LOCATION!,
            },
          ],
          vmProfile: { vmSize: 'Standard_D2ds_v5', vnetConfig: { subnetId: s.BUILD_SUBNET_ID! } },
          stagingResourceGroup: `/subscriptions/${s.AZURE_SUBSCRIPTION_ID}/resourceGroups/${s.STAGING_RESOURCE_GROUP_PREFIX}${name}`,
        },
        fast,
      )
      .pollUntilDone();
    const grant = randomUUID();
    await c.authorization.roleAssignments.create(destination, grant, {
      roleDefinitionId: s.IMAGE_CONTRIBUTOR_ROLE_ID!,
      principalId: id.principalId!,
      principalType: 'ServicePrincipal',
    });
    const run = c.imageBuilder.virtualMachineImageTemplates.run(rg, name, fast);
    await run.submitted();
    for (let m = 0; m < 60; m++) {
      clock.advanceBy(60_000);
      await c.imageBuilder.virtualMachineImageTemplates.get(rg, name);
    }
    await run.pollUntilDone();
    await c.authorization.roleAssignments.delete(destination, grant);
  }
  const ms = performance.now() - t0;
  const requests = emulator.state.requests().length;
  await emulator.stop();
  return { msPerRequest: ms / requests, requests };
}

const memory: number[] = [];
const file: number[] = [];
let requests = 0;
let bytes = 0;
for (let round_ = 0; round_ < 2; round_++) {
  memory.push((await measure(undefined)).msPerRequest);
  const stateFile = join(dir, `state-${round_}.json`);
  const r = await measure(stateFile);
  file.push(r.msPerRequest);
  requests = r.requests;
  bytes = statSync(stateFile).size;
  JSON.parse(readFileSync(stateFile, 'utf8'));
}
const best = (xs: number[]) => Math.min(...xs);
line(
  `ARM request, state saved to disk: ${round(best(file), 2)} ms (in memory ${round(best(memory), 2)} ms) ${ratio(best(file), best(memory))}`,
);
line(`state file after ${CYCLES} build cycles (${requests} ARM requests): ${round(bytes / 1024)} KiB`);
emit('emulatorState', {
  cycles: CYCLES,
  requests,
  msPerRequestFile: round(best(file), 2),
  msPerRequestMemory: round(best(memory), 2),
  stateFileKiB: round(bytes / 1024),
});
await azurite.stop();
rmSync(dir, { recursive: true, force: true });
