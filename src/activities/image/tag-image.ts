/**
 * Tags the produced managed image with the build id (templates are reused across builds, so the build id
 * cannot live in the template or its artifactTags). Gallery image versions keep the template's artifact
 * tags (definition, source version, manifest hash); their build id is in the build record.
 *
 * Uses the Tags API (Tags - Update At Scope, operation Merge): it needs only Microsoft.Resources/tags/write
 * (Tag Contributor on the destination group), leaves the image's other tags alone, and repeating it with
 * the same build id changes nothing, so a retried activity is harmless.
 */
import type { ActivityDeps } from '../deps.js';

export const BUILD_ID_TAG = 'jumpbox-build-id';

const MANAGED_IMAGE =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/images\/[^/]+$/i;

export async function tagImage(
  deps: Pick<ActivityDeps, 'clients' | 'log'>,
  input: { imageId: string; buildId: string },
): Promise<{ tagged: boolean }> {
  if (!MANAGED_IMAGE.test(input.imageId)) return { tagged: false };
  // The SDK's path template is `/{+scope}/providers/...`: pass the id without its leading slash.
  const scope = input.imageId.replace(/^\/+/, '');
  const result = await deps.clients.resources.tagsOperations.updateAtScope(
    scope,
    { operation: 'Merge', properties: { tags: { [BUILD_ID_TAG]: input.buildId } } },
    { updateIntervalInMs: 1000 },
  );
  const tagged = result.properties?.tags?.[BUILD_ID_TAG] === input.buildId;
  deps.log(
    tagged
      ? `tagged ${input.imageId} with build ${input.buildId}`
      : `tag merge on ${input.imageId} did not report ${BUILD_ID_TAG}=${input.buildId}`,
  );
  return { tagged };
}
