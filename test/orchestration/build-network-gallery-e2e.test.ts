/**
 * End to end through the local host and the ARM emulator, with role assignments that take minutes to count:
 * - a gallery in another resource group as the distribution target: the grant covers the gallery image
 *   definition wherever it lives (GALLERY_RESOURCE_GROUPS), the build succeeds, nothing is left granted;
 * - an isolated build (a container-instance subnet delegated to Microsoft.ContainerInstance/containerGroups,
 *   image-builder-networking.md): succeeds; each misconfiguration is refused by preflight, before anything is
 *   created, with its fix.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BuildOutput } from '../../src/orchestration/contracts.js';
import { buildInstanceId } from '../../src/orchestration/contracts.js';
import { type BuildHost, startBuildHost } from './build-host.js';

const SUB = '00000000-0000-4000-8000-000000000001';
const GALLERY_RG = 'rg-shared-galleries';
const GALLERY_IMAGE = `/subscriptions/${SUB}/resourceGroups/${GALLERY_RG}/providers/Microsoft.Compute/galleries/galshared/images/jumpbox`;
const NET_RG = 'rg-enterprise-networking-spokes';
const VNET = 'vnet-imagebuilder';
const ACI_SUBNET = `/subscriptions/${SUB}/resourceGroups/${NET_RG}/providers/Microsoft.Network/virtualNetworks/${VNET}/subnets/snet-aci`;
const FAST = { updateIntervalInMs: 5 };

let b: BuildHost;
beforeAll(async () => {
  b = await startBuildHost({
    definitions: [
      {
        name: 'gal-jumpbox',
        distribute: {
          managedImage: false,
          gallery: { imageDefinitionId: GALLERY_IMAGE, targetRegions: [{ name: 'eastus2' }] },
        },
      },
      { name: 'iso-jumpbox', containerInstanceSubnetId: ACI_SUBNET },
    ],
    env: { GALLERY_RESOURCE_GROUPS: GALLERY_RG },
  });
});
afterAll(async () => {
  await b?.stop();
});

async function run(definition: string): Promise<{ buildId: string; output: BuildOutput }> {
  const buildId = await b.startBuild(definition, { force: true });
  const id = buildInstanceId(definition);
  for (let i = 0; i < 20_000; i++) {
    await b.host.settle();
    const s = await b.host.getStatus(id);
    if (s && ['Completed', 'Failed', 'Terminated'].includes(s.runtimeStatus)) {
      expect(s.runtimeStatus).toBe('Completed');
      return { buildId, output: s.output as BuildOutput };
    }
    b.harness.clock.advanceBy(60_000);
  }
  throw new Error('did not finish');
}

/** Image Contributor assignments anywhere (emulator state). */
function imageContributorAssignments() {
  const guid = b.env.IMAGE_CONTRIBUTOR_ROLE_ID!.slice(b.env.IMAGE_CONTRIBUTOR_ROLE_ID!.lastIndexOf('/') + 1);
  return b.harness.emulator.state
    .roleAssignments()
    .filter((a) => a.roleDefinitionId.toLowerCase().endsWith(guid));
}

async function aciSubnet(delegated: boolean): Promise<void> {
  await b.harness.clients.network.subnets.beginCreateOrUpdateAndWait(
    NET_RG,
    VNET,
    'snet-aci',
    {
      addressPrefix: '10.240.0.16/28',
      delegations: delegated
        ? [{ name: 'aci', serviceName: 'Microsoft.ContainerInstance/containerGroups' }]
        : [],
    },
    FAST,
  );
}

describe('distribution targets and network modes', () => {
  beforeEach(() => {
    b.harness.emulator.control.reset();
    b.harness.emulator.control.setRbacPropagation(300);
  });

  it('a gallery in another resource group: Succeeded, the version in that gallery, 0 grants left', async () => {
    await b.harness.clients.resources.resourceGroups.createOrUpdate(GALLERY_RG, { location: 'eastus2' });
    await b.harness.clients.compute.galleries
      .createOrUpdate(GALLERY_RG, 'galshared', { location: 'eastus2' }, FAST)
      .pollUntilDone();
    await b.harness.clients.compute.galleryImages
      .createOrUpdate(
        GALLERY_RG,
        'galshared',
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
    const { output } = await run('gal-jumpbox');
    expect(output.result).toBe('Succeeded');
    expect(output.imageId?.toLowerCase()).toMatch(new RegExp(`^${GALLERY_IMAGE.toLowerCase()}/versions/`));
    expect(imageContributorAssignments()).toEqual([]);
  });

  it('an isolated build with a delegated container-instance subnet: Succeeded, 0 grants left', async () => {
    await aciSubnet(true);
    const { output } = await run('iso-jumpbox');
    expect(output.result).toBe('Succeeded');
    const t = b.harness.emulator.state.imageTemplate(output.templateName!);
    expect(JSON.stringify(t)).toContain('snet-aci');
    expect(output.grant?.grantSeconds).toBeGreaterThan(0);
    expect(imageContributorAssignments()).toEqual([]);
  });

  it('a container-instance subnet that is not delegated: refused by preflight with the fix, nothing created', async () => {
    await aciSubnet(false);
    const { output } = await run('iso-jumpbox');
    expect(output.result).toBe('Failed');
    expect(output.error?.code).toBe('PreflightFailed');
    expect(output.error?.message).toMatch(
      /aci-delegation.*--delegations Microsoft\.ContainerInstance\/containerGroups/,
    );
    expect(b.harness.emulator.state.imageTemplates()).toEqual([]);
    expect(imageContributorAssignments()).toEqual([]);
  });

  it('Microsoft.ContainerInstance not registered: refused by preflight with the fix', async () => {
    await aciSubnet(true);
    b.harness.emulator.control.seed({
      registeredProviders: [
        'Microsoft.Compute',
        'Microsoft.Network',
        'Microsoft.Storage',
        'Microsoft.VirtualMachineImages',
        'Microsoft.ManagedIdentity',
        'Microsoft.Authorization',
        'Microsoft.Resources',
      ],
    });
    const { output } = await run('iso-jumpbox');
    expect(output.error?.code).toBe('PreflightFailed');
    expect(output.error?.message).toMatch(
      /aci-provider.*az provider register -n Microsoft\.ContainerInstance/,
    );
    expect(b.harness.emulator.state.imageTemplates()).toEqual([]);
  });

  it('a container-instance subnet that does not exist: refused by preflight with the fix', async () => {
    const { output } = await run('iso-jumpbox');
    expect(output.error?.code).toBe('PreflightFailed');
    expect(output.error?.message).toMatch(/aci-subnet.*was not found; create it/);
  });

  it('a build subnet with no outbound path (private, no NAT gateway, no route, no mirror): refused by preflight', async () => {
    const subnets = b.harness.clients.network.subnets;
    const current = await subnets.get(NET_RG, VNET, 'snet-imagebuilder');
    await subnets.beginCreateOrUpdateAndWait(
      NET_RG,
      VNET,
      'snet-imagebuilder',
      { ...current, natGateway: undefined, defaultOutboundAccess: false },
      FAST,
    );
    const { output } = await run('iso-jumpbox');
    expect(output.error?.code).toBe('PreflightFailed');
    expect(output.error?.message).toMatch(
      /outbound-access.*no path to the internet.*NAT gateway.*DOWNLOAD_MIRROR_URL/,
    );
    expect(b.harness.emulator.state.imageTemplates()).toEqual([]);
    expect(imageContributorAssignments()).toEqual([]);
  });
});
