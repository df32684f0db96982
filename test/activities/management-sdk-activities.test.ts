/**
 * The activities that use the Resource and Storage management SDKs, against the ARM emulator:
 * promoteImage (Tags - Update At Scope, image list/delete), stagingResourceGroupState (resource group get) and
 * findStagingAccount (storage accounts by resource group).
 */
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../src/activities/deps.js';
import {
  BUILD_ID_TAG,
  CURRENT_TAG,
  promoteImage,
  retentionSplit,
} from '../../src/activities/image/promote-image.js';
import { findStagingAccount } from '../../src/activities/logs/staging-account.js';
import { stagingResourceGroupState } from '../../src/activities/roles/persistent-roles.js';
import { parseConfig } from '../../src/config.js';
import { createTemplate, FAST } from '../emulator/helpers.js';
import { useEmulator } from '../support/emulator.js';

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

describe('promoteImage (current marker and retention)', () => {
  const DEF = 'aks-jumpbox';
  const defTags = (extra: Record<string, string> = {}) => ({ 'jumpbox-definition': DEF, ...extra });

  async function named(name: string, tags: Record<string, string>) {
    const h = harness();
    const rg = h.appSettings.IMAGE_DESTINATION_RESOURCE_GROUP!;
    const image = await h.clients.compute.images
      .createOrUpdate(rg, name, { location: h.appSettings.AZURE_LOCATION!, tags }, FAST)
      .pollUntilDone();
    return { rg, name, id: image.id! };
  }

  it('tags the new image current (keeping its other tags), moves the marker off the previous one, keeps N', async () => {
    const h = harness();
    const cfg = parseConfig({ ...h.appSettings, IMAGE_RETENTION_COUNT: '2' });
    const d = { ...deps, config: cfg };
    const old1 = await named(`${DEF}-20260101-1`, defTags());
    const old2 = await named(`${DEF}-20260201-1`, defTags({ [CURRENT_TAG]: 'true' }));
    const other = await named('someone-elses', { owner: 'platform' });
    const fresh = await named(`${DEF}-20260301-1`, defTags({ owner: 'platform' }));
    const r = await promoteImage(d, {
      definition: DEF,
      imageId: fresh.id,
      buildId: 'b-1',
      builtAt: '2026-03-01T10:00:00.000Z',
    });
    expect(r.current).toBe(fresh.id);
    expect(r.deleted).toEqual([old1.id]);
    expect((await h.clients.compute.images.get(fresh.rg, fresh.name)).tags).toEqual(
      defTags({
        owner: 'platform',
        [BUILD_ID_TAG]: 'b-1',
        [CURRENT_TAG]: 'true',
        'jumpbox-built-at': '2026-03-01T10:00:00.000Z',
      }),
    );
    expect((await h.clients.compute.images.get(old2.rg, old2.name)).tags?.[CURRENT_TAG]).toBeUndefined();
    await expect(h.clients.compute.images.get(old1.rg, old1.name)).rejects.toMatchObject({ statusCode: 404 });
    // Images of other owners are never touched.
    expect((await h.clients.compute.images.get(other.rg, other.name)).tags).toEqual({ owner: 'platform' });
  });

  it('retentionSplit keeps the current image and the newest others, whatever the order given', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.tuple(fc.integer({ min: 20250101, max: 20251231 }), fc.integer({ min: 1, max: 9 })),
          {
            minLength: 1,
            maxLength: 12,
            selector: ([d, n]) => `${d}-${n}`,
          },
        ),
        fc.integer({ min: 1, max: 5 }),
        (entries, count) => {
          const images = entries.map(([date, n]) => ({
            id: `/i/${DEF}-${date}-${n}`,
            name: `${DEF}-${date}-${n}`,
            tags: {},
          }));
          const current = images[0]!;
          const { keep, drop } = retentionSplit(DEF, images, current.id, count);
          expect(keep.length).toBe(Math.min(count, images.length));
          expect(keep[0]).toBe(current);
          expect(keep.length + drop.length).toBe(images.length);
          const key = (x: { name: string }) =>
            x.name
              .slice(DEF.length + 1)
              .split('-')
              .map(Number) as [number, number];
          const newer = (a: [number, number], b: [number, number]) =>
            a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
          for (const k of keep.slice(1)) for (const d of drop) expect(newer(key(d), key(k))).toBe(false);
        },
      ),
    );
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
