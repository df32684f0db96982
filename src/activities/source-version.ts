/**
 * Resolves the exact marketplace version a build uses: the newest by numeric comparison of the dotted
 * parts (`$orderby` on the service sorts lexicographically: 9 > 10), or the pinned one, checked to exist.
 * Gallery sources: the newest version not excluded from latest (Compute `galleryImageVersions`), or the
 * pinned one, checked to exist.
 */
import { permanent, statusOf } from '../azure/errors.js';
import { parseTypedResourceId } from '../azure/resource-id.js';
import { type GallerySource, isGallerySource } from '../image/definition.js';
import { newestImageVersion } from '../image/versions.js';
import { type ActivityDeps, definitionOf } from './deps.js';

export type SourceImage = MarketplaceSourceImage | GallerySourceImage;

export interface GallerySourceImage {
  readonly galleryImageId: string;
  /** Exact version (never "latest"). */
  readonly version: string;
}

/** A gallery image version as listed, reduced to what "latest" depends on. */
export interface ListedGalleryVersion {
  readonly name: string;
  readonly excludeFromLatest: boolean;
  /** Absent or 'Succeeded' when usable. */
  readonly provisioningState?: string | undefined;
}

/** What Azure means by a gallery image's latest: the numerically newest usable version not excluded from latest. */
export function newestGalleryVersion(versions: readonly ListedGalleryVersion[]): string | undefined {
  return newestImageVersion(
    versions
      .filter(
        (v) =>
          !v.excludeFromLatest && (v.provisioningState === undefined || v.provisioningState === 'Succeeded'),
      )
      .map((v) => v.name),
  );
}

async function resolveGalleryVersion(
  deps: Pick<ActivityDeps, 'config' | 'clients'>,
  definition: string,
  source: GallerySource,
): Promise<GallerySourceImage> {
  const field = `IMAGE_DEFINITIONS[${definition}].source`;
  const id = parseTypedResourceId(source.galleryImageId, 'Microsoft.Compute', ['galleries', 'images']);
  // Same subscription as the app: checked once at start-up (src/config.ts).
  const [gallery, image] = id.names as [string, string];
  const versions = deps.clients.compute.galleryImageVersions;
  if (source.version.toLowerCase() === 'latest') {
    const listed: ListedGalleryVersion[] = [];
    for await (const v of versions.listByGalleryImage(id.resourceGroup, gallery, image)) {
      if (v.name) {
        listed.push({
          name: v.name,
          excludeFromLatest: v.publishingProfile?.excludeFromLatest === true,
          provisioningState: v.provisioningState,
        });
      }
    }
    const newest = newestGalleryVersion(listed);
    if (!newest) {
      throw permanent(
        'SourceImageNotFound',
        `gallery image ${source.galleryImageId} has no version that is provisioned and not excluded from latest; publish one or pin ${field}.version`,
      );
    }
    return { galleryImageId: source.galleryImageId, version: newest };
  }
  try {
    await versions.get(id.resourceGroup, gallery, image, source.version);
  } catch (e) {
    if (statusOf(e) !== 404) throw e;
    throw permanent(
      'SourceImageVersionNotFound',
      `version ${source.version} of gallery image ${source.galleryImageId} does not exist; pin an existing version or use "latest" in ${field}.version`,
    );
  }
  return { galleryImageId: source.galleryImageId, version: source.version };
}

export interface MarketplaceSourceImage {
  readonly publisher: string;
  readonly offer: string;
  readonly sku: string;
  /** Exact version (never "latest"). */
  readonly version: string;
}

export async function resolveSourceVersion(
  deps: Pick<ActivityDeps, 'config' | 'clients'>,
  input: { definition: string },
): Promise<SourceImage> {
  const def = definitionOf(deps.config, input.definition);
  if (isGallerySource(def.source)) return resolveGalleryVersion(deps, def.name, def.source);
  const { publisher, offer, sku, version } = def.source;
  const listed = await deps.clients.compute.virtualMachineImages.list(
    deps.config.location,
    publisher,
    offer,
    sku,
  );
  const versions = listed.map((v) => v.name).filter((n): n is string => typeof n === 'string');
  if (version.toLowerCase() === 'latest') {
    const newest = newestImageVersion(versions);
    if (!newest) {
      throw permanent(
        'SourceImageNotFound',
        `no versions of ${publisher}:${offer}:${sku} in ${deps.config.location}; fix source in IMAGE_DEFINITIONS[${def.name}]`,
      );
    }
    return { publisher, offer, sku, version: newest };
  }
  if (!versions.includes(version)) {
    throw permanent(
      'SourceImageVersionNotFound',
      `version ${version} of ${publisher}:${offer}:${sku} is not offered in ${deps.config.location}; pin an available version or use "latest" in IMAGE_DEFINITIONS[${def.name}].source.version`,
    );
  }
  return { publisher, offer, sku, version };
}
