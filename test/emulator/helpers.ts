/** Shared steps for the Image Builder tests: a new builder identity with its network role, a template body, polling. */
import { randomUUID } from 'node:crypto';
import type { ImageTemplate } from '@azure/arm-imagebuilder';
import type { EmulatorHarness } from '../support/emulator.js';

export const FAST = { updateIntervalInMs: 5 };

export function templateBody(
  h: EmulatorHarness,
  identityId: string,
  imageName: string,
  extra: Partial<ImageTemplate> = {},
): ImageTemplate {
  const s = h.appSettings;
  return {
    location: s.AZURE_LOCATION!,
    identity: { type: 'UserAssigned', userAssignedIdentities: { [identityId]: {} } },
    source: {
      type: 'PlatformImage',
      publisher: 'Canonical',
      offer: 'ubuntu-24_04-lts',
      sku: 'server',
      version: 'latest',
    },
    customize: [{ type: 'Shell', name: 'install-tools', inline: ['echo hello'] }],
    distribute: [
      {
        type: 'ManagedImage',
        runOutputName: 'managed',
        imageId: `/subscriptions/${s.AZURE_SUBSCRIPTION_ID}/resourceGroups/${s.IMAGE_DESTINATION_RESOURCE_GROUP}/providers/Microsoft.Compute/images/${imageName}`,
        location: s.AZURE_LOCATION!,
      },
    ],
    buildTimeoutInMinutes: 90,
    vmProfile: { vmSize: 'Standard_D2ds_v5', osDiskSizeGB: 64, vnetConfig: { subnetId: s.BUILD_SUBNET_ID! } },
    stagingResourceGroup: `/subscriptions/${s.AZURE_SUBSCRIPTION_ID}/resourceGroups/${s.STAGING_RESOURCE_GROUP_PREFIX}${imageName}`,
    ...extra,
  } as ImageTemplate;
}

/** An identity created "moments ago" plus the network role on the vnet, as the orchestration does it. */
export async function newBuilderIdentity(h: EmulatorHarness, options: { networkRole?: boolean } = {}) {
  const s = h.appSettings;
  const identity = await h.clients.msi.userAssignedIdentities.createOrUpdate(
    s.IMAGE_BUILDER_RESOURCE_GROUP!,
    `id-${randomUUID().slice(0, 8)}`,
    {
      location: s.AZURE_LOCATION!,
    },
  );
  if (options.networkRole !== false) {
    await h.clients.authorization.roleAssignments.create(
      s.BUILD_SUBNET_ID!.replace(/\/subnets\/[^/]+$/, ''),
      randomUUID(),
      {
        roleDefinitionId: s.NETWORK_JOINER_ROLE_ID!,
        principalId: identity.principalId!,
        principalType: 'ServicePrincipal',
      },
    );
  }
  return identity;
}

export async function grantImageContributor(h: EmulatorHarness, principalId: string): Promise<void> {
  const s = h.appSettings;
  await h.clients.authorization.roleAssignments.create(
    `/subscriptions/${s.AZURE_SUBSCRIPTION_ID}/resourceGroups/${s.IMAGE_DESTINATION_RESOURCE_GROUP}`,
    randomUUID(),
    {
      roleDefinitionId: s.IMAGE_CONTRIBUTOR_ROLE_ID!,
      principalId,
      principalType: 'ServicePrincipal',
    },
  );
}

/** Reads the template, moving the virtual clock `stepSeconds` between reads, until the run ends. */
export async function pollUntilTerminal(h: EmulatorHarness, rg: string, name: string, stepSeconds = 60) {
  const seen: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const t = await h.clients.imageBuilder.virtualMachineImageTemplates.get(rg, name);
    const st = t.lastRunStatus!;
    const label = `${st.runState}/${st.runSubState}`;
    if (seen.at(-1) !== label) seen.push(label);
    if (st.runState !== 'Running' && st.runState !== 'Canceling') return { template: t, seen };
    h.clock.advanceBy(stepSeconds * 1000);
  }
  throw new Error(`build did not end; states seen: ${seen.join(' -> ')}`);
}

/** Creates a template (with identity and network role) and waits for provisioning. */
export async function createTemplate(
  h: EmulatorHarness,
  extra: Partial<ImageTemplate> = {},
  options: { imageContributor?: boolean } = {},
) {
  const identity = await newBuilderIdentity(h);
  if (options.imageContributor !== false) await grantImageContributor(h, identity.principalId!);
  const name = `jumpbox-${randomUUID().slice(0, 8)}`;
  const rg = h.appSettings.IMAGE_BUILDER_RESOURCE_GROUP!;
  const template = await h.clients.imageBuilder.virtualMachineImageTemplates
    .createOrUpdate(rg, name, templateBody(h, identity.id!, `img-${name}`, extra), FAST)
    .pollUntilDone();
  return { identity, name, rg, template, imageName: `img-${name}` };
}
