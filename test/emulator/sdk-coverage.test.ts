/**
 * The remaining operations through the real SDK clients, so every emulated operation is driven by an
 * SDK somewhere: template list by subscription and tag update, identity and image lists, NSG and vnet
 * create/list/delete, role definition delete, marketplace version get, gallery reads.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useEmulator } from '../support/emulator.js';
import { createTemplate, FAST, pollUntilTerminal } from './helpers.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('SDK coverage of the emulated operations', () => {
  const harness = useEmulator();

  it('image templates: list by subscription, tag update, run output list', async () => {
    const h = harness();
    const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
    const { rg, name } = await createTemplate(h);
    expect((await collect(ib.list())).map((t) => t.name)).toContain(name);
    const updated = await ib.update(rg, name, { tags: { owner: 'platform' } }, FAST).pollUntilDone();
    expect(updated.tags).toEqual({ owner: 'platform' });
    const resized = await ib
      .update(
        rg,
        name,
        {
          properties: {
            vmProfile: {
              vmSize: 'Standard_D4ds_v5',
              osDiskSizeGB: 64,
              vnetConfig: { subnetId: h.appSettings.BUILD_SUBNET_ID! },
            },
          },
        },
        FAST,
      )
      .pollUntilDone();
    expect(resized.vmProfile?.vmSize).toBe('Standard_D4ds_v5');
    expect(resized.tags).toEqual({ owner: 'platform' });
    await expect(
      ib.update(rg, name, { properties: { distribute: [] } }, FAST).pollUntilDone(),
    ).rejects.toMatchObject({ statusCode: 400 });
    await ib.run(rg, name, FAST).submitted();
    await pollUntilTerminal(h, rg, name);
    expect((await collect(ib.listRunOutputs(rg, name))).map((o) => o.artifactId)).toEqual([
      `/subscriptions/${h.emulator.subscriptionId}/resourceGroups/${h.appSettings.IMAGE_DESTINATION_RESOURCE_GROUP}/providers/Microsoft.Compute/images/img-${name}`,
    ]);
    // Re-tagging the built image with its own source is fine; changing its source is refused, as Compute does.
    const destRg = h.appSettings.IMAGE_DESTINATION_RESOURCE_GROUP!;
    const built = await h.clients.compute.images.get(destRg, `img-${name}`);
    const retagged = await h.clients.compute.images
      .createOrUpdate(
        destRg,
        `img-${name}`,
        {
          location: built.location,
          tags: { 'jumpbox-build-id': 'b1' },
          storageProfile: built.storageProfile,
        },
        FAST,
      )
      .pollUntilDone();
    expect(retagged.tags).toEqual({ 'jumpbox-build-id': 'b1' });
    const moved = {
      ...built.storageProfile!,
      osDisk: {
        ...built.storageProfile!.osDisk!,
        blobUri: 'https://elsewhere.blob.core.windows.net/vhds/x.vhd',
      },
    };
    await expect(
      h.clients.compute.images
        .createOrUpdate(destRg, `img-${name}`, { location: built.location, storageProfile: moved }, FAST)
        .pollUntilDone(),
    ).rejects.toMatchObject({ statusCode: 409, code: 'PropertyChangeNotAllowed' });
    const images = await collect(
      h.clients.compute.images.listByResourceGroup(h.appSettings.IMAGE_DESTINATION_RESOURCE_GROUP!),
    );
    expect(images.map((i) => i.name)).toContain(`img-${name}`);
    expect((await collect(h.clients.compute.images.list())).length).toBeGreaterThanOrEqual(images.length);
  });

  it('identities by subscription; NSG and vnet create, list, delete', async () => {
    const { clients } = harness();
    expect(
      (await collect(clients.msi.userAssignedIdentities.listBySubscription())).map((i) => i.name),
    ).toContain('id-aib-jumpbox-builder');
    const rg = 'rg-enterprise-networking-spokes';
    const nsgName = `nsg-${randomUUID().slice(0, 6)}`;
    const nsg = await clients.network.networkSecurityGroups.beginCreateOrUpdateAndWait(
      rg,
      nsgName,
      {
        location: 'eastus2',
        securityRules: [
          {
            name: 'ssh',
            protocol: 'Tcp',
            access: 'Allow',
            direction: 'Inbound',
            priority: 100,
            sourceAddressPrefix: 'VirtualNetwork',
            sourcePortRange: '*',
            destinationAddressPrefix: 'VirtualNetwork',
            destinationPortRange: '22',
          },
        ],
      },
      FAST,
    );
    expect(nsg.securityRules?.[0]?.destinationPortRange).toBe('22');
    expect((await collect(clients.network.networkSecurityGroups.list(rg))).map((n) => n.name)).toContain(
      nsgName,
    );
    const vnetName = `vnet-${randomUUID().slice(0, 6)}`;
    await clients.network.virtualNetworks.beginCreateOrUpdateAndWait(
      rg,
      vnetName,
      {
        location: 'eastus2',
        addressSpace: { addressPrefixes: ['10.70.0.0/24'] },
        subnets: [{ name: 'a', addressPrefix: '10.70.0.0/28', networkSecurityGroup: { id: nsg.id! } }],
      },
      FAST,
    );
    expect(
      (await collect(clients.network.subnets.list(rg, vnetName))).map((s) => s.networkSecurityGroup?.id),
    ).toEqual([nsg.id]);
    expect((await collect(clients.network.virtualNetworks.list(rg))).map((v) => v.name)).toContain(vnetName);
    await clients.network.virtualNetworks.beginDeleteAndWait(rg, vnetName, FAST);
    await clients.network.networkSecurityGroups.beginDeleteAndWait(rg, nsgName, FAST);
    await expect(clients.network.virtualNetworks.get(rg, vnetName)).rejects.toMatchObject({
      statusCode: 404,
    });
    await expect(
      clients.network.virtualNetworks.beginCreateOrUpdateAndWait(
        rg,
        'vnet-bad',
        { location: 'eastus2', addressSpace: { addressPrefixes: ['10.0.0.0/99'] } },
        FAST,
      ),
    ).rejects.toMatchObject({ statusCode: 400, code: 'InvalidAddressPrefixFormat' });
  });

  it('role definitions delete (refused while assigned), marketplace version get, gallery reads', async () => {
    const h = harness();
    const { clients } = h;
    const scope = `/subscriptions/${h.emulator.subscriptionId}`;
    const guid = randomUUID();
    await clients.authorization.roleDefinitions.createOrUpdate(scope, guid, {
      roleName: `tmp ${guid}`,
      permissions: [{ actions: ['*/read'] }],
      assignableScopes: [scope],
    });
    const assignment = await clients.authorization.roleAssignments.create(scope, randomUUID(), {
      roleDefinitionId: `${scope}/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
      principalId: (
        await clients.msi.userAssignedIdentities.get('rg-imagebuilders', 'id-aib-jumpbox-builder')
      ).principalId!,
    });
    await expect(clients.authorization.roleDefinitions.delete(scope, guid)).rejects.toMatchObject({
      statusCode: 409,
    });
    await clients.authorization.roleAssignments.deleteById(assignment.id!);
    const deleted = await clients.authorization.roleDefinitions.delete(scope, guid);
    expect(deleted.name).toBe(guid);
    await expect(clients.authorization.roleDefinitions.get(scope, guid)).rejects.toMatchObject({
      statusCode: 404,
    });

    const v = await clients.compute.virtualMachineImages.get(
      'eastus2',
      'Canonical',
      'ubuntu-24_04-lts',
      'server',
      '24.04.202501140',
    );
    expect(v.hyperVGeneration).toBe('V2');
    await expect(
      clients.compute.virtualMachineImages.get('eastus2', 'Canonical', 'ubuntu-24_04-lts', 'server', '1.0.0'),
    ).rejects.toMatchObject({ statusCode: 404 });

    const g = `gal${randomUUID().slice(0, 6)}`;
    await clients.compute.galleries
      .createOrUpdate('rg-jumpbox-images', g, { location: 'eastus2' }, FAST)
      .pollUntilDone();
    expect((await clients.compute.galleries.get('rg-jumpbox-images', g)).identifier?.uniqueName).toContain(
      g.toUpperCase(),
    );
    await clients.compute.galleryImages
      .createOrUpdate(
        'rg-jumpbox-images',
        g,
        'def',
        {
          location: 'eastus2',
          osType: 'Linux',
          osState: 'Generalized',
          identifier: { publisher: 'p', offer: 'o', sku: 's' },
        },
        FAST,
      )
      .pollUntilDone();
    expect((await clients.compute.galleryImages.get('rg-jumpbox-images', g, 'def')).osType).toBe('Linux');
    await expect(
      clients.compute.galleryImageVersions.get('rg-jumpbox-images', g, 'def', '1.0.0'),
    ).rejects.toMatchObject({ statusCode: 404 });
  });
});
