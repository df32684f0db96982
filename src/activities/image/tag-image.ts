/**
 * Tags the produced managed image with the build id (templates are reused across builds, so the build id
 * cannot live in the template or its artifactTags). Gallery image versions keep the template's artifact
 * tags (definition, source version, manifest hash); their build id is in the build record.
 */
import type { ActivityDeps } from '../deps.js';

const MANAGED_IMAGE =
  /^\/subscriptions\/[^/]+\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/images\/([^/]+)$/i;

export async function tagImage(
  deps: Pick<ActivityDeps, 'clients' | 'log'>,
  input: { imageId: string; buildId: string },
): Promise<{ tagged: boolean }> {
  const m = MANAGED_IMAGE.exec(input.imageId);
  if (!m) return { tagged: false };
  const [, rg, name] = m as unknown as [string, string, string];
  const image = await deps.clients.compute.images.get(rg, name);
  if (image.tags?.['jumpbox-build-id'] === input.buildId) return { tagged: true };
  await deps.clients.compute.images.beginCreateOrUpdateAndWait(
    rg,
    name,
    {
      location: image.location,
      tags: { ...image.tags, 'jumpbox-build-id': input.buildId },
      ...(image.sourceVirtualMachine ? { sourceVirtualMachine: image.sourceVirtualMachine } : {}),
      ...(image.storageProfile ? { storageProfile: image.storageProfile } : {}),
      ...(image.hyperVGeneration ? { hyperVGeneration: image.hyperVGeneration } : {}),
    },
    { updateIntervalInMs: 1000 },
  );
  deps.log(`tagged ${input.imageId} with build ${input.buildId}`);
  return { tagged: true };
}
