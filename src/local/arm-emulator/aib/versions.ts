/** Version arithmetic: "latest" marketplace versions and AIB's gallery version numbering. */
import type { EmulatorContext } from '../context.js';
import { GALLERY_IMAGE_VERSION_TYPE } from '../providers/compute.js';
import type { Json } from '../store.js';

/** The newest version by numeric comparison of dotted parts (what "latest" means to AIB). */
export function newestVersion(versions: readonly string[]): string | undefined {
  return [...versions].sort(compareVersions).at(-1);
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10));
  const pb = b.split('.').map((x) => Number.parseInt(x, 10));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The next gallery image version: the Source scheme takes the source image version; the Latest scheme
 * (default) bumps the patch of the newest version, within `major` when given (0.0.1 / major.0.1 first).
 */
export function nextGalleryVersion(
  ctx: EmulatorContext,
  galleryImageId: string,
  d: Json,
  exactVersion: string | undefined,
): string {
  const versioning = (d.versioning ?? {}) as Json;
  if (versioning.scheme === 'Source' && exactVersion) return exactVersion.split('.').slice(0, 3).join('.');
  const existing = ctx.store.list(GALLERY_IMAGE_VERSION_TYPE, galleryImageId).map((r) => String(r.body.name));
  const major = typeof versioning.major === 'number' && versioning.major >= 0 ? versioning.major : undefined;
  const candidates = existing.filter((v) => major === undefined || Number(v.split('.')[0]) === major);
  const newest = newestVersion(candidates);
  if (!newest) return `${major ?? 0}.0.1`;
  const [ma, mi, pa] = newest.split('.').map(Number);
  return `${ma}.${mi}.${(pa ?? 0) + 1}`;
}
