/**
 * Image definitions: what to build (base image, build VM, network mode, tools, distribution targets, tags),
 * configured as a JSON array in the IMAGE_DEFINITIONS app setting. Every field has a default except `name`;
 * invalid definitions fail config validation with the field path and the reason.
 */
import { z } from 'zod';
import { DEFAULT_GATE, type VulnerabilityGate, vulnerabilityGateSchema } from '../supply-chain/gate.js';
import { formatDefinitionProblems } from './definition-errors.js';
import {
  addedToolSchema,
  ManifestError,
  resolveManifest,
  type ToolEntry,
  type ToolsManifest,
  toolOverrideSchema,
} from './tools-manifest.js';

/**
 * `tools.<id>`: an override of a built-in tool, or — with `url` — a tool the definition adds. Dispatching on
 * `url` keeps the errors about the fields of the kind the user meant.
 */
const toolEntrySchema = z
  .custom<ToolEntry>(() => true)
  .transform((v, ctx): ToolEntry => {
    const added = typeof v === 'object' && v !== null && !Array.isArray(v) && 'url' in v;
    const r = (added ? addedToolSchema : toolOverrideSchema).safeParse(v);
    if (r.success) return r.data;
    for (const issue of r.error.issues) {
      ctx.addIssue({ code: 'custom', path: [...issue.path], message: issue.message });
    }
    return z.NEVER;
  });

export const DEFAULT_DEFINITION_NAME = 'aks-jumpbox';

const definitionName = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/,
    'use 3-32 lowercase letters, digits and hyphens, starting with a letter',
  );

