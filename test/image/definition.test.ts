import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';
import {
  DEFAULT_DEFINITION_NAME,
  imageDefinitionSchema,
  imageDefinitionsSchema,
  manifestOf,
  parseImageDefinition,
} from '../../src/image/definition.js';
import {
  DEFAULT_TOOLS_MANIFEST,
  ManifestError,
  pinnedSha256,
  resolveManifest,
} from '../../src/image/tools-manifest.js';
import { sourceOf } from '../../src/triggers/definition-source.js';
import { minimalSettings, SOURCE_GALLERY_IMAGE, SUB, VNET } from './support/examples.js';

function issues(input: unknown): Array<{ path: string; message: string }> {
  const r = imageDefinitionSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

describe('image definition schema', () => {
  it('fills every default from a name alone', () => {
    const d = parseImageDefinition({ name: DEFAULT_DEFINITION_NAME });
    expect(d.source).toEqual({
      publisher: 'Canonical',
      offer: 'ubuntu-24_04-lts',
      sku: 'server',
      version: 'latest',
    });
    expect(d).toMatchObject({
      vmSize: 'Standard_D2ds_v5',
      osDiskSizeGB: 64,
      buildTimeoutInMinutes: 90,
      tools: {},
      tags: {},
    });
    expect(d.distribute).toEqual({ managedImage: true });
    expect(manifestOf(d)).toEqual(DEFAULT_TOOLS_MANIFEST);
  });

  it('accepts Ubuntu 22.04 gen2 and rejects 18.04 as end-of-life, naming the field', () => {
    expect(
      issues({ name: 'jb', source: { offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2' } }),
    ).toEqual([{ path: 'name', message: expect.stringMatching(/3-32 lowercase/) }]);
    expect(
      issues({ name: 'jb1', source: { offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2' } }),
    ).toEqual([]);
    const eol = issues({ name: 'jb1', source: { offer: 'UbuntuServer', sku: '18.04-LTS' } });
    expect(eol).toEqual([
      {
        path: 'source.sku',
        message: expect.stringMatching(/18\.04 LTS is end-of-life.*ubuntu-24_04-lts\/server/),
      },
    ]);
    expect(issues({ name: 'jb1', source: { offer: 'ubuntu-24_04-lts', sku: 'server-gen1' } })[0]?.path).toBe(
      'source.offer',
    );
    expect(issues({ name: 'jb1', source: { version: '24.04' } })[0]?.path).toBe('source.version');
  });

  it('accepts a gallery source (version "latest" by default, or pinned) that the triggers read as a gallery source', () => {
    const latest = parseImageDefinition({ name: 'jb1', source: { galleryImageId: SOURCE_GALLERY_IMAGE } });
    expect(latest.source).toEqual({ galleryImageId: SOURCE_GALLERY_IMAGE, version: 'latest' });
    expect(sourceOf(latest)).toEqual({
      kind: 'gallery',
      galleryImageId: SOURCE_GALLERY_IMAGE,
      version: 'latest',
    });
    const pinned = parseImageDefinition({
      name: 'jb1',
      source: { galleryImageId: SOURCE_GALLERY_IMAGE, version: '1.0.10' },
    });
    expect(sourceOf(pinned)).toEqual({
      kind: 'gallery',
      galleryImageId: SOURCE_GALLERY_IMAGE,
      version: '1.0.10',
    });
    expect(sourceOf(parseImageDefinition({ name: 'jb1' }))?.kind).toBe('marketplace');
  });

  it('rejects a bad gallery source naming the field and the fix', () => {
    expect(
      issues({ name: 'jb1', source: { galleryImageId: `${SOURCE_GALLERY_IMAGE}/versions/1.0.0` } }),
    ).toEqual([
      { path: 'source.galleryImageId', message: expect.stringMatching(/put the version in source\.version/) },
    ]);
    const managedImage = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/images/img`;
    expect(issues({ name: 'jb1', source: { galleryImageId: managedImage } })[0]?.path).toBe(
      'source.galleryImageId',
    );
    for (const version of ['1.0', '1.0.0.0', 'v1.0.0', 'Latest-ish', '24.04.202501140x']) {
      expect(issues({ name: 'jb1', source: { galleryImageId: SOURCE_GALLERY_IMAGE, version } })).toEqual([
        { path: 'source.version', message: expect.stringMatching(/Major\.Minor\.Patch/) },
      ]);
    }
    expect(
      issues({ name: 'jb1', source: { galleryImageId: SOURCE_GALLERY_IMAGE, offer: 'ubuntu-24_04-lts' } }),
    ).toEqual([
      { path: 'source', message: expect.stringMatching(/"offer".*only galleryImageId and version/) },
    ]);
    expect(issues({ name: 'jb1', source: { galleryImageId: 42 } })[0]?.path).toBe('source.galleryImageId');
  });

  it('property: a gallery source is accepted exactly when the id is a gallery image id and the version is latest or x.y.z', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/);
    const idArb = fc.oneof(
      fc
        .tuple(segment, segment, segment)
        .map(
          ([rg, g, i]) =>
            `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.Compute/galleries/${g.replace(/-/g, '_')}/images/${i}`,
        ),
      fc.string({ maxLength: 60 }),
    );
    const versionArb = fc.oneof(
      fc.constant('latest'),
      fc.tuple(fc.nat(99999), fc.nat(99999), fc.nat(99999)).map(([a, b, c]) => `${a}.${b}.${c}`),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(idArb, versionArb, (galleryImageId, version) => {
        const found = issues({ name: 'jb1', source: { galleryImageId, version } });
        const idOk =
          /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[-\w.()]{1,90}\/providers\/Microsoft\.Compute\/galleries\/[\w.]{1,80}\/images\/[-\w.]{1,80}$/i.test(
            galleryImageId,
          );
        const versionOk = /^(latest|\d{1,10}\.\d{1,10}\.\d{1,10})$/.test(version);
        expect(found.some((i) => i.path === 'source.galleryImageId')).toBe(!idOk);
        expect(found.some((i) => i.path === 'source.version')).toBe(!versionOk);
        expect(found.every((i) => i.path.startsWith('source.'))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('isolated builds: no proxy VM size, and the ACI subnet on the build subnet vnet', () => {
    const cis = `${VNET}/subnets/snet-aci`;
    expect(issues({ name: 'jb1', containerInstanceSubnetId: cis, proxyVmSize: 'Standard_A1_v2' })).toEqual([
      { path: 'proxyVmSize', message: expect.stringMatching(/no proxy VM/) },
    ]);
    const otherVnet = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/other/subnets/s`;
    expect(issues({ name: 'jb1', containerInstanceSubnetId: cis, buildSubnetId: otherVnet })).toEqual([
      { path: 'containerInstanceSubnetId', message: expect.stringMatching(/same virtual network/) },
    ]);
    expect(issues({ name: 'jb1', containerInstanceSubnetId: 'snet-aci' })[0]?.path).toBe(
      'containerInstanceSubnetId',
    );
  });

  it('distribution: needs a target; gallery regions are unique and ids well-formed', () => {
    expect(issues({ name: 'jb1', distribute: { managedImage: false } })).toEqual([
      { path: 'distribute', message: expect.stringMatching(/at least one target/) },
    ]);
    const gallery = {
      imageDefinitionId: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i`,
      targetRegions: [{ name: 'eastus2' }, { name: 'eastus2' }],
    };
    expect(issues({ name: 'jb1', distribute: { gallery } })).toEqual([
      { path: 'distribute.gallery.targetRegions.1.name', message: 'duplicate region "eastus2"' },
    ]);
    expect(
      issues({
        name: 'jb1',
        distribute: { gallery: { ...gallery, imageDefinitionId: 'gal/img', targetRegions: [] } },
      }).map((i) => i.path),
    ).toEqual(['distribute.gallery.imageDefinitionId', 'distribute.gallery.targetRegions']);
  });

  it('tools: unknown ids, unverifiable bumps and an enabled aks-preview without version are refused', () => {
    expect(issues({ name: 'jb1', tools: { kubectx: { enabled: true } } })).toEqual([
      {
        path: 'tools',
        message: expect.stringMatching(
          /unknown tool "kubectx"; known tools: azure-cli, aks-preview, kubectl/,
        ),
      },
    ]);
    expect(issues({ name: 'jb1', tools: { 'aks-preview': { enabled: true } } })[0]?.message).toMatch(
      /no pinned version/,
    );
    expect(issues({ name: 'jb1', tools: { helm: { version: 'v3.22.0' } } })[0]?.message).toMatch(
      /helm\.version: must be a plain version/,
    );
    expect(issues({ name: 'jb1', tools: { helm: { sha256: 'ABC' } } })[0]?.path).toBe('tools.helm.sha256');
  });

  it('bumping a version drops the old pinned hash (the checksum file verifies) unless a new one is pinned', () => {
    const bumped = resolveManifest({ helm: { version: '3.21.2' } });
    const helm = bumped.downloads.find((d) => d.id === 'helm')!;
    expect(pinnedSha256(helm)).toBeUndefined();
    expect(helm.verify.checksumFile).toBeDefined();
    const pinned = resolveManifest({ helm: { version: '3.21.2', sha256: 'a'.repeat(64) } });
    expect(pinnedSha256(pinned.downloads.find((d) => d.id === 'helm')!)).toBe('a'.repeat(64));
    expect(() => resolveManifest({ kubectl: { keyFingerprint: 'A'.repeat(40) } })).toThrow(ManifestError);
  });

  it('every default download pins a hash for its version or names a checksum file; every pin cites a source', () => {
    for (const t of DEFAULT_TOOLS_MANIFEST.downloads) {
      expect(pinnedSha256(t) !== undefined || t.verify.checksumFile !== undefined).toBe(true);
      if (t.verify.pinned) expect(t.verify.pinned.source.length).toBeGreaterThan(10);
    }
    expect(DEFAULT_TOOLS_MANIFEST.downloads.find((d) => d.id === 'osm')?.enabled).toBe(false);
  });

  it('property: a wrong type in any top-level field is reported at that field', () => {
    const fields = [
      'name',
      'source',
      'vmSize',
      'osDiskSizeGB',
      'buildTimeoutInMinutes',
      'containerInstanceSubnetId',
      'proxyVmSize',
      'tools',
      'distribute',
      'tags',
    ] as const;
    const wrongFor: Record<(typeof fields)[number], fc.Arbitrary<unknown>> = {
      name: fc.oneof(fc.integer(), fc.constant('Bad Name!'), fc.constant('x')),
      source: fc.oneof(fc.string(), fc.integer()),
      vmSize: fc.oneof(fc.integer(), fc.constant('D2s')),
      osDiskSizeGB: fc.oneof(
        fc.integer({ max: 29 }),
        fc.integer({ min: 4097 }),
        fc.double({ min: 31, max: 60, noInteger: true }),
      ),
      buildTimeoutInMinutes: fc.oneof(fc.integer({ min: 961 }), fc.integer({ max: 5 }), fc.string()),
      containerInstanceSubnetId: fc.oneof(fc.integer(), fc.string({ maxLength: 20 })),
      proxyVmSize: fc.oneof(fc.integer(), fc.constant('A1')),
      tools: fc.oneof(fc.string(), fc.integer()),
      distribute: fc.oneof(fc.string(), fc.constant({ managedImage: 'yes' })),
      tags: fc.oneof(fc.string(), fc.constant({ 'a/b': 'x' })),
    };
    fc.assert(
      fc.property(
        fc.constantFrom(...fields).chain((f) => wrongFor[f].map((v) => [f, v] as const)),
        ([field, value]) => {
          const found = issues({ name: 'jb1', [field]: value });
          expect(found.length).toBeGreaterThan(0);
          expect(found.every((i) => i.path === field || i.path.startsWith(`${field}.`))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('definition names are unique across IMAGE_DEFINITIONS', () => {
    const r = imageDefinitionsSchema.safeParse([{ name: 'jb1' }, { name: 'jb1' }]);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({
      path: [1, 'name'],
      message: 'duplicate definition name "jb1"',
    });
  });
});

describe('IMAGE_DEFINITIONS in the app config', () => {
  const env = minimalSettings;

  it('parses a gallery definition and reports a bad one with its path', () => {
    const ok = parseConfig({
      ...env,
      IMAGE_DEFINITIONS: JSON.stringify([{ name: 'jb1', tools: { osm: { enabled: true } } }]),
    });
    expect(ok.definitions[0]?.tools).toEqual({ osm: { enabled: true } });
    try {
      parseConfig({
        ...env,
        IMAGE_DEFINITIONS: JSON.stringify([
          { name: 'jb1', source: { offer: 'UbuntuServer', sku: '18.04-LTS' } },
        ]),
      });
      expect.unreachable('config accepted Ubuntu 18.04');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems).toContainEqual({
        setting: 'IMAGE_DEFINITIONS',
        message: expect.stringMatching(/^\[0\]\.source\.sku: Ubuntu 18\.04 LTS is end-of-life/),
      });
    }
  });
});
