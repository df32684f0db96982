/** The definition's last successful build (template, source version, image), for the up-to-date check. */
import { statusOf } from '../azure/errors.js';
import { parseResourceId } from '../azure/resource-id.js';
import { type ActivityDeps, recordsOf } from './deps.js';

export interface LastSuccessfulBuild {
  readonly buildId: string;
  readonly templateName: string | undefined;
  readonly sourceImageVersion: string | undefined;
  readonly imageId: string | undefined;
  /** Whether that image still exists (a deleted image means the definition is not up to date). */
  readonly imageExists: boolean;
}

/** Does a managed image or gallery image version still exist? */
async function imageExists(deps: Pick<ActivityDeps, 'clients'>, imageId: string): Promise<boolean> {
  try {
    const id = parseResourceId(imageId);
    const t = id.types.map((x) => x.toLowerCase()).join('/');
    if (t === 'images') await deps.clients.compute.images.get(id.resourceGroup, id.names[0]!);
    else if (t === 'galleries/images/versions') {
      await deps.clients.compute.galleryImageVersions.get(
        id.resourceGroup,
        id.names[0]!,
        id.names[1]!,
        id.names[2]!,
      );
    } else return false;
    return true;
  } catch (e) {
    if (statusOf(e) === 404) return false;
    throw e;
  }
}

export async function lastSuccessfulBuild(
  deps: Pick<ActivityDeps, 'config' | 'clients'>,
  input: { definition: string },
): Promise<LastSuccessfulBuild | null> {
  const r = await recordsOf(deps).lastSuccessful(input.definition);
  if (!r) return null;
  return {
    buildId: r.buildId,
    templateName: r.templateName,
    sourceImageVersion: r.sourceImageVersion,
    imageId: r.imageId,
    imageExists: r.imageId ? await imageExists(deps, r.imageId) : false,
  };
}
