/**
 * Exact-version resolution for a gallery source (the build's first activity): "latest" is the numerically
 * newest provisioned version not excluded from latest; a pinned version must exist. Compute is a recording fake.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ListedGalleryVersion,
  newestGalleryVersion,
  resolveSourceVersion,
} from '../../src/activities/source-version.js';
import type { AzureClients } from '../../src/azure/clients.js';
import { ClassifiedError } from '../../src/azure/errors.js';
import { parseConfig } from '../../src/config.js';
import { minimalSettings, SOURCE_GALLERY_IMAGE } from './support/examples.js';

const env = minimalSettings;

function configWith(source: Record<string, unknown>) {
  return parseConfig({
    ...env,
    GALLERY_RESOURCE_GROUPS: 'rg-golden',
    IMAGE_DEFINITIONS: JSON.stringify([{ name: 'golden-jb', source }]),
  });
}

interface FakeVersion {
  name: string;
  excludeFromLatest?: boolean;
  provisioningState?: string;
}

function fakeCompute(versions: FakeVersion[], getError?: unknown) {
  const calls: string[][] = [];
  const galleryImageVersions = {
    async *listByGalleryImage(rg: string, gallery: string, image: string) {
      calls.push(['list', rg, gallery, image]);
      for (const v of versions) {
        yield {
          name: v.name,
          provisioningState: v.provisioningState,
          publishingProfile: { excludeFromLatest: v.excludeFromLatest },
        };
      }
    },
    async get(rg: string, gallery: string, image: string, version: string) {
      calls.push(['get', rg, gallery, image, version]);
      if (getError) throw getError;
      const v = versions.find((x) => x.name === version);
      if (!v) throw Object.assign(new Error('ResourceNotFound'), { statusCode: 404 });
      return { name: v.name };
    },
  };
  return { calls, clients: { compute: { galleryImageVersions } } as unknown as AzureClients };
}

async function failure(p: Promise<unknown>): Promise<ClassifiedError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ClassifiedError);
  return e as ClassifiedError;
}

describe('gallery source version resolution', () => {
  it('"latest": newest by numeric order, skipping excluded-from-latest and unprovisioned versions', async () => {
    const { calls, clients } = fakeCompute([
      { name: '1.0.9' },
      { name: '1.0.10', provisioningState: 'Succeeded' },
      { name: '1.0.11', excludeFromLatest: true },
      { name: '1.0.12', provisioningState: 'Failed' },
      { name: '1.0.2' },
    ]);
    const config = configWith({ galleryImageId: SOURCE_GALLERY_IMAGE });
    await expect(resolveSourceVersion({ config, clients }, { definition: 'golden-jb' })).resolves.toEqual({
      galleryImageId: SOURCE_GALLERY_IMAGE,
      version: '1.0.10',
    });
    expect(calls).toEqual([['list', 'rg-golden', 'galGolden', 'ubuntu-24-hardened']]);
  });

  it('"latest" with no usable version is a permanent error naming the setting', async () => {
    const { clients } = fakeCompute([{ name: '2.0.0', excludeFromLatest: true }]);
    const config = configWith({ galleryImageId: SOURCE_GALLERY_IMAGE });
    const e = await failure(resolveSourceVersion({ config, clients }, { definition: 'golden-jb' }));
    expect(e.failure).toMatchObject({ kind: 'permanent', code: 'SourceImageNotFound' });
    expect(e.message).toMatch(/IMAGE_DEFINITIONS\[golden-jb\]\.source\.version/);
  });

  it('a pinned version is used when it exists (even excluded from latest), else a permanent error', async () => {
    const { calls, clients } = fakeCompute([{ name: '1.0.11', excludeFromLatest: true }]);
    const pinned = configWith({ galleryImageId: SOURCE_GALLERY_IMAGE, version: '1.0.11' });
    await expect(
      resolveSourceVersion({ config: pinned, clients }, { definition: 'golden-jb' }),
    ).resolves.toEqual({ galleryImageId: SOURCE_GALLERY_IMAGE, version: '1.0.11' });
    expect(calls).toEqual([['get', 'rg-golden', 'galGolden', 'ubuntu-24-hardened', '1.0.11']]);
    const missing = configWith({ galleryImageId: SOURCE_GALLERY_IMAGE, version: '1.0.12' });
    const e = await failure(resolveSourceVersion({ config: missing, clients }, { definition: 'golden-jb' }));
    expect(e.failure).toMatchObject({ kind: 'permanent', code: 'SourceImageVersionNotFound' });
    expect(e.message).toMatch(/1\.0\.12.*source\.version/);
  });

  it('a failure other than 404 on a pinned version is passed on for the retry policy to classify', async () => {
    const throttled = Object.assign(new Error('TooManyRequests'), { statusCode: 429 });
    const { clients } = fakeCompute([], throttled);
    const config = configWith({ galleryImageId: SOURCE_GALLERY_IMAGE, version: '1.0.0' });
    await expect(resolveSourceVersion({ config, clients }, { definition: 'golden-jb' })).rejects.toBe(
      throttled,
    );
  });

  it('property: "latest" is the maximum eligible version as a numeric tuple, whatever the listing order', () => {
    const listed = fc.array(
      fc.record({
        name: fc.tuple(fc.nat(20), fc.nat(20), fc.nat(1200)).map(([a, b, c]) => `${a}.${b}.${c}`),
        excludeFromLatest: fc.boolean(),
        provisioningState: fc.constantFrom(undefined, 'Succeeded', 'Creating', 'Failed'),
      }),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(listed, (versions: ListedGalleryVersion[]) => {
        const eligible = versions.filter(
          (v) => !v.excludeFromLatest && (v.provisioningState ?? 'Succeeded') === 'Succeeded',
        );
        const key = (n: string) => n.split('.').map(Number) as [number, number, number];
        const expected = eligible
          .map((v) => v.name)
          .sort((x, y) => {
            const [a, b] = [key(x), key(y)];
            return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
          })
          .at(-1);
        expect(newestGalleryVersion(versions)).toBe(expected);
        expect(newestGalleryVersion([...versions].reverse())).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });
});
