import { beforeEach, describe, expect, it } from 'vitest';
import { resolveBuilderIdentity } from '../../src/activities/builder-identity.js';
import { type ActivityDeps, recordsOf } from '../../src/activities/deps.js';
import {
  archiveRunLogs,
  copyBlobServerSide,
  listRunFolders,
} from '../../src/activities/logs/archive-logs.js';
import { assignRole, removeRoleAssignments } from '../../src/activities/roles/assign-role.js';
import { roleAssignmentName } from '../../src/activities/roles/assignment-name.js';
import {
  grantImageContributor,
  revokeImageContributor,
} from '../../src/activities/roles/image-contributor.js';
import { revokeUnlessOthersRunning, sweepImageContributor } from '../../src/activities/roles/janitor.js';
import { resolveSourceVersion } from '../../src/activities/source-version.js';
import { planTemplate } from '../../src/activities/template/deploy-template.js';
import { parseConfig } from '../../src/config.js';
import { blobAccountUrl } from '../support/azurite.js';
import { useEmulator } from '../support/emulator.js';

const harness = useEmulator();
let deps: ActivityDeps;
const logs: string[] = [];
beforeEach(() => {
  const h = harness();
  h.emulator.control.reset();
  deps = {
    config: parseConfig({ ...h.appSettings }),
    clients: h.clients,
    log: (m) => logs.push(m),
    sleep: async () => {},
    lroPollIntervalMs: 1,
  };
});

describe('roles', () => {
  it('grant is idempotent (same deterministic name; 409 RoleAssignmentExists under another name is success)', async () => {
    const id = await resolveBuilderIdentity(deps);
    const first = (await grantImageContributor(deps, { principalId: id.principalId })).assignments[0]!;
    const again = (await grantImageContributor(deps, { principalId: id.principalId })).assignments[0]!;
    expect(first.outcome).toBe('created');
    expect(again.name).toBe(first.name);
    const scope = first.scope;
    // Another name holding the same triple: ARM answers 409 RoleAssignmentExists.
    await harness().clients.authorization.roleAssignments.delete(scope, first.name);
    await harness().clients.authorization.roleAssignments.create(
      scope,
      '5f0a7c0e-0000-4000-8000-000000000abc',
      {
        roleDefinitionId: deps.config.roles.imageContributor,
        principalId: id.principalId,
        principalType: 'ServicePrincipal',
      },
    );
    const other = await assignRole(deps.clients, scope, id.principalId, deps.config.roles.imageContributor);
    expect(other.outcome).toBe('existed');
    // Revoke removes it whatever its name, and tolerates nothing left to remove.
    const removed = await revokeImageContributor(deps, { principalId: id.principalId });
    expect(removed.removed).toHaveLength(1);
    expect((await revokeImageContributor(deps, { principalId: id.principalId })).removed).toEqual([]);
    expect(
      harness()
        .emulator.state.roleAssignments()
        .filter((a) => a.principalId === id.principalId && a.scope.toLowerCase() === scope.toLowerCase()),
    ).toEqual([]);
  });

  it('assignments carry principalType ServicePrincipal and the deterministic name', async () => {
    const id = await resolveBuilderIdentity(deps);
    const r = (await grantImageContributor(deps, { principalId: id.principalId })).assignments[0]!;
    expect(r.name).toBe(roleAssignmentName(r.scope, id.principalId, deps.config.roles.imageContributor));
    const view = harness()
      .emulator.state.roleAssignments()
      .find((a) => a.name === r.name);
    expect(view?.principalType).toBe('ServicePrincipal');
    await removeRoleAssignments(deps.clients, r.scope, id.principalId, deps.config.roles.imageContributor);
  });
});

describe('builder identity', () => {
  it('reads the configured identity; a missing one is a permanent error naming the setting', async () => {
    const id = await resolveBuilderIdentity(deps);
    expect(id.principalId).toMatch(/^[0-9a-f-]{36}$/);
    const missing = {
      ...deps,
      config: parseConfig({
        ...harness().appSettings,
        BUILDER_IDENTITY_ID: deps.config.builderIdentity.id.replace(/[^/]+$/, 'id-nope'),
      }),
    };
    await expect(resolveBuilderIdentity(missing)).rejects.toMatchObject({
      failure: { kind: 'permanent', code: 'BuilderIdentityNotFound' },
    });
    const create = {
      ...deps,
      config: parseConfig({
        ...harness().appSettings,
        BUILDER_IDENTITY_ID: missing.config.builderIdentity.id,
        BUILDER_IDENTITY_CREATE: 'true',
      }),
    };
    expect((await resolveBuilderIdentity(create)).created).toBe(true);
  });
});

