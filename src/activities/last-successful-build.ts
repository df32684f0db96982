/** The definition's last successful build (template, source version, image), for the up-to-date check. */
import { statusOf } from '../azure/errors.js';
import { parseResourceId } from '../azure/resource-id.js';
import { type ActivityDeps, recordsOf } from './deps.js';
import { planTemplate, type TemplateInput } from './template/deploy-template.js';

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

export interface UpToDateCheck {
  readonly upToDate: boolean;
  /** The template this build would use (planTemplate's name). */
  readonly templateName: string;
  /** The image of the last successful build when up to date. */
  readonly imageId?: string | undefined;
  readonly reason: string;
}

/**
 * Read-only, before any grant: is the definition up to date (the template it would use exists unchanged,
 * and the last successful build made an image that still exists from that template and source version)?
 */
export async function checkUpToDate(
  deps: Pick<ActivityDeps, 'config' | 'clients'>,
  input: TemplateInput,
): Promise<UpToDateCheck> {
  const plan = await planTemplate(deps, input);
  if (plan.action !== 'reuse') {
    return { upToDate: false, templateName: plan.templateName, reason: plan.reason };
  }
  const last = await lastSuccessfulBuild(deps, { definition: input.definition });
  if (
    last?.imageId &&
    last.imageExists &&
    last.templateName === plan.templateName &&
    last.sourceImageVersion === input.sourceVersion
  ) {
    return {
      upToDate: true,
      templateName: plan.templateName,
      imageId: last.imageId,
      reason: `build ${last.buildId} made ${last.imageId} from the same template and source version`,
    };
  }
  return {
    upToDate: false,
    templateName: plan.templateName,
    reason: last ? 'the last successful build differs or its image is gone' : 'no successful build yet',
  };
}
