/** Image Builder's distribution step: managed images, gallery image versions and VHDs, with the RBAC check. */
import type { EmulatorContext } from '../context.js';
import { authorizationFailedMessage } from '../errors.js';
import { normalizeLocation, resourceGroupId } from '../providers/common.js';
import { imageId as managedImageId, putGalleryImageVersion, putManagedImage } from '../providers/compute.js';
import { hasPermission } from '../rbac.js';
import type { Json } from '../store.js';
import {
  GALLERY_VERSION_WRITE_ACTION,
  IMAGE_WRITE_ACTION,
  type RunRecord,
  TEMPLATE_TYPE,
  type TemplateRecord,
} from './types.js';
import { nextGalleryVersion } from './versions.js';

/**
 * Distribution, at the very end of a build: for each target, checks the template identity's rights (as AIB
 * does, only now), creates the artifact and the run output; returns the failures, one message each.
 */
export function distributeArtifacts(
  ctx: EmulatorContext,
  t: TemplateRecord,
  run: RunRecord,
  atMs: number,
): { failures: string[]; total: number } {
  const distributors = ((t.request.properties as Json).distribute ?? []) as Json[];
  const failures: string[] = [];
  const principal = { objectId: t.identity.principalId, clientId: t.identity.clientId };
  for (const d of distributors) {
    const runOutputName = String(d.runOutputName);
    let artifact: { artifactId?: string; artifactUri?: string } | undefined;
    if (d.type === 'ManagedImage') {
      const id = String(d.imageId);
      const rg = id.split('/')[4]!;
      if (!ctx.store.has(resourceGroupId(ctx.subscriptionId, rg))) {
        failures.push(`Resource group '${rg}' could not be found (distributing to ${id}).`);
      } else if (!hasPermission(ctx, principal.objectId, IMAGE_WRITE_ACTION, id)) {
        failures.push(
          `AuthorizationFailed: ${authorizationFailedMessage(principal, IMAGE_WRITE_ACTION, id)}`,
        );
      } else if (ctx.store.has(id)) {
        failures.push(
          `[Distribute ${distributors.indexOf(d)}] Error creating managed image '${id}': the image already exists and the source of an existing image cannot be changed (PropertyChangeNotAllowed). Delete the image or distribute to a new image name.`,
        );
      } else {
        const image = putManagedImage(
          ctx,
          managedImageId(ctx.subscriptionId, rg, id.split('/').at(-1)!),
          normalizeLocation(String(d.location)),
          (d.artifactTags as Record<string, string> | undefined) ?? undefined,
          {
            storageProfile: {
              osDisk: {
                osType: 'Linux',
                osState: 'Generalized',
                caching: 'ReadWrite',
                storageAccountType: 'Standard_LRS',
                diskSizeGB: 64,
                blobUri: `${ctx.blobAccountUrl(t.staging.account)}/vhds/${run.guid}.vhd`,
              },
              dataDisks: [],
              zoneResilient: false,
            },
          },
        );
        artifact = { artifactId: String(image.id) };
      }
    } else if (d.type === 'SharedImage') {
      const explicit = /^(.*\/images\/[^/]+)\/versions\/([^/]+)$/i.exec(String(d.galleryImageId));
      const galleryImageId = explicit ? explicit[1]! : String(d.galleryImageId);
      const definition = ctx.store.get(galleryImageId);
      const version = explicit
        ? explicit[2]!
        : definition
          ? nextGalleryVersion(ctx, galleryImageId, d, run.exactVersion)
          : '0.0.1';
      const versionId = `${galleryImageId}/versions/${version}`;
      if (!definition) {
        failures.push(`The gallery image definition '${galleryImageId}' was not found.`);
      } else if (ctx.store.has(versionId)) {
        failures.push(
          `The gallery image version '${versionId}' already exists; image version ids must be distinct.`,
        );
      } else if (!hasPermission(ctx, principal.objectId, GALLERY_VERSION_WRITE_ACTION, versionId)) {
        failures.push(
          `AuthorizationFailed: ${authorizationFailedMessage(principal, GALLERY_VERSION_WRITE_ACTION, versionId)}`,
        );
      } else {
        const regions = Array.isArray(d.targetRegions) ? (d.targetRegions as Json[]) : [];
        putGalleryImageVersion(
          ctx,
          versionId,
          String(definition.body.location),
          (d.artifactTags as Record<string, string> | undefined) ?? undefined,
          {
            publishingProfile: {
              targetRegions:
                regions.length > 0
                  ? regions.map((r) => ({
                      name: String(r.name),
                      regionalReplicaCount: Number(r.replicaCount ?? 1),
                      storageAccountType: String(r.storageAccountType ?? 'Standard_LRS'),
                    }))
                  : [
                      {
                        name: String(definition.body.location),
                        regionalReplicaCount: 1,
                        storageAccountType: 'Standard_LRS',
                      },
                    ],
              replicaCount: 1,
              excludeFromLatest: d.excludeFromLatest === true,
              publishedDate: new Date(atMs).toISOString(),
              storageAccountType: 'Standard_LRS',
            },
          },
        );
        artifact = { artifactId: versionId };
      }
    } else {
      artifact = { artifactUri: `${ctx.blobAccountUrl(t.staging.account)}/vhds/${run.guid}.vhd` };
    }
    if (artifact) {
      t.runOutputs.set(runOutputName.toLowerCase(), {
        id: `${t.id}/runOutputs/${runOutputName}`,
        name: runOutputName,
        type: `${TEMPLATE_TYPE}/runOutputs`,
        properties: { ...artifact, provisioningState: 'Succeeded' },
      });
    }
  }
  return { failures, total: distributors.length };
}
