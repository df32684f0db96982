/**
 * Image Builder's staging resource group rules: a group AIB creates (tags, Contributor for the template
 * identity, deleted with the template) and a pre-existing one (free, empty, same region, identity holds
 * Contributor/Owner, kept on delete); and continueDistributeOnFailure (distributed, still Failed).
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { armRequest, useEmulator } from '../support/emulator.js';
import {
  FAST,
  grantImageContributor,
  newBuilderIdentity,
  pollUntilTerminal,
  templateBody,
} from './helpers.js';

const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';

describe('staging resource group', () => {
  const harness = useEmulator();
  afterEach(() => harness().emulator.control.setBuildBehaviour({ outcome: 'success' }));

  it('creates the group it is given when missing, with AIB tags and Contributor for the identity, and deletes it with the template', async () => {
    const h = harness();
    const s = h.appSettings;
    const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
    const identity = await newBuilderIdentity(h);
    const name = `t-${randomUUID().slice(0, 8)}`;
    await ib
      .createOrUpdate(
        s.IMAGE_BUILDER_RESOURCE_GROUP!,
        name,
        templateBody(h, identity.id!, `img-${name}`),
        FAST,
      )
      .pollUntilDone();
    const stagingRg = `${s.STAGING_RESOURCE_GROUP_PREFIX}img-${name}`;
    const rg = await armRequest(
      h,
      'GET',
      `/subscriptions/${s.AZURE_SUBSCRIPTION_ID}/resourcegroups/${stagingRg}?api-version=2021-04-01`,
    );
    expect(rg.body).toMatchObject({
      tags: {
        createdBy: 'AzureVMImageBuilder',
        imageTemplateName: name,
        imageTemplateResourceGroupName: s.IMAGE_BUILDER_RESOURCE_GROUP,
      },
    });
    const grants = h.emulator.state
      .roleAssignments()
      .filter((a) => a.principalId === identity.principalId && a.scope.endsWith(stagingRg));
    expect(grants.map((g) => g.roleName)).toEqual(['Contributor']);
    await ib.delete(s.IMAGE_BUILDER_RESOURCE_GROUP!, name, FAST).pollUntilDone();
    expect(
      (
        await armRequest(
          h,
          'GET',
          `/subscriptions/${s.AZURE_SUBSCRIPTION_ID}/resourcegroups/${stagingRg}?api-version=2021-04-01`,
        )
      ).status,
    ).toBe(404);
  });

  it('accepts an existing empty group only when the identity holds Contributor there, and keeps it on delete', async () => {
    const h = harness();
    const s = h.appSettings;
    const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
    const identity = await newBuilderIdentity(h);
    const name = `t-${randomUUID().slice(0, 8)}`;
    const stagingRg = `${s.STAGING_RESOURCE_GROUP_PREFIX}img-${name}`;
    const rgPath = `/subscriptions/${s.AZURE_SUBSCRIPTION_ID}/resourcegroups/${stagingRg}?api-version=2021-04-01`;
    await armRequest(h, 'PUT', rgPath, { location: s.AZURE_LOCATION });
    await expect(
      ib
        .createOrUpdate(
          s.IMAGE_BUILDER_RESOURCE_GROUP!,
          name,
          templateBody(h, identity.id!, `img-${name}`),
          FAST,
        )
        .pollUntilDone(),
    ).rejects.toThrow(/ResourceOperationFailure/);
    // Image Builder's words: Unauthorized on the staging group (its provisioningError carries them).
    expect((await ib.get(s.IMAGE_BUILDER_RESOURCE_GROUP!, name)).provisioningError).toEqual({
      provisioningErrorCode: 'BadStagingResourceGroup',
      message: `Not authorized to access the resource: /subscriptions/${s.AZURE_SUBSCRIPTION_ID}/resourceGroups/${stagingRg}. Please check the user assigned identity has the correct permissions. For more details, go to https://aka.ms/azvmimagebuilderts.`,
    });
    await ib.delete(s.IMAGE_BUILDER_RESOURCE_GROUP!, name, FAST).pollUntilDone();
    expect((await armRequest(h, 'GET', rgPath)).status).toBe(200);

    await h.clients.authorization.roleAssignments.create(
      `/subscriptions/${s.AZURE_SUBSCRIPTION_ID}/resourceGroups/${stagingRg}`,
      randomUUID(),
      {
        roleDefinitionId: `/subscriptions/${s.AZURE_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${CONTRIBUTOR}`,
        principalId: identity.principalId!,
        principalType: 'ServicePrincipal',
      },
    );
    const created = await ib
      .createOrUpdate(
        s.IMAGE_BUILDER_RESOURCE_GROUP!,
        name,
        templateBody(h, identity.id!, `img-${name}`),
        FAST,
      )
      .pollUntilDone();
    expect(created.provisioningState).toBe('Succeeded');
    expect((await armRequest(h, 'GET', rgPath)).body).toMatchObject({
      tags: { usedBy: 'AzureVMImageBuilder', imageTemplateName: name },
    });
    // A second template cannot share the group.
    const other = `t-${randomUUID().slice(0, 8)}`;
    await expect(
      ib
        .createOrUpdate(
          s.IMAGE_BUILDER_RESOURCE_GROUP!,
          other,
          { ...templateBody(h, identity.id!, `img-${name}`) },
          FAST,
        )
        .pollUntilDone(),
    ).rejects.toThrow(/ResourceOperationFailure/);
    expect((await ib.get(s.IMAGE_BUILDER_RESOURCE_GROUP!, other)).provisioningError).toMatchObject({
      provisioningErrorCode: 'BadStagingResourceGroup',
      message: expect.stringMatching(/associated with another image template/),
    });
    await ib.delete(s.IMAGE_BUILDER_RESOURCE_GROUP!, other, FAST).pollUntilDone();
    await ib.delete(s.IMAGE_BUILDER_RESOURCE_GROUP!, name, FAST).pollUntilDone();
    const after = await armRequest(
      h,
      'GET',
      `/subscriptions/${s.AZURE_SUBSCRIPTION_ID}/resourcegroups/${stagingRg}/resources?api-version=2021-04-01`,
    );
    expect(after.status).toBe(200);
    expect((after.body as { value: unknown[] }).value).toEqual([]);
  });

  it('distributes despite a validation failure with continueDistributeOnFailure, and still reports Failed', async () => {
    const h = harness();
    const s = h.appSettings;
    h.emulator.control.setBuildBehaviour({ outcome: 'validation-failure' });
    const identity = await newBuilderIdentity(h);
    await grantImageContributor(h, identity.principalId!);
    const name = `t-${randomUUID().slice(0, 8)}`;
    const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
    await ib
      .createOrUpdate(
        s.IMAGE_BUILDER_RESOURCE_GROUP!,
        name,
        templateBody(h, identity.id!, `img-${name}`, {
          validate: {
            continueDistributeOnFailure: true,
            inVMValidations: [{ type: 'Shell', name: 'v', inline: ['false'] }],
          },
        }),
        FAST,
      )
      .pollUntilDone();
    await ib.run(s.IMAGE_BUILDER_RESOURCE_GROUP!, name, FAST).submitted();
    const { template, seen } = await pollUntilTerminal(h, s.IMAGE_BUILDER_RESOURCE_GROUP!, name);
    expect(seen.slice(-3)).toEqual(['Running/Validating', 'Running/Distributing', 'Failed/Distributing']);
    expect(template.lastRunStatus?.message).toContain('validation.log');
    await expect(
      h.clients.compute.images.get(s.IMAGE_DESTINATION_RESOURCE_GROUP!, `img-${name}`),
    ).resolves.toBeDefined();
  });
});
