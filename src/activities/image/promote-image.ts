/**
 * After a successful build: mark the new image current and apply retention.
 *
 * Managed images: each build writes a new image (`<definition>-<yyyyMMdd>-<n>`). The new one is tagged
 * `jumpbox-build-id`, `jumpbox-built-at` and `jumpbox-current=true`; the tag leaves the definition's other
 * images; then all but the newest IMAGE_RETENTION_COUNT images of the definition (the new one always kept)
 * are deleted. Nothing is deleted before the new image exists, so a failed build never costs the working one.
 *
 * Gallery versions: the newest version is current (Azure's "latest"), so only retention applies: versions of
 * the gallery image that carry this definition's tag, newest IMAGE_RETENTION_COUNT kept.
 *
 * Tags go through the Tags API (Tags - Update At Scope, Merge/Delete): Microsoft.Resources/tags/write only,
 * other tags untouched, repeatable.
 */
import { statusOf } from '../../azure/errors.js';
import { parseResourceId } from '../../azure/resource-id.js';
import { parseDatedImageName, TAG } from '../../image/template-body.js';
import { compareImageVersions } from '../../image/versions.js';
import type { ActivityDeps } from '../deps.js';

export const BUILD_ID_TAG = 'jumpbox-build-id';
export const BUILT_AT_TAG = 'jumpbox-built-at';
export const CURRENT_TAG = 'jumpbox-current';
/** The archived provenance record (blob URL, no SAS) and the SHA-256 of its bytes (docs/provenance.md). */
export const PROVENANCE_TAG = 'jumpbox-provenance';
export const PROVENANCE_SHA256_TAG = 'jumpbox-provenance-sha256';

const MANAGED_IMAGE =
  /^\/subscriptions\/[^/]+\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/images\/([^/]+)$/i;

type Deps = Pick<ActivityDeps, 'config' | 'clients' | 'log'>;

export interface PromoteInput {
  readonly definition: string;
  readonly imageId: string;
  readonly buildId: string;
  /** ISO time of the build's success (orchestration clock). */
  readonly builtAt: string;
  /** Every artifact of the run (managed image, gallery versions); default [imageId]. */
  readonly artifactIds?: readonly string[] | undefined;
  /** Archived provenance record of the build and its SHA-256 (tagged on every artifact when present). */
  readonly provenance?: string | undefined;
  readonly provenanceSha256?: string | undefined;
}

/** Tags that point from the image to its provenance record (a tag value holds up to 256 characters). */
export function provenanceTags(input: PromoteInput): Record<string, string> {
  if (!input.provenance || input.provenance.length > 256) return {};
  return {
    [PROVENANCE_TAG]: input.provenance,
    ...(input.provenanceSha256 ? { [PROVENANCE_SHA256_TAG]: input.provenanceSha256 } : {}),
  };
}

export interface PromoteResult {
  readonly current: string;
  readonly deleted: readonly string[];
  readonly kept: readonly string[];
}

const scopeOf = (id: string) => id.replace(/^\/+/, '');

async function mergeTags(deps: Deps, id: string, tags: Record<string, string>): Promise<void> {
  await deps.clients.resources.tagsOperations.updateAtScope(
    scopeOf(id),
    { operation: 'Merge', properties: { tags } },
    { updateIntervalInMs: 1000 },
  );
}

async function deleteTag(deps: Deps, id: string, key: string, value: string): Promise<void> {
  await deps.clients.resources.tagsOperations.updateAtScope(
    scopeOf(id),
    { operation: 'Delete', properties: { tags: { [key]: value } } },
    { updateIntervalInMs: 1000 },
  );
}

interface Candidate {
  readonly id: string;
  readonly name: string;
  readonly tags: Record<string, string>;
}

/** Newest first: jumpbox-built-at, then the dated name (date, n); names without either are oldest. */
export function newestFirst(definition: string, a: Candidate, b: Candidate): number {
  const key = (c: Candidate): [string, number] => {
    const dated = parseDatedImageName(definition, c.name);
    return [c.tags[BUILT_AT_TAG] ?? (dated ? `${dated.date}` : ''), dated?.n ?? 0];
  };
  const [ka, na] = key(a);
  const [kb, nb] = key(b);
  const da = ka.replace(/\D/g, '').slice(0, 8);
  const db = kb.replace(/\D/g, '').slice(0, 8);
  if (da !== db) return da < db ? 1 : -1;
  if (ka !== kb) return ka < kb ? 1 : -1;
  return nb - na;
}

/** Which images to keep and delete: the newest `count`, the current one always kept. */
export function retentionSplit<T extends Candidate>(
  definition: string,
  images: readonly T[],
  currentId: string,
  count: number,
): { keep: T[]; drop: T[] } {
  const sorted = [...images].sort((a, b) => newestFirst(definition, a, b));
  const current = sorted.filter((i) => i.id.toLowerCase() === currentId.toLowerCase());
  const others = sorted.filter((i) => i.id.toLowerCase() !== currentId.toLowerCase());
  const keepOthers = others.slice(0, Math.max(0, count - current.length));
  return { keep: [...current, ...keepOthers], drop: others.slice(keepOthers.length) };
}

