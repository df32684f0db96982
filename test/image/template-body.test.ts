import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/image/canonical-json.js';
import { customizerScripts, validationScripts } from '../../src/image/customizer-scripts.js';
import { manifestOf, parseImageDefinition } from '../../src/image/definition.js';
import {
  buildTemplateBody,
  contentHash,
  inlineRunner,
  managedImageNameFor,
  TAG,
  TemplateBodyError,
  templateNameFor,
  toArmRequestBody,
} from '../../src/image/template-body.js';
import { manifestHash, TOOL_PINS } from '../../src/image/tools-manifest.js';
import {
  defaultDefinition,
  galleryIsolatedDefinition,
  gallerySourceDefinition,
  inputFor,
  SOURCE_GALLERY_IMAGE,
} from './support/examples.js';
import { SwaggerValidator } from './support/swagger-validate.js';

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(here, '../fixtures/image');
/** ../shared/specs next to the repository (the folder may be absent elsewhere: then the schema tests skip). */
const SPEC_PATH =
  process.env.IMAGEBUILDER_SPEC ??
  join(
    here,
    '../../../shared/specs/specification/imagebuilder/resource-manager/Microsoft.VirtualMachineImages/ImageBuilder/stable/2025-10-01/imagebuilder.json',
  );
const specFile = existsSync(SPEC_PATH) ? SPEC_PATH : undefined;

