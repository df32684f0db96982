/**
 * The scripted Image Builder lifecycle through the real SDK clients: identity -> network role ->
 * template PUT -> grant Image Contributor -> run -> poll to Succeeded -> run output -> customization.log
 * in Azurite -> delete; and the same run without the grant failing at Distributing, after customization.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { armRequest, useEmulator } from '../support/emulator.js';
import {
  FAST,
  grantImageContributor,
  newBuilderIdentity,
  pollUntilTerminal,
  templateBody,
} from './helpers.js';

describe('Image Builder lifecycle against the emulator (real SDK clients)', () => {
  const harness = useEmulator();

  it('builds an image end to end: run output, customization.log in Azurite, delete', async () => {
    const h = harness();
    const s = h.appSettings;
    const rg = s.IMAGE_BUILDER_RESOURCE_GROUP!;
    const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
    const identity = await newBuilderIdentity(h);
    const name = `jumpbox-${randomUUID().slice(0, 8)}`;
    const imageName = `img-${name}`;

    const created = await ib
      .createOrUpdate(rg, name, templateBody(h, identity.id!, imageName), FAST)
      .pollUntilDone();
    expect(created.provisioningState).toBe('Succeeded');
    expect(created.identity.userAssignedIdentities?.[identity.id!]?.principalId).toBe(identity.principalId);

    const destination = `/subscriptions/${s.AZURE_SUBSCRIPTION_ID}/resourceGroups/${s.IMAGE_DESTINATION_RESOURCE_GROUP}`;
    const grantName = randomUUID();
    await h.clients.authorization.roleAssignments.create(destination, grantName, {
      roleDefinitionId: s.IMAGE_CONTRIBUTOR_ROLE_ID!,
      principalId: identity.principalId!,
      principalType: 'ServicePrincipal',
    });

    const runPoller = ib.run(rg, name, FAST);
    await runPoller.submitted();
    const { template, seen } = await pollUntilTerminal(h, rg, name);
    await runPoller.pollUntilDone();
    expect(template.lastRunStatus?.runState).toBe('Succeeded');
    expect(seen).toEqual([
      'Running/Queued',
      'Running/Building',
      'Running/Customizing',
      'Running/Distributing',
      'Succeeded/Distributing',
    ]);
    expect(template.source).toMatchObject({ type: 'PlatformImage', exactVersion: '24.04.202501140' });

    const output = await ib.getRunOutput(rg, name, 'managed');
    const imageId = `${destination}/providers/Microsoft.Compute/images/${imageName}`;
    expect(output.artifactId).toBe(imageId);
    const outputs: string[] = [];
    for await (const o of ib.listRunOutputs(rg, name)) outputs.push(o.name!);
    expect(outputs).toEqual(['managed']);
    const image = await h.clients.compute.images.get(s.IMAGE_DESTINATION_RESOURCE_GROUP!, imageName);
    expect(image.id).toBe(imageId);

    // The staging storage account is discoverable through ARM, and the log is in Azurite under packerlogs/<run-guid>/.
    const stagingRg = `${s.STAGING_RESOURCE_GROUP_PREFIX}${imageName}`;
    const view = h.emulator.state.imageTemplate(name)!;
    expect(view.stagingResourceGroup).toBe(stagingRg);
    const accounts = await listStorageAccounts(h, stagingRg);
    expect(accounts).toHaveLength(1);
    const blobUrl = accounts[0]!.blob.replace(/\/$/, '');
    const container = h.clients.blobService(blobUrl).getContainerClient('packerlogs');
    const names: string[] = [];
    for await (const b of container.listBlobsFlat({ prefix: `${view.runs[0]}/` })) names.push(b.name);
    expect(names).toEqual([`${view.runs[0]}/customization.log`]);
    const log = (await container.getBlobClient(names[0]!).downloadToBuffer()).toString();
    expect(log).toContain("Build 'azure-arm' finished");
    expect(log).toContain('install-tools');
    expect(Buffer.byteLength(log)).toBeGreaterThanOrEqual(32 * 1024 - 512);

    await ib.delete(rg, name, FAST).pollUntilDone();
    await expect(ib.get(rg, name)).rejects.toMatchObject({ statusCode: 404 });
    expect(await listStorageAccounts(h, stagingRg).catch((e: { statusCode?: number }) => e.statusCode)).toBe(
      404,
    );
    // As in Azure, the staging account goes with the template: its logs are gone (archive them first).
    const left: string[] = [];
    for await (const b of container.listBlobsFlat({ prefix: `${view.runs[0]}/` })) left.push(b.name);
    expect(left).toEqual([]);
    expect(h.emulator.state.logWriteErrors()).toEqual([]);
  });

  it('fails at Distributing with an authorization error, after customization, when the Image Contributor grant is removed mid-build', async () => {
    const h = harness();
    const s = h.appSettings;
    const rg = s.IMAGE_BUILDER_RESOURCE_GROUP!;
    const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
    const identity = await newBuilderIdentity(h);
    const name = `jumpbox-${randomUUID().slice(0, 8)}`;
    await ib.createOrUpdate(rg, name, templateBody(h, identity.id!, `img-${name}`), FAST).pollUntilDone();
    await grantImageContributor(h, identity.principalId!);

    const runPoller = ib.run(rg, name, FAST);
    await runPoller.submitted();
    for (const a of h.emulator.state.roleAssignments()) {
      if (a.principalId === identity.principalId && a.roleName?.includes('Image Contributor'))
        await h.clients.authorization.roleAssignments.delete(a.scope, a.name);
    }
    const { template, seen } = await pollUntilTerminal(h, rg, name);
    expect(seen.slice(-3)).toEqual(['Running/Customizing', 'Running/Distributing', 'Failed/Distributing']);
    expect(template.lastRunStatus?.message).toContain('AuthorizationFailed');
    expect(template.lastRunStatus?.message).toContain('Microsoft.Compute/images/write');
    expect(template.lastRunStatus?.message).toContain(identity.principalId!);
    await expect(runPoller.pollUntilDone()).rejects.toThrow(/Microsoft\.Compute\/images\/write/);
    // Customization had finished: its log is complete.
    const view = h.emulator.state.imageTemplate(name)!;
    const log = (
      await h.clients
        .blobService(view.logUrls[0]!.replace(/\/packerlogs\/.*$/, ''))
        .getContainerClient('packerlogs')
        .getBlobClient(`${view.runs[0]}/customization.log`)
        .downloadToBuffer()
    ).toString();
    expect(log).toContain("Build 'azure-arm' finished");
    await expect(ib.listRunOutputs(rg, name).next()).resolves.toMatchObject({ done: true });
  });
});

async function listStorageAccounts(
  h: ReturnType<ReturnType<typeof useEmulator>>,
  rg: string,
): Promise<{ name: string; blob: string }[]> {
  const res = await armRequest(
    h,
    'GET',
    `/subscriptions/${h.emulator.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.Storage/storageAccounts?api-version=2023-05-01`,
  );
  if (res.status !== 200)
    throw Object.assign(new Error(`list storage accounts: ${res.status}`), { statusCode: res.status });
  return (
    res.body as { value: { name: string; properties: { primaryEndpoints: { blob: string } } }[] }
  ).value.map((a) => ({
    name: a.name,
    blob: a.properties.primaryEndpoints.blob,
  }));
}
