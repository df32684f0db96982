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

/** A control API call over HTTPS (`{controlEndpoint}{path}`), as a test or the bench would make it. */
export async function controlCall(
  h: EmulatorHarness,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const { readFileSync } = await import('node:fs');
  const { request } = await import('node:https');
  const ca = readFileSync(h.emulator.caCertPath, 'utf8');
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${h.emulator.controlEndpoint}${path}`,
      { method, ca, headers: payload ? { 'content-type': 'application/json' } : {} },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString();
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Image Builder's message for a resource the template identity may not use. */
export function notAuthorized(resourceId: string): string {
  return `Not authorized to access the resource: ${resourceId}. Please check the user assigned identity has the correct permissions. For more details, go to https://aka.ms/azvmimagebuilderts.`;
}

/** What @azure/core-lro throws for a failed template creation: the generic top-level error only. */
export const GENERIC_CREATE_FAILURE =
  "The long-running operation has failed. ResourceOperationFailure. The resource operation completed with terminal provisioning state 'Failed'.";