/** Compares with a golden file; UPDATE_GOLDEN=1 rewrites it. */
function expectGolden(file: string, actual: string): void {
  const path = join(FIXTURES, file);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) {
    if (process.env.CI && !existsSync(path)) throw new Error(`golden file ${file} is missing`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
  }
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

const cases = [
  ['default', defaultDefinition],
  ['gallery-isolated', galleryIsolatedDefinition],
] as const;

describe('template body golden files', () => {
  for (const [label, def] of cases) {
    it(`${label}: ARM request body and template name match the golden file`, () => {
      const body = buildTemplateBody(inputFor(def));
      expectGolden(
        `template-${label}.json`,
        `${JSON.stringify({ name: templateNameFor(body), body: toArmRequestBody(body) }, null, 2)}\n`,
      );
    });
    it(`${label}: generated scripts match the golden files`, () => {
      for (const s of [...customizerScripts(manifestOf(def)), ...validationScripts(manifestOf(def))]) {
        expectGolden(`scripts-${label}/${s.name}.sh`, s.content);
      }
    });
  }
});

describe('gallery image source', () => {
  const input = inputFor(gallerySourceDefinition, { sourceVersion: '1.0.10' });

  it('ARM request body and template name match the golden file', () => {
    const body = buildTemplateBody(input);
    expectGolden(
      'template-gallery-source.json',
      `${JSON.stringify({ name: templateNameFor(body), body: toArmRequestBody(body) }, null, 2)}\n`,
    );
  });

  it('uses a SharedImageVersion source pinned to the exact version, tagged with that version', () => {
    const body = buildTemplateBody(input);
    expect(body.source).toEqual({
      type: 'SharedImageVersion',
      imageVersionId: `${SOURCE_GALLERY_IMAGE}/versions/1.0.10`,
    });
    expect(body.tags?.[TAG.sourceVersion]).toBe('1.0.10');
    expect(body.distribute?.[0]?.artifactTags?.[TAG.sourceVersion]).toBe('1.0.10');
    expect(() => buildTemplateBody({ ...input, sourceVersion: 'latest' })).toThrow(/sourceVersion/);
  });

  it('the same scripts and settings as a marketplace build; only the source differs', () => {
    const gallery = toArmRequestBody(buildTemplateBody(input)) as { properties: Record<string, unknown> };
    const marketplace = toArmRequestBody(
      buildTemplateBody(
        inputFor(parseImageDefinition({ name: gallerySourceDefinition.name }), { sourceVersion: '1.0.10' }),
      ),
    ) as { properties: Record<string, unknown> };
    const { source: _g, distribute: _gd, ...galleryRest } = gallery.properties;
    const { source: _m, distribute: _md, ...marketplaceRest } = marketplace.properties;
    expect(galleryRest).toEqual(marketplaceRest);
  });

  it('property: each exact version gives its own image version id and its own template name', () => {
    const version = fc.tuple(fc.nat(9999), fc.nat(9999), fc.nat(9999)).map(([a, b, c]) => `${a}.${b}.${c}`);
    fc.assert(
      fc.property(version, version, (a, b) => {
        const ba = buildTemplateBody(inputFor(gallerySourceDefinition, { sourceVersion: a }));
        const bb = buildTemplateBody(inputFor(gallerySourceDefinition, { sourceVersion: b }));
        expect(ba.source).toMatchObject({ imageVersionId: `${SOURCE_GALLERY_IMAGE}/versions/${a}` });
        expect(templateNameFor(ba) === templateNameFor(bb)).toBe(a === b);
      }),
      { numRuns: 40 },
    );
  });
});

describe('template body content', () => {
  it('default: builder identity, build subnet, staging group, timeout, managed image named by content hash', () => {
    const input = inputFor(defaultDefinition);
    const body = buildTemplateBody(input);
    expect(Object.keys(body.identity.userAssignedIdentities ?? {})).toEqual([input.builderIdentityId]);
    expect(body.identity.type).toBe('UserAssigned');
    expect(body.vmProfile?.vnetConfig).toEqual({ subnetId: input.subnetId });
    expect(body.stagingResourceGroup).toBe(input.stagingResourceGroupId);
    expect(body.buildTimeoutInMinutes).toBe(90);
    expect(body.source).toMatchObject({
      type: 'PlatformImage',
      offer: 'ubuntu-24_04-lts',
      sku: 'server',
      version: input.sourceVersion,
    });
    expect(body.validate).toMatchObject({ continueDistributeOnFailure: false });
    expect(body.validate?.inVMValidations).toHaveLength(1);
    expect(body.distribute).toHaveLength(1);
    const managed = body.distribute?.[0];
    expect(managed?.type).toBe('ManagedImage');
    expect(managed?.runOutputName).toBe('aks-jumpbox-managed');
    expect(managed && 'imageId' in managed ? managed.imageId : '').toBe(
      `/subscriptions/${input.subscriptionId}/resourceGroups/rg-images/providers/Microsoft.Compute/images/${managedImageNameFor(input)}`,
    );
    expect(managed?.artifactTags).toMatchObject({
      [TAG.definition]: 'aks-jumpbox',
      [TAG.sourceVersion]: input.sourceVersion,
      [TAG.manifestHash]: manifestHash(manifestOf(defaultDefinition)),
    });
  });

  it('gallery + isolated build: container instance subnet, no proxy VM, gallery target regions, no managed image', () => {
    const body = buildTemplateBody(inputFor(galleryIsolatedDefinition));
    expect(body.vmProfile?.vnetConfig?.containerInstanceSubnetId).toBe(
      galleryIsolatedDefinition.containerInstanceSubnetId,
    );
    expect(body.vmProfile?.vnetConfig?.proxyVmSize).toBeUndefined();
    expect(body.distribute?.map((d) => d.type)).toEqual(['SharedImage']);
    const g = body.distribute?.[0];
    expect(g && 'targetRegions' in g ? g.targetRegions : []).toEqual([
      { name: 'eastus2', replicaCount: 2, storageAccountType: 'Standard_ZRS' },
      { name: 'westeurope', replicaCount: 1 },
    ]);
    expect(g && 'excludeFromLatest' in g ? g.excludeFromLatest : undefined).toBe(true);
    expect(g !== undefined && 'versioning' in g).toBe(false);
    expect(g?.artifactTags).toMatchObject({
      costCenter: 'platform',
      [TAG.definition]: 'aks-jumpbox-gallery',
    });
  });

  it('holds no per-build value: the same input twice gives the identical body, and no build id appears', () => {
    const a = buildTemplateBody(inputFor(defaultDefinition));
    const b = buildTemplateBody(inputFor(defaultDefinition));
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).not.toMatch(/build-?id/i);
  });

  it('a new source version, a tool bump or another subnet yields a new template name', () => {
    const base = templateNameFor(buildTemplateBody(inputFor(defaultDefinition)));
    expect(base).toMatch(/^aks-jumpbox-[0-9a-f]{12}$/);
    const newer = templateNameFor(
      buildTemplateBody(inputFor(defaultDefinition, { sourceVersion: '24.04.202502010' })),
    );
    const bumped = parseImageDefinition({
      name: 'aks-jumpbox',
      tools: { kubectl: { version: `${TOOL_PINS.kubernetesMinor}.99` } },
    });
    const bump = templateNameFor(buildTemplateBody(inputFor(bumped)));
    const subnet = templateNameFor(
      buildTemplateBody(
        inputFor(defaultDefinition, { subnetId: `${inputFor(defaultDefinition).subnetId}2` }),
      ),
    );
    expect(new Set([base, newer, bump, subnet]).size).toBe(4);
  });

  it('the managed image name is stable per template and changes with the image content', () => {
    const input = inputFor(defaultDefinition);
    expect(managedImageNameFor(input)).toBe(managedImageNameFor(inputFor(defaultDefinition)));
    expect(managedImageNameFor(input)).not.toBe(
      managedImageNameFor(inputFor(defaultDefinition, { sourceVersion: '24.04.202502010' })),
    );
    expect(managedImageNameFor(input)).toMatch(/^aks-jumpbox-[0-9a-f]{12}$/);
  });

  it('templateNameFor hashes exactly the body it is given', () => {
    const body = buildTemplateBody(inputFor(defaultDefinition));
    expect(templateNameFor(body)).toBe(`aks-jumpbox-${contentHash(body).slice(0, 12)}`);
    expect(() => templateNameFor({ ...body, tags: {} })).toThrow(/jumpbox-definition/);
  });

  it('rejects "latest", a bad identity id, and an ACI subnet on another vnet', () => {
    expect(() => buildTemplateBody(inputFor(defaultDefinition, { sourceVersion: 'latest' }))).toThrow(
      TemplateBodyError,
    );
    expect(() => buildTemplateBody(inputFor(defaultDefinition, { sourceVersion: 'latest' }))).toThrow(
      /sourceVersion/,
    );
    expect(() => buildTemplateBody(inputFor(defaultDefinition, { builderIdentityId: 'id-aib' }))).toThrow(
      /builderIdentityId/,
    );
    const other =
      '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/other/subnets/s';
    expect(() => buildTemplateBody(inputFor(galleryIsolatedDefinition, { subnetId: other }))).toThrow(
      /containerInstanceSubnetId/,
    );
  });

  it('the inline runner checks the script hash before running it under bash', () => {
    const [line] = inlineRunner({ name: 'x', content: 'echo hi\n' });
    expect(line).toMatch(
      /base64 -d > \/tmp\/x\.sh && echo '[0-9a-f]{64} {2}\/tmp\/x\.sh' \| sha256sum -c - && sudo bash \/tmp\/x\.sh/,
    );
    expect(line).not.toMatch(/curl/);
  });

  it('property: tag and tool override order do not change the template name', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9-]{0,15}$/), fc.string({ maxLength: 20 }), {
          maxKeys: 6,
        }),
        fc.boolean(),
        (tags, osm) => {
          const entries = Object.entries(tags);
          const tools = { osm: { enabled: osm }, kubectl: { version: `${TOOL_PINS.kubernetesMinor}.0` } };
          const a = parseImageDefinition({ name: 'jb1', tags: Object.fromEntries(entries), tools });
          const b = parseImageDefinition({
            tools: { kubectl: { version: `${TOOL_PINS.kubernetesMinor}.0` }, osm: { enabled: osm } },
            tags: Object.fromEntries([...entries].reverse()),
            name: 'jb1',
          });
          expect(templateNameFor(buildTemplateBody(inputFor(a)))).toBe(
            templateNameFor(buildTemplateBody(inputFor(b))),
          );
        },
      ),
      { numRuns: 30 },
    );
  });

  it('property: the body is a deterministic function of its input', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(defaultDefinition, galleryIsolatedDefinition),
        fc.tuple(fc.nat(99), fc.nat(99), fc.nat(999999999)).map(([a, b, c]) => `${a}.${b}.${c}`),
        fc.constantFrom('eastus2', 'westeurope', 'northeurope'),
        (def, sourceVersion, location) => {
          const input = inputFor(def, { sourceVersion, location });
          const a = buildTemplateBody(input);
          const b = buildTemplateBody(structuredClone(input));
          expect(templateNameFor(a)).toBe(templateNameFor(b));
          expect(a.source).toMatchObject({ version: sourceVersion });
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe.skipIf(specFile === undefined)('ImageTemplate schema (imagebuilder 2025-10-01 spec)', () => {
  const validator = new SwaggerValidator(specFile ?? '');

  for (const [label, def] of cases) {
    it(`${label}: the ARM request body validates against ImageTemplate`, () => {
      const body = toArmRequestBody(buildTemplateBody(inputFor(def)));
      expect(validator.validate('ImageTemplate', body)).toEqual([]);
    });
  }

  it('gallery source: the ARM request body validates against ImageTemplate (SharedImageVersion)', () => {
    const body = toArmRequestBody(
      buildTemplateBody(inputFor(gallerySourceDefinition, { sourceVersion: '1.0.10' })),
    );
    expect(validator.validate('ImageTemplate', body)).toEqual([]);
    const broken = structuredClone(body) as { properties: { source: Record<string, unknown> } };
    delete broken.properties.source.imageVersionId;
    broken.properties.source.exactVersion = '1.0.10';
    const errors = validator.validate('ImageTemplate', broken).join('\n');
    expect(errors).toMatch(/imageVersionId: required/);
    expect(errors).toMatch(/exactVersion: read-only/);
  });

  it('the validator catches a typo, a wrong enum, a missing required field and a read-only field', () => {
    const body = toArmRequestBody(buildTemplateBody(inputFor(galleryIsolatedDefinition))) as {
      properties: Record<string, unknown> & { distribute: Array<Record<string, unknown>> };
    };
    const bad = structuredClone(body);
    bad.properties.buildTimeoutMinutes = 5;
    bad.properties.errorHandling = { onCustomizerError: 'explode' };
    bad.properties.provisioningState = 'Succeeded';
    delete bad.properties.distribute[0]?.galleryImageId;
    const errors = validator.validate('ImageTemplate', bad).join('\n');
    expect(errors).toMatch(/buildTimeoutMinutes: not a property/);
    expect(errors).toMatch(/onCustomizerError: "explode" is not one of/);
    expect(errors).toMatch(/galleryImageId: required/);
    expect(errors).toMatch(/provisioningState: read-only/);
  });

  it('the request body equals what the SDK serializer sends for the model', async () => {
    const sdk = (await import(
      join(here, '../../node_modules/@azure/arm-imagebuilder/dist/esm/models/models.js')
    )) as { imageTemplateSerializer: (m: unknown) => unknown };
    for (const def of [...cases.map(([, d]) => d), gallerySourceDefinition]) {
      const body = buildTemplateBody(inputFor(def));
      expect(JSON.parse(canonicalJson(sdk.imageTemplateSerializer(body)))).toEqual(toArmRequestBody(body));
    }
  });
});
