/**
 * Image Builder behaviour beyond the happy path, through the real SDK: immutability, validation,
 * provisioning failures, build outcomes on the virtual clock (customizer failure, validation failure,
 * timeout, cancel), refusals while running, re-running onto an existing image, gallery distribution.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { useEmulator } from '../support/emulator.js';
import {
  createTemplate,
  FAST,
  grantImageContributor,
  newBuilderIdentity,
  pollUntilTerminal,
  templateBody,
} from './helpers.js';

async function readLog(h: ReturnType<ReturnType<typeof useEmulator>>, url: string): Promise<string> {
  const [account, path] = url.split('/packerlogs/') as [string, string];
  return (
    await h.clients
      .blobService(account)
      .getContainerClient('packerlogs')
      .getBlobClient(path)
      .downloadToBuffer()
  ).toString();
}

describe('Image Builder behaviour (real SDK clients)', () => {
  const harness = useEmulator();
  afterEach(() => {
    harness().emulator.control.setBuildBehaviour({ outcome: 'success', logBytes: 32 * 1024 });
  });

  it('answers 200 to an identical PUT and 409 Conflict to a changed one (templates are immutable)', async () => {
    const h = harness();
    const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
    const { identity, name, rg, imageName } = await createTemplate(h);
    const again = await ib
      .createOrUpdate(rg, name, templateBody(h, identity.id!, imageName), FAST)
      .pollUntilDone();
    expect(again.provisioningState).toBe('Succeeded');
    const changed = templateBody(h, identity.id!, imageName, { buildTimeoutInMinutes: 120 });
    await expect(ib.createOrUpdate(rg, name, changed, FAST).pollUntilDone()).rejects.toMatchObject({
      statusCode: 409,
      code: 'Conflict',
      message: expect.stringContaining('Update/Upgrade of image templates is currently not supported'),
    });
  });

  it('rejects invalid templates with 400 naming the field', async () => {
    const h = harness();
    const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
    const rg = h.appSettings.IMAGE_BUILDER_RESOURCE_GROUP!;
    const a = await newBuilderIdentity(h);
    const b = await newBuilderIdentity(h);
    const two = templateBody(h, a.id!, 'img-x');
    two.identity = { type: 'UserAssigned', userAssignedIdentities: { [a.id!]: {}, [b.id!]: {} } };
    await expect(
      ib.createOrUpdate(rg, `t-${randomUUID().slice(0, 6)}`, two, FAST).pollUntilDone(),
    ).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining('identity.userAssignedIdentities'),
    });
    await expect(
      ib
        .createOrUpdate(
          rg,
          `t-${randomUUID().slice(0, 6)}`,
          templateBody(h, a.id!, 'img-x', { distribute: [] }),
          FAST,
        )
        .pollUntilDone(),
    ).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('properties.distribute') });
    await expect(
      ib.createOrUpdate(rg, 'bad name!', templateBody(h, a.id!, 'img-x'), FAST).pollUntilDone(),
    ).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining('imageTemplateName'),
    });
    const missing = `${a.id!.replace(/[^/]+$/, '')}id-does-not-exist`;
    await expect(
      ib
        .createOrUpdate(rg, `t-${randomUUID().slice(0, 6)}`, templateBody(h, missing, 'img-x'), FAST)
        .pollUntilDone(),
    ).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining('was not found'),
    });
  });

  it('fails template creation when the identity lacks network join on the vnet; the failed template must be deleted', async () => {
    const h = harness();
    const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
    const rg = h.appSettings.IMAGE_BUILDER_RESOURCE_GROUP!;
    const identity = await newBuilderIdentity(h, { networkRole: false });
    const name = `t-${randomUUID().slice(0, 8)}`;
    // The SDK surfaces only the operation's generic top-level error; the cause is in provisioningError.
    await expect(
      ib.createOrUpdate(rg, name, templateBody(h, identity.id!, `img-${name}`), FAST).pollUntilDone(),
    ).rejects.toThrow(
      /^The long-running operation has failed\. ResourceOperationFailure\. The resource operation completed with terminal provisioning state 'Failed'\.$/,
    );
    const failed = await ib.get(rg, name);
    expect(failed.provisioningState).toBe('Failed');
    expect(failed.provisioningError).toEqual({
      provisioningErrorCode: 'Other',
      message: `Not authorized to access the resource: ${h.appSettings.BUILD_SUBNET_ID}. Please check the user assigned identity has the correct permissions. For more details, go to https://aka.ms/azvmimagebuilderts.`,
    });
    await expect(ib.run(rg, name, FAST).pollUntilDone()).rejects.toMatchObject({ statusCode: 400 });
    await ib.delete(rg, name, FAST).pollUntilDone();
    await expect(ib.get(rg, name)).rejects.toMatchObject({ statusCode: 404 });
  });

  it('fails template creation on a subnet whose private-link service network policies are enabled', async () => {
    const h = harness();
    const s = h.appSettings;
    await h.clients.network.subnets.beginCreateOrUpdateAndWait(
      'rg-enterprise-networking-spokes',
      'vnet-imagebuilder',
      'snet-pls-enabled',
      { addressPrefix: '10.240.0.16/28' },
      FAST,
    );
    const subnetId = s.BUILD_SUBNET_ID!.replace(/[^/]+$/, 'snet-pls-enabled');
    const name = `t-${randomUUID().slice(0, 8)}`;
    const identity = await newBuilderIdentity(h);
    const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
    const rg = s.IMAGE_BUILDER_RESOURCE_GROUP!;
    await expect(
      ib
        .createOrUpdate(
          rg,
          name,
          templateBody(h, identity.id!, `img-${name}`, {
            vmProfile: { vmSize: 'Standard_D2ds_v5', vnetConfig: { subnetId } },
          }),
          FAST,
        )
        .pollUntilDone(),
    ).rejects.toThrow(/ResourceOperationFailure/);
    expect((await ib.get(rg, name)).provisioningError?.message).toMatch(/privateLinkServiceNetworkPolicies/);
  });

  it('fails a run at Customizing on a customizer failure, with the log URL in lastRunStatus.message and the log in Azurite', async () => {
    const h = harness();
    h.emulator.control.setBuildBehaviour({ outcome: 'customizer-failure' });
    const { rg, name } = await createTemplate(h);
    await h.clients.imageBuilder.virtualMachineImageTemplates.run(rg, name, FAST).submitted();
    const { template, seen } = await pollUntilTerminal(h, rg, name);
    expect(seen.at(-1)).toBe('Failed/Customizing');
    expect(seen).not.toContain('Running/Distributing');
    const url = /log location: (\S+customization\.log)/.exec(template.lastRunStatus!.message!)?.[1];
    expect(url).toBe(h.emulator.state.imageTemplate(name)!.logUrls[0]);
    const log = await readLog(h, url!);
    expect(log).toContain('Script exited with non-zero exit status: 1');
  });

  it('fails at Validating when an in-VM validation fails, leaving validation.log', async () => {
    const h = harness();
    h.emulator.control.setBuildBehaviour({ outcome: 'validation-failure' });
    const { rg, name } = await createTemplate(h, {
      validate: { inVMValidations: [{ type: 'Shell', name: 'az-version', inline: ['az version'] }] },
    });
    await h.clients.imageBuilder.virtualMachineImageTemplates.run(rg, name, FAST).submitted();
    const { template, seen } = await pollUntilTerminal(h, rg, name);
    expect(seen.slice(-2)).toEqual(['Running/Validating', 'Failed/Validating']);
    const url = /Validation log location: (\S+validation\.log)/.exec(template.lastRunStatus!.message!)?.[1];
    expect(await readLog(h, url!)).toContain("Validation 'az-version' exited with non-zero exit status: 1");
  });

  it('times out after buildTimeoutInMinutes of virtual time', async () => {
    const h = harness();
    h.emulator.control.setBuildBehaviour({ outcome: 'timeout' });
    const { rg, name } = await createTemplate(h, { buildTimeoutInMinutes: 30 });
    await h.clients.imageBuilder.virtualMachineImageTemplates.run(rg, name, FAST).submitted();
    const { template, seen } = await pollUntilTerminal(h, rg, name, 120);
    expect(seen.at(-1)).toBe('Failed/Customizing');
    expect(template.lastRunStatus?.message).toContain('context deadline exceeded');
    const st = template.lastRunStatus!;
    expect(st.endTime!.getTime() - st.startTime!.getTime()).toBe(30 * 60_000);
  });

  it('cancels a running build: the cancel completes at once, Canceling then Canceled on the clock', async () => {
    const h = harness();
    const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
    const { rg, name } = await createTemplate(h);
    const run = ib.run(rg, name, FAST);
    await run.submitted();
    h.clock.advanceBy(10 * 60_000);
    await expect(ib.run(rg, name, FAST).pollUntilDone()).rejects.toMatchObject({ statusCode: 409 });
    await expect(ib.delete(rg, name, FAST).pollUntilDone()).rejects.toMatchObject({ statusCode: 409 });
    await ib.cancel(rg, name, FAST).pollUntilDone();
    expect((await ib.get(rg, name)).lastRunStatus).toMatchObject({
      runState: 'Canceling',
      runSubState: 'Customizing',
    });
    const { seen } = await pollUntilTerminal(h, rg, name);
    expect(seen.at(-1)).toBe('Canceled/Customizing');
    await expect(run.pollUntilDone()).rejects.toThrow();
    await ib.delete(rg, name, FAST).pollUntilDone();
  });

  it('fails at Distributing when the run is repeated onto a managed image that already exists', async () => {
    const h = harness();
    const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
    const { rg, name } = await createTemplate(h);
    await ib.run(rg, name, FAST).submitted();
    expect((await pollUntilTerminal(h, rg, name)).template.lastRunStatus?.runState).toBe('Succeeded');
    await ib.run(rg, name, FAST).submitted();
    const second = await pollUntilTerminal(h, rg, name);
    expect(second.seen.at(-1)).toBe('Failed/Distributing');
    expect(second.template.lastRunStatus?.message).toMatch(
      /Failed in distributing 1 images out of total 1: .*already exists/,
    );
    expect(h.emulator.state.imageTemplate(name)!.runs).toHaveLength(2);
  });

  it('distributes to a gallery with monotonic versions and checks the gallery version write permission', async () => {
    const h = harness();
    const { clients } = h;
    const s = h.appSettings;
    const g = `gal${randomUUID().slice(0, 6)}`;
    await clients.compute.galleries
      .createOrUpdate(s.IMAGE_DESTINATION_RESOURCE_GROUP!, g, { location: 'eastus2' }, FAST)
      .pollUntilDone();
    await clients.compute.galleryImages
      .createOrUpdate(
        s.IMAGE_DESTINATION_RESOURCE_GROUP!,
        g,
        'jumpbox',
        {
          location: 'eastus2',
          osType: 'Linux',
          osState: 'Generalized',
          hyperVGeneration: 'V2',
          identifier: { publisher: 'contoso', offer: 'jumpbox', sku: '24_04' },
        },
        FAST,
      )
      .pollUntilDone();
    const galleryImageId = `/subscriptions/${s.AZURE_SUBSCRIPTION_ID}/resourceGroups/${s.IMAGE_DESTINATION_RESOURCE_GROUP}/providers/Microsoft.Compute/galleries/${g}/images/jumpbox`;
    const { rg, name } = await createTemplate(h, {
      distribute: [
        {
          type: 'SharedImage',
          runOutputName: 'gallery',
          galleryImageId,
          versioning: { scheme: 'Latest', major: 1 },
        } as never,
      ],
    });
    const ib = clients.imageBuilder.virtualMachineImageTemplates;
    for (const expected of ['1.0.1', '1.0.2']) {
      await ib.run(rg, name, FAST).submitted();
      expect((await pollUntilTerminal(h, rg, name)).template.lastRunStatus?.runState).toBe('Succeeded');
      expect((await ib.getRunOutput(rg, name, 'gallery')).artifactId).toBe(
        `${galleryImageId}/versions/${expected}`,
      );
    }
    const versions: string[] = [];
    for await (const v of clients.compute.galleryImageVersions.listByGalleryImage(
      s.IMAGE_DESTINATION_RESOURCE_GROUP!,
      g,
      'jumpbox',
    ))
      versions.push(v.name!);
    expect(versions.sort()).toEqual(['1.0.1', '1.0.2']);
    // Without the gallery version write permission the Run itself fails at once (no build starts);
    // source: https://github.com/MicrosoftDocs/azure-docs/issues/99193
    const denied = await createTemplate(
      h,
      { distribute: [{ type: 'SharedImage', runOutputName: 'gallery', galleryImageId } as never] },
      { imageContributor: false },
    );
    await expect(ib.run(denied.rg, denied.name, FAST).pollUntilDone()).rejects.toThrow(
      `The long-running operation has failed. Unauthorized. Not authorized to access the resource: ${galleryImageId}. Please check the user assigned identity has the correct permissions.`,
    );
    expect((await ib.get(denied.rg, denied.name)).lastRunStatus).toBeUndefined();
    // Granted, then removed while the build runs: the distribution-time check fails it, naming the action.
    await grantImageContributor(h, denied.identity.principalId!);
    await ib.run(denied.rg, denied.name, FAST).submitted();
    for (const a of h.emulator.state.roleAssignments()) {
      if (a.principalId === denied.identity.principalId && a.roleName?.includes('Image Contributor'))
        await clients.authorization.roleAssignments.delete(a.scope, a.name);
    }
    const failed = await pollUntilTerminal(h, denied.rg, denied.name);
    expect(failed.seen.at(-1)).toBe('Failed/Distributing');
    expect(failed.template.lastRunStatus?.message).toContain(
      'Microsoft.Compute/galleries/images/versions/write',
    );
    expect(failed.template.lastRunStatus?.message).toContain(`${galleryImageId}/versions/1.0.3`);
  });

  it('writes a customization.log of the configured size', async () => {
    const h = harness();
    h.emulator.control.setBuildBehaviour({ logBytes: 200_000 });
    const { rg, name, identity } = await createTemplate(h, {}, { imageContributor: false });
    await grantImageContributor(h, identity.principalId!);
    await h.clients.imageBuilder.virtualMachineImageTemplates.run(rg, name, FAST).submitted();
    await pollUntilTerminal(h, rg, name);
    const log = await readLog(h, h.emulator.state.imageTemplate(name)!.logUrls[0]!);
    expect(Buffer.byteLength(log)).toBeGreaterThanOrEqual(199_000);
    expect(Buffer.byteLength(log)).toBeLessThan(202_000);
  });
});
