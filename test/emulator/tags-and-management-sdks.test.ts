/**
 * Tags at scope (Microsoft.Resources/tags/default) and the Resource/Storage management SDKs against the
 * emulator: @azure/arm-resources 8 (resource groups, tags; api 2025-04-01) and @azure/arm-storage 20.2
 * (storage accounts by resource group; api 2026-06-01), including caller RBAC with Tag Contributor.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { requestedAction } from '../../src/local/arm-emulator/caller-authorization.js';
import { applyTagsPatch } from '../../src/local/arm-emulator/providers/tags.js';
import { LOCAL_APP_OBJECT_ID } from '../../src/local/test-credential.js';
import { type EmulatorHarness, useEmulator } from '../support/emulator.js';
import { createTemplate, FAST } from './helpers.js';

const TAG_CONTRIBUTOR = '4a9ae827-6dc8-4573-8ac7-8239d42aa03f';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** A managed image in the destination group, created through the Compute SDK with the given tags. */
async function newImage(h: EmulatorHarness, tags?: Record<string, string>) {
  const rg = h.appSettings.IMAGE_DESTINATION_RESOURCE_GROUP!;
  const name = `img-${randomUUID().slice(0, 8)}`;
  const image = await h.clients.compute.images
    .createOrUpdate(rg, name, { location: h.appSettings.AZURE_LOCATION!, ...(tags ? { tags } : {}) }, FAST)
    .pollUntilDone();
  return { rg, name, id: image.id!, scope: image.id!.replace(/^\//, '') };
}

describe('tags at scope through @azure/arm-resources', () => {
  const harness = useEmulator();
  afterEach(() => harness().emulator.control.setCallerAuthorization(false));

  it('Merge adds and updates, keeps other tags, is idempotent, and the resource GET shows the result', async () => {
    const h = harness();
    const tags = h.clients.resources.tagsOperations;
    const img = await newImage(h, { owner: 'platform', env: 'dev' });
    const merged = await tags.updateAtScope(img.scope, {
      operation: 'Merge',
      properties: { tags: { 'jumpbox-build-id': 'b1', env: 'prod' } },
    });
    expect(merged).toMatchObject({
      id: `${img.id}/providers/Microsoft.Resources/tags/default`,
      name: 'default',
      type: 'Microsoft.Resources/tags',
    });
    const expected = { owner: 'platform', env: 'prod', 'jumpbox-build-id': 'b1' };
    expect(merged.properties.tags).toEqual(expected);
    const again = await tags.updateAtScope(img.scope, {
      operation: 'Merge',
      properties: { tags: { 'jumpbox-build-id': 'b1' } },
    });
    expect(again.properties.tags).toEqual(expected);
    expect((await h.clients.compute.images.get(img.rg, img.name)).tags).toEqual(expected);
    expect((await tags.getAtScope(img.scope)).properties.tags).toEqual(expected);
    // The id with its leading slash (the SDK then sends `//subscriptions/...`) reaches the same resource.
    expect((await tags.getAtScope(img.id)).properties.tags).toEqual(expected);
  });

  it('Delete removes by name or by matching name/value, Replace and PUT replace, DELETE clears', async () => {
    const h = harness();
    const tags = h.clients.resources.tagsOperations;
    const img = await newImage(h, { a: '1', b: '2', c: '3' });
    const deleted = await tags.updateAtScope(img.scope, {
      operation: 'Delete',
      properties: { tags: { A: '', b: 'not-2', c: '3' } },
    });
    expect(deleted.properties.tags).toEqual({ b: '2' });
    const replaced = await tags.updateAtScope(img.scope, {
      operation: 'Replace',
      properties: { tags: { x: 'y' } },
    });
    expect(replaced.properties.tags).toEqual({ x: 'y' });
    const put = await tags.createOrUpdateAtScope(img.scope, { properties: { tags: { p: 'q' } } });
    expect(put.properties.tags).toEqual({ p: 'q' });
    await tags.deleteAtScope(img.scope, FAST);
    expect((await h.clients.compute.images.get(img.rg, img.name)).tags).toBeUndefined();
    expect((await tags.getAtScope(img.scope)).properties.tags).toEqual({});
  });

  it('refuses a bad operation, non-string values and more than 50 tags, naming the field', async () => {
    const h = harness();
    const tags = h.clients.resources.tagsOperations;
    const img = await newImage(h);
    await expect(
      tags.updateAtScope(img.scope, { operation: 'Upsert', properties: { tags: { a: 'b' } } }),
    ).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining("'operation'") });
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, 'v']));
    await expect(
      tags.updateAtScope(img.scope, { operation: 'Merge', properties: { tags: many } }),
    ).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('at most 50') });
    expect((await tags.getAtScope(img.scope)).properties.tags).toEqual({});
  });

  it('answers 404 when the scope does not exist (resource, or its group)', async () => {
    const h = harness();
    const tags = h.clients.resources.tagsOperations;
    const sub = h.emulator.subscriptionId;
    const rg = h.appSettings.IMAGE_DESTINATION_RESOURCE_GROUP!;
    await expect(
      tags.updateAtScope(
        `subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/images/none`,
        {
          operation: 'Merge',
          properties: { tags: { a: 'b' } },
        },
      ),
    ).rejects.toMatchObject({ statusCode: 404, code: 'ResourceNotFound' });
    await expect(
      tags.getAtScope(`subscriptions/${sub}/resourceGroups/rg-missing/providers/Microsoft.Compute/images/x`),
    ).rejects.toMatchObject({ statusCode: 404, code: 'ResourceGroupNotFound' });
  });

  it('tags a resource group; resourceGroups.get and checkExistence see the group', async () => {
    const h = harness();
    const rgName = `rg-tags-${randomUUID().slice(0, 8)}`;
    const groups = h.clients.resources.resourceGroups;
    expect((await groups.checkExistence(rgName)).body).toBe(false);
    await groups.createOrUpdate(rgName, { location: h.appSettings.AZURE_LOCATION!, tags: { a: '1' } });
    expect((await groups.checkExistence(rgName)).body).toBe(true);
    await h.clients.resources.tagsOperations.updateAtScope(
      `subscriptions/${h.emulator.subscriptionId}/resourceGroups/${rgName}`,
      { operation: 'Merge', properties: { tags: { b: '2' } } },
    );
    expect((await groups.get(rgName)).tags).toEqual({ a: '1', b: '2' });
    const sent = h.emulator.state
      .requests()
      .filter((r) => r.request.url.includes('/providers/Microsoft.Resources/tags/default'));
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((r) => r.request.url.includes('api-version=2025-04-01'))).toBe(true);
  });

  it('with caller RBAC, Tag Contributor may tag an image but not rewrite it', async () => {
    const h = harness();
    const again = await newImage(h);
    const destination = `/subscriptions/${h.emulator.subscriptionId}/resourceGroups/${again.rg}`;
    // The app's principal holds only Tag Contributor on the destination group.
    h.emulator.control.seed({
      roleAssignments: [
        {
          scope: destination,
          roleDefinitionGuid: TAG_CONTRIBUTOR,
          principal: { objectId: LOCAL_APP_OBJECT_ID },
        },
      ],
    });
    h.emulator.control.setCallerAuthorization(true);
    const result = await h.clients.resources.tagsOperations.updateAtScope(again.scope, {
      operation: 'Merge',
      properties: { tags: { 'jumpbox-build-id': 'b9' } },
    });
    expect(result.properties.tags).toEqual({ 'jumpbox-build-id': 'b9' });
    await expect(
      h.clients.compute.images
        .createOrUpdate(again.rg, again.name, { location: h.appSettings.AZURE_LOCATION!, tags: {} }, FAST)
        .pollUntilDone(),
    ).rejects.toMatchObject({
      statusCode: 403,
      code: 'AuthorizationFailed',
      message: expect.stringContaining('Microsoft.Compute/images/write'),
    });
    // Outside the destination group the same principal holds nothing.
    await expect(
      h.clients.resources.tagsOperations.updateAtScope(
        `subscriptions/${h.emulator.subscriptionId}/resourceGroups/${h.appSettings.IMAGE_BUILDER_RESOURCE_GROUP}`,
        { operation: 'Merge', properties: { tags: { a: 'b' } } },
      ),
    ).rejects.toMatchObject({
      statusCode: 403,
      message: expect.stringContaining('Microsoft.Resources/tags/write'),
    });
  });
});