/** Marketplace images the customizer scripts are written for (Ubuntu LTS, gen2, x64). */
export const SUPPORTED_SOURCES = [
  { offer: 'ubuntu-24_04-lts', sku: 'server', label: 'Ubuntu 24.04 LTS gen2' },
  { offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2', label: 'Ubuntu 22.04 LTS gen2' },
] as const;

const SUPPORTED_LIST = SUPPORTED_SOURCES.map((s) => `${s.offer}/${s.sku} (${s.label})`).join(' or ');

function isUbuntu1804(offer: string, sku: string): boolean {
  return /bionic/i.test(offer) || /^18[._]04/i.test(sku) || (/^UbuntuServer$/i.test(offer) && /18/.test(sku));
}

export const DEFAULT_SOURCE = {
  publisher: 'Canonical',
  offer: 'ubuntu-24_04-lts',
  sku: 'server',
  version: 'latest',
} as const;

/** A marketplace (platform) image: Canonical Ubuntu LTS, watched by the base-image timer. */
const marketplaceSourceSchema = z
  .object({
    publisher: z
      .literal('Canonical', { message: 'only Canonical Ubuntu images are supported' })
      .default('Canonical'),
    offer: z.string().default(DEFAULT_SOURCE.offer),
    sku: z.string().default(DEFAULT_SOURCE.sku),
    version: z
      .string()
      .regex(
        /^(latest|\d+\.\d+\.\d+)$/,
        'must be "latest" or an exact marketplace version such as 24.04.202501140',
      )
      .default('latest'),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (isUbuntu1804(s.offer, s.sku)) {
      ctx.addIssue({
        code: 'custom',
        path: ['sku'],
        message: `Ubuntu 18.04 LTS is end-of-life (standard support ended May 2023); use ${SUPPORTED_LIST}`,
      });
      return;
    }
    if (!SUPPORTED_SOURCES.some((x) => x.offer === s.offer && x.sku === s.sku)) {
      ctx.addIssue({
        code: 'custom',
        path: ['offer'],
        message: `${s.offer}/${s.sku} is not supported; use ${SUPPORTED_LIST}`,
      });
    }
  });

const GALLERY_IMAGE_ID =
  /^\/subscriptions\/[0-9a-fA-F-]{36}\/resourceGroups\/[-\w.()]{1,90}\/providers\/Microsoft\.Compute\/galleries\/[\w.]{1,80}\/images\/[-\w.]{1,80}$/i;

/** Exact gallery image versions are Major.Minor.Patch, each a 32-bit integer. */
const GALLERY_VERSION = /^(latest|\d{1,10}\.\d{1,10}\.\d{1,10})$/;

/**
 * An Azure Compute Gallery image (definition) as the base: a build uses the newest version that is not
 * excluded from latest, or a pinned one; new versions start builds through the Event Grid trigger.
 */
const gallerySourceSchema = z
  .object({
    galleryImageId: z
      .string()
      .regex(
        GALLERY_IMAGE_ID,
        'must be a gallery image id /subscriptions/{guid}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{gallery}/images/{image} (without /versions/…; put the version in source.version)',
      ),
    version: z
      .string()
      .regex(
        GALLERY_VERSION,
        'must be "latest" or an exact gallery image version Major.Minor.Patch such as 1.0.10',
      )
      .default('latest'),
  })
  .strict();

export type MarketplaceSource = z.infer<typeof marketplaceSourceSchema>;
export type GallerySource = z.infer<typeof gallerySourceSchema>;
export type ImageSource = MarketplaceSource | GallerySource;
type ImageSourceInput = z.input<typeof marketplaceSourceSchema> | z.input<typeof gallerySourceSchema>;

export function isGallerySource(source: ImageSource): source is GallerySource {
  return 'galleryImageId' in source;
}

function looksLikeGallerySource(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'galleryImageId' in v;
}

/**
 * A marketplace source (the default) or, when `galleryImageId` is present, a gallery source. Dispatching
 * on that key (instead of a union) keeps the errors about the fields of the kind the user meant.
 */
const sourceSchema = z
  .custom<ImageSourceInput | undefined>(() => true)
  .optional()
  .transform((v, ctx): ImageSource => {
    const gallery = looksLikeGallerySource(v);
    const r = (gallery ? gallerySourceSchema : marketplaceSourceSchema).safeParse(v ?? {});
    if (r.success) return r.data;
    for (const issue of r.error.issues) {
      const hint =
        gallery && issue.code === 'unrecognized_keys'
          ? '; a gallery source takes only galleryImageId and version'
          : '';
      ctx.addIssue({ code: 'custom', path: [...issue.path], message: `${issue.message}${hint}` });
    }
    return z.NEVER;
  });

const SUBNET_ID =
  /^\/subscriptions\/[0-9a-fA-F-]{36}\/resourceGroups\/[-\w.()]{1,90}\/providers\/Microsoft\.Network\/virtualNetworks\/[-\w.]{2,64}\/subnets\/[-\w.]{1,80}$/i;

const subnetId = z
  .string()
  .regex(SUBNET_ID, 'must be a subnet resource id /subscriptions/…/virtualNetworks/…/subnets/…');
const region = z
  .string()
  .regex(/^[a-z0-9]+$/, 'must be a region name in lower case without spaces, e.g. eastus2');
const vmSize = z.string().regex(/^Standard_[A-Za-z0-9_]+$/, 'must be a VM size such as Standard_D2ds_v5');

const gallerySchema = z
  .object({
    /** The Azure Compute Gallery image definition that receives the versions. */
    imageDefinitionId: z
      .string()
      .regex(GALLERY_IMAGE_ID, 'must be a gallery image id /subscriptions/…/galleries/…/images/…'),
    targetRegions: z
      .array(
        z
          .object({
            name: region,
            replicaCount: z.number().int().min(1).max(100).default(1),
            storageAccountType: z.enum(['Standard_LRS', 'Standard_ZRS', 'Premium_LRS']).optional(),
          })
          .strict(),
      )
      .min(1, 'list at least one target region'),
    excludeFromLatest: z.boolean().default(false),
    replicationMode: z.enum(['Full', 'Shallow']).optional(),
    /** Omit to let AIB name versions; or pin a scheme. */
    versioning: z
      .discriminatedUnion('scheme', [
        z.object({ scheme: z.literal('Latest'), major: z.number().int().min(-1).optional() }).strict(),
        z.object({ scheme: z.literal('Source') }).strict(),
      ])
      .optional(),
  })
  .strict()
  .superRefine((g, ctx) => {
    const seen = new Set<string>();
    g.targetRegions.forEach((r, i) => {
      if (seen.has(r.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['targetRegions', i, 'name'],
          message: `duplicate region "${r.name}"`,
        });
      }
      seen.add(r.name);
    });
  });

