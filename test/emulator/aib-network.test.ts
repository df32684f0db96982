/**
 * Image Builder and the network, through the real SDK clients: what template creation validates (vnet
 * region, isolated builds with containerInstanceSubnetId), the failure shape the SDK surfaces, the
 * resource provider registration isolated builds need, and outbound access of the build subnet.
 *
 * Sources:
 * - vnetConfig / containerInstanceSubnetId / proxyVmSize:
 *   https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-json#vnetconfig-optional and the
 *   Image Builder 2025-10-01 REST spec (VirtualNetworkConfig)
 * - isolated builds (delegation to Microsoft.ContainerInstance/containerGroups, the provider registered):
 *   https://learn.microsoft.com/azure/virtual-machines/security-isolated-image-builds-image-builder
 * - vnet in the template's region: https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-networking
 * - the operation's generic error, the cause in details: https://github.com/danielsollondon/azvmimagebuilder/issues/50
 * - private subnets by default for new vnets (Network API 2025-07-01, after 31 March 2026):
 *   https://learn.microsoft.com/azure/virtual-network/ip-services/default-outbound-access
 */
import { randomUUID } from 'node:crypto';
import type { ImageTemplate } from '@azure/arm-imagebuilder';
import { describe, expect, it } from 'vitest';
import { armRequest, useEmulator } from '../support/emulator.js';
import {
  FAST,
  GENERIC_CREATE_FAILURE,
  grantImageContributor,
  newBuilderIdentity,
  pollUntilTerminal,
  templateBody,
} from './helpers.js';

const NET_RG = 'rg-enterprise-networking-spokes';
const VNET = 'vnet-imagebuilder';
const ACI = 'Microsoft.ContainerInstance/containerGroups';

