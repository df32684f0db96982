/**
 * The image template body: a pure, deterministic function of the definition and the environment ids.
 *
 * Templates are immutable in AIB and reused while unchanged, so the body holds no per-build value (no build id,
 * no timestamps). It pins the exact source image version (resolved from "latest" by the orchestration), so a
 * new base image yields a new body, hence a new hash and a new template name `<definition>-<12 hex>`.
 */
import type {
  ImageTemplate,
  ImageTemplateDistributorUnion,
  ImageTemplateSharedImageDistributor,
  ImageTemplateShellCustomizer,
  ImageTemplateShellValidator,
  ImageTemplateSourceUnion,
} from '@azure/arm-imagebuilder';
import { canonicalJson, contentHash, sha256Hex } from './canonical-json.js';
import { customizerScripts, type GeneratedScript, validationScripts } from './customizer-scripts.js';
import { gateOf, type ImageDefinition, isGallerySource, manifestOf, vnetOf } from './definition.js';
import { manifestHash } from './tools-manifest.js';

export { canonicalJson, contentHash };

export interface TemplateBodyInput {
  readonly definition: ImageDefinition;
  /** Exact version of the source image, marketplace or gallery (never "latest"). */
  readonly sourceVersion: string;
  readonly location: string;
  /** Resource id of the user-assigned identity AIB runs as. */
  readonly builderIdentityId: string;
  /** Build subnet (vmProfile.vnetConfig.subnetId). */
  readonly subnetId: string;
  /** Resource id of the per-definition staging resource group. */
  readonly stagingResourceGroupId: string;
  /** Name of the resource group receiving the managed image. */
  readonly destinationResourceGroup: string;
  readonly subscriptionId: string;
  /**
   * Name of this build's managed image (`<definition>-<UTC yyyyMMdd>-<n>`, a new one per build so that the
   * current image is never overwritten). Omitted: the content-named image (`managedImageNameFor`), which is
   * also what the template name is computed from, so one template serves every build of the same content.
   */
  readonly managedImageName?: string | undefined;
}

/** A per-build managed image name: `<definition>-<yyyyMMdd>-<n>` (n from 1). */
export function datedImageName(definition: string, yyyymmdd: string, n: number): string {
  return `${definition}-${yyyymmdd}-${n}`;
}

/** The (date, n) of a per-build image name of the definition, or undefined for any other name. */
export function parseDatedImageName(
  definition: string,
  name: string,
): { date: string; n: number } | undefined {
  const prefix = `${definition.toLowerCase()}-`;
  if (!name.toLowerCase().startsWith(prefix)) return undefined;
  const m = /^(\d{8})-(\d{1,6})$/.exec(name.slice(prefix.length));
  return m ? { date: m[1]!, n: Number(m[2]) } : undefined;
}

export class TemplateBodyError extends Error {}

/** Tag keys the build sets on the template and on the artifacts. */
export const TAG = {
  definition: 'jumpbox-definition',
  sourceVersion: 'jumpbox-source-version',
  manifestHash: 'jumpbox-manifest-hash',
} as const;

const HASH_CHARS = 12;

/**
 * Shell lines that materialise a script from base64, check its SHA-256, and run it under bash as root.
 * Joined with && so that any failure fails the step whatever shell AIB uses for inline commands.
 */
export function inlineRunner(script: GeneratedScript): string[] {
  const b64 = Buffer.from(script.content, 'utf8').toString('base64');
  const path = `/tmp/${script.name}.sh`;
  return [
    [
      `printf '%s' '${b64}' | base64 -d > ${path}`,
      `echo '${sha256Hex(script.content)}  ${path}' | sha256sum -c -`,
      `sudo bash ${path}`,
      `rm -f ${path}`,
    ].join(' && '),
  ];
}

function ensure(cond: boolean, message: string): asserts cond {
  if (!cond) throw new TemplateBodyError(message);
}

function checkInput(input: TemplateBodyInput): void {
  ensure(
    /^\d+\.\d+\.\d+$/.test(input.sourceVersion),
    `sourceVersion must be an exact image version (got "${input.sourceVersion}"); resolve "latest" before building the body`,
  );
  ensure(
    /^[a-z0-9]+$/.test(input.location),
    `location must be a region name such as eastus2 (got "${input.location}")`,
  );
  ensure(
    /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+$/i.test(
      input.builderIdentityId,
    ),
    'builderIdentityId must be a user-assigned identity resource id',
  );
  ensure(
    /\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+\/subnets\/[^/]+$/i.test(input.subnetId),
    'subnetId must be a subnet resource id',
  );
  ensure(
    /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+$/i.test(input.stagingResourceGroupId),
    'stagingResourceGroupId must be a resource group id /subscriptions/…/resourceGroups/…',
  );
  ensure(
    /^[-\w.()]{1,90}$/.test(input.destinationResourceGroup),
    'destinationResourceGroup must be a resource group name',
  );
  ensure(/^[0-9a-fA-F-]{36}$/.test(input.subscriptionId), 'subscriptionId must be a GUID');
  const cis = input.definition.containerInstanceSubnetId;
  if (cis !== undefined) {
    ensure(
      vnetOf(cis) === vnetOf(input.subnetId),
      `containerInstanceSubnetId must be on the build subnet's virtual network (${vnetOf(input.subnetId)})`,
    );
  }
}

function artifactTags(input: TemplateBodyInput, mHash: string): Record<string, string> {
  return {
    ...input.definition.tags,
    [TAG.definition]: input.definition.name,
    [TAG.sourceVersion]: input.sourceVersion,
    [TAG.manifestHash]: mHash,
  };
}