const distributeSchema = z
  .object({
    /** A managed image in the destination resource group (as in the seeds). */
    managedImage: z.boolean().default(true),
    gallery: gallerySchema.optional(),
  })
  .strict();

const tagsSchema = z
  .record(
    z
      .string()
      .min(1)
      .max(512)
      .regex(/^[^<>%&\\?/]+$/, 'tag names cannot contain < > % & \\ ? /'),
    z.string().max(256),
  )
  .refine((t) => Object.keys(t).length <= 40, { message: 'at most 40 tags (the build adds its own)' });

export const imageDefinitionSchema = z
  .object({
    name: definitionName,
    source: sourceSchema,
    vmSize: vmSize.default('Standard_D2ds_v5'),
    osDiskSizeGB: z.number().int().min(30).max(4096).default(64),
    buildTimeoutInMinutes: z.number().int().min(6).max(960).default(90),
    /** Overrides the app's BUILD_SUBNET_ID for this definition (checked by config). */
    buildSubnetId: z.string().optional(),
    /** AIB isolated build: Azure Container Instance subnet on the same vnet; no proxy VM then. */
    containerInstanceSubnetId: subnetId.optional(),
    /** Size of the AIB proxy VM (not with containerInstanceSubnetId). */
    proxyVmSize: vmSize.optional(),
    /** Per-tool overrides of the default tools manifest, keyed by tool id; a new id with `url` adds a tool. */
    tools: z.record(z.string(), toolEntrySchema).default({}),
    /** The post-customization scan: severity that fails the build, and an allowlist whose entries expire. */
    vulnerabilityGate: vulnerabilityGateSchema.default(DEFAULT_GATE),
    distribute: distributeSchema.default({ managedImage: true }),
    tags: tagsSchema.default({}),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.containerInstanceSubnetId !== undefined && d.proxyVmSize !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['proxyVmSize'],
        message: 'must not be set with containerInstanceSubnetId: isolated builds deploy no proxy VM',
      });
    }
    if (d.containerInstanceSubnetId !== undefined && d.buildSubnetId !== undefined) {
      if (vnetOf(d.containerInstanceSubnetId) !== vnetOf(d.buildSubnetId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['containerInstanceSubnetId'],
          message: 'must be on the same virtual network as buildSubnetId',
        });
      }
    }
    if (!d.distribute.managedImage && d.distribute.gallery === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['distribute'],
        message: 'enable managedImage or configure a gallery: the build needs at least one target',
      });
    }
    try {
      resolveManifest(d.tools);
    } catch (e) {
      if (!(e instanceof ManifestError)) throw e;
      ctx.addIssue({ code: 'custom', path: ['tools'], message: e.message });
    }
  });

export type ImageDefinition = z.infer<typeof imageDefinitionSchema>;
export type ImageDefinitionInput = z.input<typeof imageDefinitionSchema>;

export const imageDefinitionsSchema = z
  .array(imageDefinitionSchema)
  .min(1, 'configure at least one image definition')
  .superRefine((defs, ctx) => {
    const seen = new Set<string>();
    defs.forEach((d, i) => {
      if (seen.has(d.name)) {
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate definition name "${d.name}"` });
      }
      seen.add(d.name);
    });
  });

/** The virtual network id (lower case) a subnet id belongs to. */
export function vnetOf(subnetResourceId: string): string {
  return subnetResourceId.replace(/\/subnets\/[^/]+$/i, '').toLowerCase();
}

/** The vulnerability gate of a (validated) definition. */
export function gateOf(definition: ImageDefinition): VulnerabilityGate {
  return definition.vulnerabilityGate ?? DEFAULT_GATE;
}

/** The effective tools manifest of a (validated) definition. */
export function manifestOf(definition: ImageDefinition): ToolsManifest {
  return resolveManifest(definition.tools);
}

/** Parses one definition from JSON-like input, throwing an Error that names every bad field. */
export function parseImageDefinition(input: unknown): ImageDefinition {
  const r = imageDefinitionSchema.safeParse(input);
  if (r.success) return r.data;
  throw new Error(`invalid image definition: ${formatDefinitionProblems(r.error.issues, input).join('; ')}`);
}
