/**
 * After a cancelled or failed run: remove what the run distributed only in part. Azure's troubleshooting
 * guide for Image Builder notes that cancelling a build while it distributes can leave images or gallery
 * image versions behind, which have to be removed by hand
 * (learn.microsoft.com/azure/virtual-machines/linux/image-builder-troubleshoot, "Cancel a build").
 *
 * - Managed image: the template's ManagedImage target is this build's own name (`<definition>-<date>-<n>`,
 *   never the current image), so if it exists it is this run's partial output: delete it.
 * - Gallery: versions of the target gallery image carrying this definition's tag whose provisioning did not
 *   succeed: delete them. Succeeded versions (the current one and older) are left alone.
 */
import { statusOf } from '../../azure/errors.js';
import { parseResourceId } from '../../azure/resource-id.js';
import { TAG } from '../../image/template-body.js';
import type { ActivityDeps } from '../deps.js';
import { CURRENT_TAG } from './promote-image.js';

const MANAGED_IMAGE =
  /^\/subscriptions\/[^/]+\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/images\/([^/]+)$/i;

export async function cleanupPartialImages(
  deps: Pick<ActivityDeps, 'config' | 'clients' | 'log'>,
  input: { definition: string; templateName: string },
): Promise<{ deleted: string[] }> {
  const t = await deps.clients.imageBuilder.virtualMachineImageTemplates.get(
    deps.config.resourceGroups.imageBuilder,
    input.templateName,
  );
  const deleted: string[] = [];
  for (const d of t.distribute ?? []) {
    const target = d as { type?: string; imageId?: string; galleryImageId?: string };
    if (target.type === 'ManagedImage' && target.imageId) {
      const m = MANAGED_IMAGE.exec(target.imageId);
      if (!m) continue;
      try {
        const image = await deps.clients.compute.images.get(m[1]!, m[2]!);
        if (image.tags?.[CURRENT_TAG] !== undefined) continue; // never the current image
        await deps.clients.compute.images.beginDeleteAndWait(m[1]!, m[2]!, { updateIntervalInMs: 1000 });
        deleted.push(target.imageId);
      } catch (e) {
        if (statusOf(e) !== 404) throw e;
      }
    }
    if (target.type === 'SharedImage' && target.galleryImageId) {
      const id = parseResourceId(target.galleryImageId);
      const [gallery, image] = [id.names[0]!, id.names[1]!];
      try {
        for await (const v of deps.clients.compute.galleryImageVersions.listByGalleryImage(
          id.resourceGroup,
          gallery,
          image,
        )) {
          if (!v.name || v.tags?.[TAG.definition] !== input.definition) continue;
          if (v.provisioningState === 'Succeeded') continue;
          await deps.clients.compute.galleryImageVersions.beginDeleteAndWait(
            id.resourceGroup,
            gallery,
            image,
            v.name,
            { updateIntervalInMs: 1000 },
          );
          if (v.id) deleted.push(v.id);
        }
      } catch (e) {
        if (statusOf(e) !== 404) throw e;
      }
    }
  }
  deps.log(
    deleted.length > 0
      ? `removed partial output of ${input.templateName}: ${deleted.join(', ')}`
      : `no partial output of ${input.templateName} to remove`,
  );
  return { deleted };
}