describe('source version', () => {
  it('resolves "latest" to the newest marketplace version, and checks a pinned one', async () => {
    const h = harness();
    h.emulator.control.publishImageVersion({
      publisher: 'Canonical',
      offer: 'ubuntu-24_04-lts',
      sku: 'server',
      version: '24.04.999999999',
    });
    const r = await resolveSourceVersion(deps, { definition: 'aks-jumpbox' });
    expect(r.version).toBe('24.04.999999999');
    const pinned = {
      ...deps,
      config: parseConfig({
        ...h.appSettings,
        IMAGE_DEFINITIONS: JSON.stringify([
          {
            name: 'aks-jumpbox',
            source: { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: '24.04.1' },
          },
        ]),
      }),
    };
    await expect(resolveSourceVersion(pinned, { definition: 'aks-jumpbox' })).rejects.toMatchObject({
      failure: { code: 'SourceImageVersionNotFound' },
    });
  });
});

describe('template plan (read-only)', () => {
  it('plans a create for a first template, and names it by content hash', async () => {
    const id = await resolveBuilderIdentity(deps);
    const plan = await planTemplate(deps, {
      definition: 'aks-jumpbox',
      buildId: 'b',
      sourceVersion: '24.04.202501140',
      builderIdentityId: id.id,
    });
    expect(plan).toMatchObject({ action: 'create', superseded: [] });
    expect(plan.templateName).toMatch(/^aks-jumpbox-[0-9a-f]{12}$/);
    const other = await planTemplate(deps, {
      definition: 'aks-jumpbox',
      buildId: 'b',
      sourceVersion: '24.04.202501150',
      builderIdentityId: id.id,
    });
    expect(other.templateName).not.toBe(plan.templateName);
    expect(
      harness()
        .emulator.state.requests()
        .filter((r) => r.request.method !== 'GET'),
    ).toEqual([]);
  });
});

describe('log archive copy', () => {
  it('copies server-side with metadata, in blocks, and lists run folders newest first', async () => {
    const h = harness();
    const src = h.clients.blobService(blobAccountUrl('aibstaging3')).getContainerClient(`pl${Date.now()}`);
    await src.create({ access: 'blob' });
    const body = 'line of a packer log\n'.repeat(5000);
    await src.getBlockBlobClient('run-a/customization.log').upload(body, body.length);
    await new Promise((r) => setTimeout(r, 1100));
    await src.getBlockBlobClient('run-b/customization.log').upload('b', 1);
    await src.getBlockBlobClient('run-b/other.txt').upload('x', 1);
    const folders = await listRunFolders(src);
    expect(folders.map((f) => f.runGuid)).toEqual(['run-b', 'run-a']);
    expect(folders[0]!.files.map((f) => f.name)).toEqual(['customization.log']);
    const dst = h.clients.blobService(blobAccountUrl()).getContainerClient(`arch${Date.now()}`);
    await dst.create();
    const url = await copyBlobServerSide(
      h.clients,
      src.getBlockBlobClient('run-a/customization.log').url,
      body.length,
      dst.getBlockBlobClient('d/b/customization.log'),
      { definition: 'd', buildid: 'b' },
    );
    expect(url).toContain('/d/b/customization.log');
    const props = await dst.getBlockBlobClient('d/b/customization.log').getProperties();
    expect(props.metadata).toEqual({ definition: 'd', buildid: 'b' });
    expect((await dst.getBlockBlobClient('d/b/customization.log').downloadToBuffer()).toString()).toBe(body);
  });
});

describe('shared grant across definitions', () => {
  it('is kept while another definition builds (record Running, within its deadline), removed after', async () => {
    const h = harness();
    const two = {
      ...deps,
      config: parseConfig({
        ...h.appSettings,
        IMAGE_DEFINITIONS: JSON.stringify([{ name: 'aks-jumpbox' }, { name: 'ops-box' }]),
        RECORDS_TABLE_NAME: `shared${Date.now()}`,
      }),
    };
    const id = await resolveBuilderIdentity(two);
    await grantImageContributor(two, { principalId: id.principalId });
    const records = recordsOf(two);
    const ref = { buildId: 'ops-1', definition: 'ops-box', requestedAt: new Date().toISOString() };
    await records.update(ref, {
      trigger: 'http',
      reason: 'r',
      requestedBy: 'x',
      status: 'Running',
      startedAt: new Date().toISOString(),
    });
    const kept = await revokeUnlessOthersRunning(two, {
      principalId: id.principalId,
      definition: 'aks-jumpbox',
    });
    expect(kept).toEqual({ removed: [], keptFor: ['ops-box'] });
    // The janitor, asked from the task hub, also leaves it while a build runs.
    const running = await sweepImageContributor(
      two,
      async (d) => d === 'ops-box',
      async () => id.principalId,
    );
    expect(running).toMatchObject({ running: ['ops-box'], removed: [], skipped: true, closedRecords: [] });
    await records.update(ref, { status: 'Succeeded' });
    const gone = await revokeUnlessOthersRunning(two, {
      principalId: id.principalId,
      definition: 'aks-jumpbox',
    });
    expect(gone.removed).toHaveLength(1);
    expect(gone.keptFor).toEqual([]);
  });
});