describe('tags: RBAC action mapping and patch semantics', () => {
  it('maps tags requests to Microsoft.Resources/tags/* on the tagged entity', () => {
    const image = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images/i';
    const path = `${image}/providers/Microsoft.Resources/tags/default`;
    expect(requestedAction('PATCH', path)).toEqual({
      action: 'Microsoft.Resources/tags/write',
      scope: image,
    });
    expect(requestedAction('PUT', path)).toEqual({ action: 'Microsoft.Resources/tags/write', scope: image });
    expect(requestedAction('GET', path)).toEqual({ action: 'Microsoft.Resources/tags/read', scope: image });
    expect(requestedAction('DELETE', path)).toEqual({
      action: 'Microsoft.Resources/tags/delete',
      scope: image,
    });
  });

  const tagSet = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/), fc.string({ maxLength: 5 }), {
    maxKeys: 8,
  });

  it('Merge keeps every current name, takes every given value, and is idempotent (property)', () => {
    fc.assert(
      fc.property(tagSet, tagSet, (current, given) => {
        const once = applyTagsPatch(current, 'Merge', given);
        for (const [k, v] of Object.entries(given)) expect(once[k]).toBe(v);
        for (const [k, v] of Object.entries(current)) if (!(k in given)) expect(once[k]).toBe(v);
        expect(Object.keys(once).length).toBe(new Set([...Object.keys(current), ...Object.keys(given)]).size);
        expect(applyTagsPatch(once, 'Merge', given)).toEqual(once);
      }),
    );
  });

  it('Replace yields exactly the given set; Delete by name leaves none of the names (property)', () => {
    fc.assert(
      fc.property(tagSet, tagSet, (current, given) => {
        expect(applyTagsPatch(current, 'Replace', given)).toEqual(given);
        const names = Object.fromEntries(Object.keys(given).map((k) => [k, '']));
        const left = applyTagsPatch(current, 'Delete', names);
        for (const k of Object.keys(given)) expect(left).not.toHaveProperty(k);
        for (const [k, v] of Object.entries(current)) if (!(k in given)) expect(left[k]).toBe(v);
      }),
    );
  });
});

describe('storage accounts through @azure/arm-storage', () => {
  const harness = useEmulator();

  it('lists the staging account of a template staging group with its blob endpoint (api 2026-06-01)', async () => {
    const h = harness();
    const { template } = await createTemplate(h);
    const stagingGroup = template.stagingResourceGroup!.split('/').at(-1)!;
    const accounts = await collect(h.clients.storage.storageAccounts.listByResourceGroup(stagingGroup));
    expect(accounts).toHaveLength(1);
    expect(accounts[0]!.primaryEndpoints?.blob).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/aibstaging\d\/$/);
    expect(accounts[0]!.tags).toMatchObject({ createdBy: 'AzureVMImageBuilder' });
    await expect(
      collect(h.clients.storage.storageAccounts.listByResourceGroup('rg-missing')),
    ).rejects.toMatchObject({ statusCode: 404, code: 'ResourceGroupNotFound' });
    const sent = h.emulator.state
      .requests()
      .filter((r) => r.request.url.includes('/providers/Microsoft.Storage/storageAccounts'));
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((r) => r.request.url.includes('api-version=2026-06-01'))).toBe(true);
  });
});