function galleryDistributor(
  input: TemplateBodyInput,
  tags: Record<string, string>,
): ImageTemplateSharedImageDistributor | undefined {
  const g = input.definition.distribute.gallery;
  if (!g) return undefined;
  const d: ImageTemplateSharedImageDistributor = {
    type: 'SharedImage',
    runOutputName: `${input.definition.name}-gallery`,
    galleryImageId: g.imageDefinitionId,
    targetRegions: g.targetRegions.map((r) => ({
      name: r.name,
      replicaCount: r.replicaCount,
      ...(r.storageAccountType ? { storageAccountType: r.storageAccountType } : {}),
    })),
    excludeFromLatest: g.excludeFromLatest,
    artifactTags: tags,
  };
  if (g.replicationMode) d.replicationMode = g.replicationMode;
  if (g.versioning) {
    d.versioning =
      g.versioning.scheme === 'Latest'
        ? { scheme: 'Latest', ...(g.versioning.major !== undefined ? { major: g.versioning.major } : {}) }
        : { scheme: 'Source' };
  }
  return d;
}

/**
 * The build's base image at its exact version: a marketplace image (`PlatformImage`) or an Azure Compute
 * Gallery image version (`SharedImageVersion`, `imageVersionId` = `<gallery image id>/versions/<version>`).
 */
function templateSource(def: ImageDefinition, exactVersion: string): ImageTemplateSourceUnion {
  if (isGallerySource(def.source)) {
    return {
      type: 'SharedImageVersion',
      imageVersionId: `${def.source.galleryImageId}/versions/${exactVersion}`,
    };
  }
  return {
    type: 'PlatformImage',
    publisher: def.source.publisher,
    offer: def.source.offer,
    sku: def.source.sku,
    version: exactVersion,
  };
}

/** The body with everything except the distribution targets (identifies what goes into the image). */
function imageContent(input: TemplateBodyInput): Omit<ImageTemplate, 'distribute'> {
  const def = input.definition;
  const manifest = manifestOf(def);
  const customize: ImageTemplateShellCustomizer[] = customizerScripts(manifest, gateOf(def)).map((s) => ({
    type: 'Shell',
    name: s.name,
    inline: inlineRunner(s),
  }));
  const inVMValidations: ImageTemplateShellValidator[] = validationScripts(manifest).map((s) => ({
    type: 'Shell',
    name: s.name,
    inline: inlineRunner(s),
  }));
  return {
    location: input.location,
    tags: artifactTags(input, manifestHash(manifest)),
    identity: { type: 'UserAssigned', userAssignedIdentities: { [input.builderIdentityId]: {} } },
    source: templateSource(def, input.sourceVersion),
    customize,
    validate: { continueDistributeOnFailure: false, sourceValidationOnly: false, inVMValidations },
    errorHandling: { onCustomizerError: 'cleanup', onValidationError: 'cleanup' },
    buildTimeoutInMinutes: def.buildTimeoutInMinutes,
    vmProfile: {
      vmSize: def.vmSize,
      osDiskSizeGB: def.osDiskSizeGB,
      vnetConfig: {
        subnetId: input.subnetId,
        ...(def.containerInstanceSubnetId
          ? { containerInstanceSubnetId: def.containerInstanceSubnetId }
          : {}),
        ...(def.proxyVmSize ? { proxyVmSize: def.proxyVmSize } : {}),
      },
    },
    stagingResourceGroup: input.stagingResourceGroupId,
  };
}

/**
 * Name of the managed image: `<definition>-<12 hex>` of the image content (the body without its distribution
 * targets, which contain this very name). Stable per template: the same body always names the same image.
 */
export function managedImageNameFor(input: TemplateBodyInput): string {
  return `${input.definition.name}-${contentHash(imageContent(input)).slice(0, HASH_CHARS)}`;
}

/** Builds the ImageTemplate (SDK v5 model; the SDK serializes it to the ARM request as-is). */
export function buildTemplateBody(input: TemplateBodyInput): ImageTemplate {
  checkInput(input);
  const content = imageContent(input);
  const tags = content.tags ?? {};
  const distribute: ImageTemplateDistributorUnion[] = [];
  if (input.definition.distribute.managedImage) {
    distribute.push({
      type: 'ManagedImage',
      runOutputName: `${input.definition.name}-managed`,
      imageId: `/subscriptions/${input.subscriptionId}/resourceGroups/${input.destinationResourceGroup}/providers/Microsoft.Compute/images/${input.managedImageName ?? managedImageNameFor(input)}`,
      location: input.location,
      artifactTags: tags,
    });
  }
  const gallery = galleryDistributor(input, tags);
  if (gallery) distribute.push(gallery);
  ensure(distribute.length > 0, `definition ${input.definition.name} has no distribution target`);
  return { ...content, distribute };
}

/** `<definition>-<first 12 hex of sha256(canonical body)>`; the definition is read from the body's tags. */
export function templateNameFor(body: ImageTemplate): string {
  const definition = body.tags?.[TAG.definition];
  if (!definition)
    throw new TemplateBodyError(`the body has no "${TAG.definition}" tag; build it with buildTemplateBody`);
  return `${definition}-${contentHash(body).slice(0, HASH_CHARS)}`;
}

/**
 * The ARM request body (`PUT …/imageTemplates/{name}`): the SDK's flattened properties moved under
 * `properties`. Used by the CLI and the schema test; the SDK does the same when it sends the model.
 */
export function toArmRequestBody(body: ImageTemplate): Record<string, unknown> {
  const {
    location,
    tags,
    identity,
    id: _id,
    name: _name,
    type: _type,
    systemData: _sd,
    ...properties
  } = body;
  return JSON.parse(canonicalJson({ location, tags, identity, properties })) as Record<string, unknown>;
}
