/**
 * The activities that use the Resource and Storage management SDKs, against the ARM emulator:
 * tagImage (Tags - Update At Scope), stagingResourceGroupState (resource group get) and
 * findStagingAccount (storage accounts by resource group).
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../src/activities/deps.js';
import { BUILD_ID_TAG, tagImage } from '../../src/activities/image/tag-image.js';
import { findStagingAccount } from '../../src/activities/logs/staging-account.js';
import { stagingResourceGroupState } from '../../src/activities/roles/persistent-roles.js';
import { parseConfig } from '../../src/config.js';
import { LOCAL_APP_OBJECT_ID } from '../../src/local/test-credential.js';
import { createTemplate, FAST } from '../emulator/helpers.js';
import { useEmulator } from '../support/emulator.js';

const TAG_CONTRIBUTOR = '4a9ae827-6dc8-4573-8ac7-8239d42aa03f';
const harness = useEmulator();
let deps: ActivityDeps;
const logs: string[] = [];
beforeEach(() => {
  const h = harness();
  h.emulator.control.reset();
  logs.length = 0;
  deps = {
    config: parseConfig({ ...h.appSettings }),
    clients: h.clients,
    log: (m) => logs.push(m),
    sleep: async () => {},
    lroPollIntervalMs: 1,
  };
});
afterEach(() => harness().emulator.control.setCallerAuthorization(false));

async function managedImage(tags: Record<string, string>) {
  const h = harness();
  const rg = h.appSettings.IMAGE_DESTINATION_RESOURCE_GROUP!;
  const name = `img-${randomUUID().slice(0, 8)}`;
  const image = await h.clients.compute.images
    .createOrUpdate(rg, name, { location: h.appSettings.AZURE_LOCATION!, tags }, FAST)
    .pollUntilDone();
  return { rg, name, id: image.id! };
}

describe('tagImage', () => {
  it('merges the build id into the image tags, keeps the others, and a repeat changes nothing', async () => {
    const h = harness();
    const img = await managedImage({ owner: 'platform', [BUILD_ID_TAG]: 'old-build' });
    const before = h.emulator.state.requests().length;
    await expect(tagImage(deps, { imageId: img.id, buildId: 'b-1' })).resolves.toEqual({ tagged: true });
    await expect(tagImage(deps, { imageId: img.id, buildId: 'b-1' })).resolves.toEqual({ tagged: true });
    const after = h.emulator.state.requests().length;
    expect((await h.clients.compute.images.get(img.rg, img.name)).tags).toEqual({
      owner: 'platform',
      [BUILD_ID_TAG]: 'b-1',
    });
    const sent = h.emulator.state
      .requests()
      .slice(before, after)
      .map((r) => `${r.request.method} ${new URL(r.request.url).pathname}`);
    // Only the Tags API: no image GET or PUT (which would need Microsoft.Compute/images/write).
    expect(sent).toEqual(Array(2).fill(`PATCH ${img.id}/providers/Microsoft.Resources/tags/default`));
  });

  it('works with only Tag Contributor on the destination group (the deployed app rights)', async () => {
    const h = harness();
    const img = await managedImage({});
    h.emulator.control.seed({
      roleAssignments: [
        {
          scope: `/subscriptions/${h.emulator.subscriptionId}/resourceGroups/${img.rg}`,
          roleDefinitionGuid: TAG_CONTRIBUTOR,
          principal: { objectId: LOCAL_APP_OBJECT_ID },
        },
      ],
    });
    h.emulator.control.setCallerAuthorization(true);
    await expect(tagImage(deps, { imageId: img.id, buildId: 'b-2' })).resolves.toEqual({ tagged: true });
    h.emulator.control.setCallerAuthorization(false);
    expect((await h.clients.compute.images.get(img.rg, img.name)).tags).toEqual({ [BUILD_ID_TAG]: 'b-2' });
  });

  it('skips ids that are not managed images and fails with 404 for a missing image', async () => {
    const h = harness();
    const sub = h.emulator.subscriptionId;
    const rg = h.appSettings.IMAGE_DESTINATION_RESOURCE_GROUP!;
    const before = h.emulator.state.requests().length;
    await expect(
      tagImage(deps, {
        imageId: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/galleries/g/images/d/versions/1.0.0`,
        buildId: 'b',
      }),
    ).resolves.toEqual({ tagged: false });
    expect(h.emulator.state.requests().length).toBe(before);
    await expect(
      tagImage(deps, {
        imageId: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/images/missing`,
        buildId: 'b',
      }),
    ).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe('stagingResourceGroupState', () => {
  it('reports the per-definition staging group as absent, then present once created', async () => {
    const h = harness();
    const definition = deps.config.definitions[0]!.name;
    const absent = await stagingResourceGroupState(deps, definition);
    expect(absent.exists).toBe(false);
    await h.clients.resources.resourceGroups.createOrUpdate(absent.name, {
      location: h.appSettings.AZURE_LOCATION!,
    });
    await expect(stagingResourceGroupState(deps, definition)).resolves.toEqual({
      name: absent.name,
      exists: true,
    });
  });
});

describe('findStagingAccount', () => {
  it('finds the staging account of a template, undefined for a missing group, and rejects a non-group id', async () => {
    const h = harness();
    const { template } = await createTemplate(h);
    const found = await findStagingAccount(h.clients, template.stagingResourceGroup!);
    expect(found?.name).toMatch(/^aibstaging\d$/);
    expect(found?.blobEndpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/aibstaging\d$/);
    expect(found?.blobEndpoint.endsWith(`/${found?.name}`)).toBe(true);
    await expect(
      findStagingAccount(h.clients, `/subscriptions/${h.emulator.subscriptionId}/resourceGroups/rg-none`),
    ).resolves.toBeUndefined();
    await expect(findStagingAccount(h.clients, 'rg-just-a-name')).rejects.toThrow(/stagingResourceGroupId/);
  });
});