describe('janitor: every ended build has a terminal record', () => {
  const input = (buildId: string) => ({
    buildId,
    definition: 'aks-jumpbox',
    trigger: 'http' as const,
    reason: 'r',
    requestedBy: 'x',
    force: false,
    requestedAt: '2026-01-01T00:00:00.000Z',
  });

  it('writes the record of a Completed build that has none, from its output', async () => {
    const h = harness();
    const d = {
      ...deps,
      config: parseConfig({ ...h.appSettings, RECORDS_TABLE_NAME: `ended${Date.now()}` }),
    };
    const output = {
      buildId: 'b-completed',
      definition: 'aks-jumpbox',
      result: 'Failed' as const,
      logs: ['https://archive/aks-jumpbox/b-completed/customization.log'],
      error: { code: 'RunFailed', message: 'customizer failed' },
      durations: {},
      provenance: 'https://archive/aks-jumpbox/b-completed/provenance.json',
      provenanceSha256: 'b'.repeat(64),
      sbom: 'https://archive/aks-jumpbox/b-completed/sbom.cdx.json',
      sbomSha256: 'a'.repeat(64),
    };
    const report = await sweepImageContributor(
      d,
      async () => false,
      async () => undefined,
      async () => output,
      async () => ({ input: input('b-completed'), output }),
    );
    expect(report.writtenRecords).toEqual(['b-completed']);
    expect(await recordsOf(d).get('b-completed')).toMatchObject({
      status: 'Failed',
      phase: 'done',
      error: { code: 'RunFailed' },
      logUrls: output.logs,
      reason: 'r',
      // The supply-chain links and their SHA-256 too, so `provenance BUILD_ID` can verify the blob.
      provenance: output.provenance,
      provenanceSha256: output.provenanceSha256,
      sbom: output.sbom,
      sbomSha256: output.sbomSha256,
    });
    // Once written, a later sweep leaves it alone.
    const again = await sweepImageContributor(
      d,
      async () => false,
      async () => undefined,
      async () => output,
      async () => ({ input: input('b-completed'), output }),
    );
    expect(again.writtenRecords).toEqual([]);
  });

  it('records a terminated build without output and without record as Failed with the reason', async () => {
    const h = harness();
    const d = {
      ...deps,
      config: parseConfig({ ...h.appSettings, RECORDS_TABLE_NAME: `ended${Date.now()}` }),
    };
    const report = await sweepImageContributor(
      d,
      async () => false,
      async () => undefined,
      async () => undefined,
      async () => ({ input: input('b-terminated') }),
    );
    expect(report.writtenRecords).toEqual(['b-terminated']);
    expect(await recordsOf(d).get('b-terminated')).toMatchObject({
      status: 'Failed',
      phase: 'done',
      error: { code: 'InstanceNotRunning' },
    });
  });
});

describe('log archival run again after a crash', () => {
  it("returns the build's own archived run again (not 'nothing new'); another build's run stays excluded", async () => {
    const h = harness();
    const suffix = Date.now();
    const staging = h.clients.blobService(blobAccountUrl('aibstaging5'));
    const packerlogs = staging.getContainerClient(`packerlogs${suffix}`);
    await packerlogs.create({ access: 'blob' });
    await packerlogs.getBlockBlobClient('run-1/customization.log').upload('log', 3);
    // The staging group lists one account; its packerlogs container is this test's own container.
    const clients = {
      ...h.clients,
      storage: {
        storageAccounts: {
          async *listByResourceGroup() {
            yield { name: 'aibstaging5', primaryEndpoints: { blob: blobAccountUrl('aibstaging5') } };
          },
        },
      },
      blobService: (url: string) =>
        url === blobAccountUrl('aibstaging5')
          ? { ...staging, getContainerClient: () => packerlogs }
          : h.clients.blobService(url),
    } as unknown as ActivityDeps['clients'];
    const d = {
      ...deps,
      clients,
      config: parseConfig({ ...h.appSettings, ARCHIVE_CONTAINER: `rerun${suffix}` }),
    };
    const input = {
      definition: 'aks-jumpbox',
      buildId: 'b-1',
      templateName: 't',
      stagingResourceGroupId: `/subscriptions/${h.emulator.subscriptionId}/resourceGroups/rg-staging`,
      runState: 'Succeeded',
    };
    const first = await archiveRunLogs(d, input);
    expect(first.logs).toHaveLength(1);
    expect(first.logs[0]).toMatch(/\/aks-jumpbox\/b-1\/customization\.log$/);
    // The same step again (its result was never saved): the same URLs, not an empty result.
    expect((await archiveRunLogs(d, input)).logs).toEqual(first.logs);
    // A later build does not take this build's run as its own.
    const other = await archiveRunLogs(d, { ...input, buildId: 'b-2' });
    expect(other.logs).toEqual([]);
  });
});