describe('Image Builder network checks (real SDK clients)', () => {
  const harness = useEmulator();

  async function subnet(name: string, prefix: string, extra: Record<string, unknown> = {}, vnet = VNET) {
    const h = harness();
    return h.clients.network.subnets.beginCreateOrUpdateAndWait(
      NET_RG,
      vnet,
      name,
      { addressPrefix: prefix, ...extra },
      FAST,
    );
  }

  /** Creates a template; resolves to the template as GET shows it and the error the SDK threw, if any. */
  async function create(vnetConfig: Record<string, unknown>, extra: Partial<ImageTemplate> = {}) {
    const h = harness();
    const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
    const rg = h.appSettings.IMAGE_BUILDER_RESOURCE_GROUP!;
    const identity = await newBuilderIdentity(h);
    const name = `t-${randomUUID().slice(0, 8)}`;
    const body = templateBody(h, identity.id!, `img-${name}`, {
      vmProfile: { vmSize: 'Standard_D2ds_v5', vnetConfig },
      ...extra,
    });
    let error: Error | undefined;
    try {
      await ib.createOrUpdate(rg, name, body, FAST).pollUntilDone();
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 400) throw e; // refused synchronously
      error = e as Error;
    }
    return { template: await ib.get(rg, name), error, name, rg, identity };
  }

  it('sends the cause in the operation details under a generic top-level error; the SDK keeps only the top level', async () => {
    const h = harness();
    const s = h.appSettings;
    const identity = await newBuilderIdentity(h, { networkRole: false });
    const name = `t-${randomUUID().slice(0, 8)}`;
    const put = await armRequest(
      h,
      'PUT',
      `/subscriptions/${s.AZURE_SUBSCRIPTION_ID}/resourceGroups/${s.IMAGE_BUILDER_RESOURCE_GROUP}/providers/Microsoft.VirtualMachineImages/imageTemplates/${name}?api-version=2025-10-01`,
      wire(h, identity.id!, name),
    );
    expect(put.status).toBe(201);
    const op = new URL(put.headers['azure-asyncoperation']!);
    const status = await armRequest(h, 'GET', `${op.pathname}${op.search}`);
    expect(status.body).toMatchObject({
      status: 'Failed',
      error: {
        code: 'ResourceOperationFailure',
        message: "The resource operation completed with terminal provisioning state 'Failed'.",
        details: [
          {
            code: 'Unauthorized',
            message: expect.stringContaining(`Not authorized to access the resource: ${s.BUILD_SUBNET_ID}.`),
          },
        ],
      },
    });
  });

  it('fails creation when the vnet is in another region than the template', async () => {
    const h = harness();
    await h.clients.network.virtualNetworks.beginCreateOrUpdateAndWait(
      NET_RG,
      'vnet-westeurope',
      { location: 'westeurope', addressSpace: { addressPrefixes: ['10.250.0.0/24'] } },
      FAST,
    );
    await subnet(
      'snet-we',
      '10.250.0.0/28',
      { privateLinkServiceNetworkPolicies: 'Disabled' },
      'vnet-westeurope',
    );
    const subnetId = h.appSettings.BUILD_SUBNET_ID!.replace(
      /virtualNetworks\/.*$/,
      'virtualNetworks/vnet-westeurope/subnets/snet-we',
    );
    const { template, error } = await create({ subnetId });
    expect(error?.message).toBe(GENERIC_CREATE_FAILURE);
    expect(template.provisioningState).toBe('Failed');
    expect(template.provisioningError?.message).toMatch(
      /is in 'westeurope'; it must be in the image template's region 'eastus2'/,
    );
  });

  describe('isolated builds (containerInstanceSubnetId)', () => {
    it('accepts a delegated container subnet in the same vnet, with no private-link policy on the build subnet', async () => {
      const build = await subnet('snet-build-pls-on', '10.240.0.32/28'); // privateLinkServiceNetworkPolicies Enabled
      const aci = await subnet('snet-aci', '10.240.0.48/28', {
        delegations: [{ name: 'aci', serviceName: ACI }],
      });
      expect(aci.delegations?.[0]).toMatchObject({ serviceName: ACI });
      const isolated = await create({ subnetId: build.id, containerInstanceSubnetId: aci.id });
      expect(isolated.error).toBeUndefined();
      expect(isolated.template.provisioningState).toBe('Succeeded');
      expect(isolated.template.vmProfile?.vnetConfig?.containerInstanceSubnetId).toBe(aci.id);
      // The same build subnet with a proxy VM (no container subnet) needs the policy Disabled.
      const proxied = await create({ subnetId: build.id });
      expect(proxied.template.provisioningError?.message).toMatch(
        /privateLinkServiceNetworkPolicies set to Disabled/,
      );
    });

    it('fails creation for a container subnet that is not delegated, is the build subnet, or is in another vnet', async () => {
      const h = harness();
      const buildId = h.appSettings.BUILD_SUBNET_ID!;
      const plain = await subnet('snet-aci-plain', '10.240.0.64/28');
      const notDelegated = await create({ subnetId: buildId, containerInstanceSubnetId: plain.id });
      expect(notDelegated.error?.message).toBe(GENERIC_CREATE_FAILURE);
      expect(notDelegated.template.provisioningError?.message).toMatch(
        /must be delegated to 'Microsoft\.ContainerInstance\/containerGroups'/,
      );
      const same = await create({ subnetId: buildId, containerInstanceSubnetId: buildId });
      expect(same.template.provisioningError?.message).toMatch(/must be a different subnet/);
      await h.clients.network.virtualNetworks.beginCreateOrUpdateAndWait(
        NET_RG,
        'vnet-other',
        { location: 'eastus2', addressSpace: { addressPrefixes: ['10.241.0.0/24'] } },
        FAST,
      );
      const elsewhere = await subnet(
        'snet-aci-other',
        '10.241.0.0/28',
        { delegations: [{ name: 'aci', serviceName: ACI }] },
        'vnet-other',
      );
      const otherVnet = await create({ subnetId: buildId, containerInstanceSubnetId: elsewhere.id });
      expect(otherVnet.template.provisioningError?.message).toMatch(/must be in the same virtual network/);
    });

    it('needs the Microsoft.ContainerInstance provider registered (Providers - Get / Register)', async () => {
      const h = harness();
      const providers = h.clients.resources.providers;
      const aci = await subnet('snet-aci-reg', '10.240.0.80/28', {
        delegations: [{ name: 'aci', serviceName: ACI }],
      });
      expect((await providers.get('Microsoft.ContainerInstance')).registrationState).toBe('Registered');
      await providers.unregister('Microsoft.ContainerInstance');
      expect((await providers.get('Microsoft.ContainerInstance')).registrationState).toBe('NotRegistered');
      const refused = await create({
        subnetId: h.appSettings.BUILD_SUBNET_ID!,
        containerInstanceSubnetId: aci.id,
      });
      expect(refused.template.provisioningError?.message).toMatch(
        /not registered to use namespace 'Microsoft\.ContainerInstance'/,
      );
      await providers.register('Microsoft.ContainerInstance');
      const accepted = await create({
        subnetId: h.appSettings.BUILD_SUBNET_ID!,
        containerInstanceSubnetId: aci.id,
      });
      expect(accepted.template.provisioningState).toBe('Succeeded');
    });

    it('refuses (400) a container subnet without a build subnet, or with a proxy VM size', async () => {
      const h = harness();
      const aciId = h.appSettings.BUILD_SUBNET_ID!.replace(/[^/]+$/, 'snet-aci');
      await expect(create({ containerInstanceSubnetId: aciId })).rejects.toMatchObject({
        statusCode: 400,
        message: expect.stringContaining(
          'may be specified only if vmProfile.vnetConfig.subnetId is also specified',
        ),
      });
      await expect(
        create({
          subnetId: h.appSettings.BUILD_SUBNET_ID!,
          containerInstanceSubnetId: aciId,
          proxyVmSize: 'Standard_A2_v2',
        }),
      ).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('proxyVmSize') });
    });
  });

  describe('outbound access of the build subnet', () => {
    it('the default build subnet is private with a NAT gateway, as the Network API shows it', async () => {
      const h = harness();
      const s = await h.clients.network.subnets.get(NET_RG, VNET, 'snet-imagebuilder');
      expect(s.defaultOutboundAccess).toBe(false);
      expect(s.natGateway?.id).toMatch(/\/natGateways\/ng-imagebuilder$/);
    });

    it('a private subnet without NAT or a default route: the customizer downloads time out (customization.log)', async () => {
      const h = harness();
      const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
      const noEgress = await subnet('snet-private', '10.240.0.96/28', {
        privateLinkServiceNetworkPolicies: 'Disabled',
        defaultOutboundAccess: false,
      });
      const t = await create({ subnetId: noEgress.id });
      expect(t.template.provisioningState).toBe('Succeeded');
      await grantImageContributor(h, t.identity.principalId!);
      await ib.run(t.rg, t.name, FAST).submitted();
      const { template, seen } = await pollUntilTerminal(h, t.rg, t.name);
      expect(seen.at(-1)).toBe('Failed/Customizing');
      expect(template.lastRunStatus?.message).toMatch(/customization\.log/);
      const url = h.emulator.state.imageTemplate(t.name)!.logUrls[0]!;
      const [account, path] = url.split('/packerlogs/') as [string, string];
      const log = (
        await h.clients
          .blobService(account)
          .getContainerClient('packerlogs')
          .getBlobClient(path)
          .downloadToBuffer()
      ).toString();
      expect(log).toContain('Could not connect to azure.archive.ubuntu.com:80');
      expect(log).toContain('curl: (28) Failed to connect to github.com port 443');
      expect(log).toContain('Script exited with non-zero exit status: 28');
    });

    it('a route table decides: 0.0.0.0/0 to an appliance gives a private subnet egress; next hop None drops default access', async () => {
      const h = harness();
      const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
      const rt = (name: string, nextHopType: string) =>
        h.clients.network.routeTables.beginCreateOrUpdateAndWait(
          NET_RG,
          name,
          {
            location: 'eastus2',
            routes: [
              {
                name: 'default',
                addressPrefix: '0.0.0.0/0',
                nextHopType,
                ...(nextHopType === 'VirtualAppliance' ? { nextHopIpAddress: '10.0.0.4' } : {}),
              },
            ],
          },
          FAST,
        );
      const firewall = await rt('rt-to-firewall', 'VirtualAppliance');
      const blackhole = await rt('rt-blackhole', 'None');
      const viaFirewall = await subnet('snet-fw', '10.240.0.112/28', {
        privateLinkServiceNetworkPolicies: 'Disabled',
        defaultOutboundAccess: false,
        routeTable: { id: firewall.id },
      });
      const dropped = await subnet('snet-drop', '10.240.0.128/28', {
        privateLinkServiceNetworkPolicies: 'Disabled',
        routeTable: { id: blackhole.id },
      });
      const outcomes: string[] = [];
      for (const id of [viaFirewall.id!, dropped.id!]) {
        const t = await create({ subnetId: id });
        await grantImageContributor(h, t.identity.principalId!);
        await ib.run(t.rg, t.name, FAST).submitted();
        outcomes.push((await pollUntilTerminal(h, t.rg, t.name)).seen.at(-1)!);
      }
      expect(outcomes).toEqual(['Succeeded/Distributing', 'Failed/Customizing']);
    });
  });
});

/** The template body as JSON on the wire (the SDK's camelCase model nests the properties). */
function wire(h: ReturnType<ReturnType<typeof useEmulator>>, identityId: string, name: string) {
  const t = templateBody(h, identityId, `img-${name}`);
  const { location, identity, tags, ...properties } = t as ImageTemplate & { tags?: unknown };
  return { location, identity, ...(tags ? { tags } : {}), properties };
}