/** The provenance tags on the run's other artifacts (a gallery version beside the managed image). */
async function tagOtherArtifacts(deps: Deps, input: PromoteInput): Promise<void> {
  const tags = provenanceTags(input);
  if (Object.keys(tags).length === 0) return;
  for (const id of input.artifactIds ?? []) {
    if (id.toLowerCase() === input.imageId.toLowerCase()) continue;
    try {
      await mergeTags(deps, id, tags);
    } catch (e) {
      deps.log(`tagging ${id} with its provenance failed: ${(e as Error).message}`);
    }
  }
}

async function promoteManagedImage(deps: Deps, input: PromoteInput, rg: string): Promise<PromoteResult> {
  await mergeTags(deps, input.imageId, {
    [BUILD_ID_TAG]: input.buildId,
    [BUILT_AT_TAG]: input.builtAt,
    [CURRENT_TAG]: 'true',
    ...provenanceTags(input),
  });
  await tagOtherArtifacts(deps, input);
  const images: Candidate[] = [];
  for await (const image of deps.clients.compute.images.listByResourceGroup(rg)) {
    if (!image.id || !image.name || image.tags?.[TAG.definition] !== input.definition) continue;
    images.push({ id: image.id, name: image.name, tags: image.tags ?? {} });
  }
  for (const other of images) {
    if (other.id.toLowerCase() !== input.imageId.toLowerCase() && other.tags[CURRENT_TAG] !== undefined) {
      await deleteTag(deps, other.id, CURRENT_TAG, other.tags[CURRENT_TAG]!);
    }
  }
  const { keep, drop } = retentionSplit(
    input.definition,
    images,
    input.imageId,
    deps.config.imageRetentionCount,
  );
  const deleted: string[] = [];
  for (const old of drop) {
    try {
      await deps.clients.compute.images.beginDeleteAndWait(rg, old.name, { updateIntervalInMs: 1000 });
      deleted.push(old.id);
    } catch (e) {
      if (statusOf(e) !== 404) deps.log(`retention: deleting ${old.id} failed: ${(e as Error).message}`);
    }
  }
  deps.log(
    `current image of ${input.definition}: ${input.imageId}; kept ${keep.length}, deleted ${deleted.length} (IMAGE_RETENTION_COUNT=${deps.config.imageRetentionCount})`,
  );
  return { current: input.imageId, deleted, kept: keep.map((k) => k.id) };
}

async function retainGalleryVersions(deps: Deps, input: PromoteInput): Promise<PromoteResult> {
  const tags = provenanceTags(input);
  if (Object.keys(tags).length > 0) await mergeTags(deps, input.imageId, tags);
  await tagOtherArtifacts(deps, input);
  const id = parseResourceId(input.imageId);
  const [gallery, image] = [id.names[0]!, id.names[1]!];
  const versions: { id: string; name: string }[] = [];
  for await (const v of deps.clients.compute.galleryImageVersions.listByGalleryImage(
    id.resourceGroup,
    gallery,
    image,
  )) {
    if (v.id && v.name && v.tags?.[TAG.definition] === input.definition)
      versions.push({ id: v.id, name: v.name });
  }
  versions.sort((a, b) => compareImageVersions(b.name, a.name));
  const current = versions.find((v) => v.id.toLowerCase() === input.imageId.toLowerCase());
  const others = versions.filter((v) => v !== current);
  const keep = others.slice(0, Math.max(0, deps.config.imageRetentionCount - 1));
  const deleted: string[] = [];
  for (const old of others.slice(keep.length)) {
    try {
      const poller = await deps.clients.compute.galleryImageVersions.beginDelete(
        id.resourceGroup,
        gallery,
        image,
        old.name,
      );
      void poller;
      deleted.push(old.id);
    } catch (e) {
      if (statusOf(e) !== 404) deps.log(`retention: deleting ${old.id} failed: ${(e as Error).message}`);
    }
  }
  return { current: input.imageId, deleted, kept: [input.imageId, ...keep.map((k) => k.id)] };
}

export async function promoteImage(deps: Deps, input: PromoteInput): Promise<PromoteResult> {
  const m = MANAGED_IMAGE.exec(input.imageId);
  if (m) return promoteManagedImage(deps, input, m[1]!);
  if (/\/galleries\/[^/]+\/images\/[^/]+\/versions\/[^/]+$/i.test(input.imageId)) {
    return retainGalleryVersions(deps, input);
  }
  return { current: input.imageId, deleted: [], kept: [input.imageId] };
}
