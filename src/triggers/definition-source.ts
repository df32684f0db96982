/**
 * Where a definition's base image comes from: a marketplace image (publisher/offer/sku, watched by the
 * base-image timer) or an Azure Compute Gallery image (`source.galleryImageId`, watched through Event Grid).
 * Read defensively: the definition schema is owned by the image module and may grow.
 */
import type { ImageDefinition } from '../image/definition.js';

export type DefinitionSource =
  | {
      readonly kind: 'marketplace';
      readonly publisher: string;
      readonly offer: string;
      readonly sku: string;
      /** 'latest' or a pinned version. */
      readonly version: string;
    }
  | { readonly kind: 'gallery'; readonly galleryImageId: string; readonly version: string };

const GALLERY_IMAGE =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/galleries\/[^/]+\/images\/[^/]+$/i;

export function sourceOf(definition: ImageDefinition): DefinitionSource | undefined {
  const s = definition.source as unknown as Record<string, unknown> | undefined;
  if (!s || typeof s !== 'object') return undefined;
  const str = (k: string) => (typeof s[k] === 'string' ? (s[k] as string) : undefined);
  const gallery = str('galleryImageId') ?? (s.type === 'gallery' ? str('imageId') : undefined);
  if (gallery && GALLERY_IMAGE.test(gallery)) {
    return { kind: 'gallery', galleryImageId: gallery, version: str('version') ?? 'latest' };
  }
  const publisher = str('publisher');
  const offer = str('offer');
  const sku = str('sku');
  if (publisher && offer && sku) {
    return { kind: 'marketplace', publisher, offer, sku, version: str('version') ?? 'latest' };
  }
  return undefined;
}

/** The gallery image a definition publishes to (its own output), if any. */
export function distributionGalleryImageOf(definition: ImageDefinition): string | undefined {
  const d = (definition as unknown as { distribute?: { gallery?: { imageDefinitionId?: unknown } } })
    .distribute;
  const id = d?.gallery?.imageDefinitionId;
  return typeof id === 'string' ? id : undefined;
}
