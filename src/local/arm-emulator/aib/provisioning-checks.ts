/**
 * What Image Builder checks while it creates a template (the PUT was accepted; the outcome is the
 * template's provisioningState and provisioningError), and what it checks when a run is invoked.
 *
 * Sources (also in docs/emulator.md):
 * - identity rights on the vnet (read + subnets/join/action), on a custom staging resource group
 *   (Contributor or Owner), read access to a managed image or gallery source, vnet in the template's
 *   region: https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-permissions-cli,
 *   https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-json (vnetConfig,
 *   stagingResourceGroup), https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-networking
 * - the "Not authorized to access the resource" wording and its code `Unauthorized`:
 *   https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-troubleshoot ("Assigned managed
 *   identity isn't authorized to access a resource"), https://github.com/Azure/azvmimagebuilder/issues/60,
 *   and on a Run https://github.com/MicrosoftDocs/azure-docs/issues/99193
 * - isolated builds (containerInstanceSubnetId): the template reference above and
 *   https://learn.microsoft.com/azure/virtual-machines/security-isolated-image-builds-image-builder
 */
import type { EmulatorContext } from '../context.js';
import { GALLERY_IMAGE_VERSION_TYPE, IMAGE_TYPE } from '../providers/compute.js';
import { SUBNET_TYPE, VNET_TYPE } from '../providers/network.js';
import { effectiveAssignments, hasPermission, roleGuidOf } from '../rbac.js';
import type { Json } from '../store.js';
import { GALLERY_VERSION_WRITE_ACTION, IMAGE_WRITE_ACTION, NETWORK_JOIN_ACTION } from './types.js';

const CONTRIBUTOR_ROLE_GUID = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
const OWNER_ROLE_GUID = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';
const VNET_READ_ACTION = 'Microsoft.Network/virtualNetworks/read';
const IMAGE_READ_ACTION = 'Microsoft.Compute/images/read';
const GALLERY_VERSION_READ_ACTION = 'Microsoft.Compute/galleries/images/versions/read';
export const CONTAINER_INSTANCE_NAMESPACE = 'Microsoft.ContainerInstance';
export const CONTAINER_GROUPS_SERVICE = 'Microsoft.ContainerInstance/containerGroups';

/** A provisioning failure: the code and message of provisioningError, and the LRO error detail's code. */
export interface ProvisioningFailure {
  readonly provisioningErrorCode: string;
  readonly code: string;
  readonly message: string;
}

/** Image Builder's wording for a resource its identity may not use. */
export function notAuthorizedMessage(resourceId: string): string {
  return `Not authorized to access the resource: ${resourceId}. Please check the user assigned identity has the correct permissions. For more details, go to https://aka.ms/azvmimagebuilderts.`;
}

function unauthorized(provisioningErrorCode: string, resourceId: string): ProvisioningFailure {
  return { provisioningErrorCode, code: 'Unauthorized', message: notAuthorizedMessage(resourceId) };
}

function other(message: string): ProvisioningFailure {
  return { provisioningErrorCode: 'Other', code: 'InternalOperationError', message };
}

export interface ProvisioningInput {
  readonly principalId: string;
  readonly location: string;
  readonly source: Json;
  readonly subnetId?: string | undefined;
  readonly containerInstanceSubnetId?: string | undefined;
  /** Id of a staging resource group that exists already (a custom one). */
  readonly existingStaging?: string | undefined;
  /** Staging groups other templates use (ids, any case). */
  readonly stagingInUse: readonly string[];
}

function delegatedTo(subnet: Json, service: string): boolean {
  const delegations = ((subnet.properties as Json).delegations ?? []) as Json[];
  return delegations.some(
    (d) =>
      String(((d.properties ?? {}) as Json).serviceName ?? d.serviceName ?? '').toLowerCase() ===
      service.toLowerCase(),
  );
}

/** The first thing Image Builder finds wrong while creating the template, or undefined. */
export function provisioningFailure(
  ctx: EmulatorContext,
  i: ProvisioningInput,
): ProvisioningFailure | undefined {
  const { source, principalId } = i;
  if (source.type === 'PlatformImage') {
    const versions = ctx.marketplace.get(
      ctx.marketplaceKey(String(source.publisher), String(source.offer), String(source.sku)),
    );
    if (!versions || (source.version !== 'latest' && !versions.includes(String(source.version)))) {
      return {
        provisioningErrorCode: 'BadPIRSource',
        code: 'BadPIRSource',
        message: `The platform image ${String(source.publisher)}:${String(source.offer)}:${String(source.sku)}:${String(source.version)} was not found in the marketplace.`,
      };
    }
  } else if (source.type === 'SharedImageVersion') {
    const id = String(source.imageVersionId);
    if (ctx.store.get(id)?.type !== GALLERY_IMAGE_VERSION_TYPE) {
      return {
        provisioningErrorCode: 'BadSharedImageVersionSource',
        code: 'BadSharedImageVersionSource',
        message: `The gallery image version '${id}' was not found.`,
      };
    }
    if (!hasPermission(ctx, principalId, GALLERY_VERSION_READ_ACTION, id))
      return unauthorized('BadSharedImageVersionSource', id);
  } else if (source.type === 'ManagedImage') {
    const id = String(source.imageId);
    if (ctx.store.get(id)?.type !== IMAGE_TYPE) {
      return {
        provisioningErrorCode: 'BadManagedImageSource',
        code: 'BadManagedImageSource',
        message: `The managed image '${id}' was not found.`,
      };
    }
    if (!hasPermission(ctx, principalId, IMAGE_READ_ACTION, id))
      return unauthorized('BadManagedImageSource', id);
  }
  if (i.subnetId) {
    const failure = networkFailure(ctx, i, i.subnetId);
    if (failure) return failure;
  }
  if (i.existingStaging) {
    const failure = stagingFailure(ctx, i, i.existingStaging);
    if (failure) return failure;
  }
  return undefined;
}

function networkFailure(
  ctx: EmulatorContext,
  i: ProvisioningInput,
  subnetId: string,
): ProvisioningFailure | undefined {
  const subnet = ctx.store.get(subnetId);
  if (!subnet || subnet.type !== SUBNET_TYPE) return other(`The subnet '${subnetId}' was not found.`);
  const vnetId = subnetId.replace(/\/subnets\/[^/]+$/i, '');
  const vnet = ctx.store.get(vnetId);
  if (vnet?.type === VNET_TYPE && String(vnet.body.location) !== i.location) {
    return other(
      `The virtual network '${vnetId}' is in '${String(vnet.body.location)}'; it must be in the image template's region '${i.location}'.`,
    );
  }
  for (const action of [VNET_READ_ACTION, NETWORK_JOIN_ACTION]) {
    if (!hasPermission(ctx, i.principalId, action, subnetId)) return unauthorized('Other', subnetId);
  }
  const isolated = i.containerInstanceSubnetId;
  if (isolated) {
    const aci = ctx.store.get(isolated);
    if (!aci || aci.type !== SUBNET_TYPE)
      return other(`The container instance subnet '${isolated}' was not found.`);
    if (aci.id.toLowerCase() === subnet.id.toLowerCase()) {
      return other(
        `vmProfile.vnetConfig.containerInstanceSubnetId must be a different subnet than vmProfile.vnetConfig.subnetId ('${subnetId}').`,
      );
    }
    if (isolated.replace(/\/subnets\/[^/]+$/i, '').toLowerCase() !== vnetId.toLowerCase()) {
      return other(
        `The container instance subnet '${isolated}' must be in the same virtual network as the build subnet ('${vnetId}').`,
      );
    }
    if (!delegatedTo(aci.body, CONTAINER_GROUPS_SERVICE)) {
      return other(
        `The container instance subnet '${isolated}' must be delegated to '${CONTAINER_GROUPS_SERVICE}'.`,
      );
    }
    for (const action of [VNET_READ_ACTION, NETWORK_JOIN_ACTION]) {
      if (!hasPermission(ctx, i.principalId, action, isolated)) return unauthorized('Other', isolated);
    }
    if (!ctx.registeredProviders.has(CONTAINER_INSTANCE_NAMESPACE.toLowerCase())) {
      return other(
        `The subscription is not registered to use namespace '${CONTAINER_INSTANCE_NAMESPACE}', which isolated builds need; register it (az provider register -n ${CONTAINER_INSTANCE_NAMESPACE}).`,
      );
    }
    // Isolated builds deploy no proxy VM: no private-link service, so the build subnet's policy is free.
    return undefined;
  }
  const pls = (subnet.body.properties as Json).privateLinkServiceNetworkPolicies;
  if (pls !== 'Disabled') {
    return other(
      `The subnet '${subnetId}' must have privateLinkServiceNetworkPolicies set to Disabled (found '${String(pls)}').`,
    );
  }
  return undefined;
}

function stagingFailure(
  ctx: EmulatorContext,
  i: ProvisioningInput,
  staging: string,
): ProvisioningFailure | undefined {
  // What AIB checks on a pre-existing staging group: free, empty, same region, identity Contributor/Owner.
  const bad = (why: string): ProvisioningFailure => ({
    provisioningErrorCode: 'BadStagingResourceGroup',
    code: 'BadStagingResourceGroup',
    message: `The staging resource group '${staging}' ${why}.`,
  });
  if (i.stagingInUse.some((s) => s.toLowerCase() === staging.toLowerCase()))
    return bad('is already associated with another image template');
  const resources = ctx.store
    .listUnder(staging)
    .filter((r) => !r.type.startsWith('Microsoft.Authorization/'));
  if (resources.length > 0) return bad('is not empty; it must be empty or not exist');
  const rgLocation = String(ctx.store.get(staging)?.body.location ?? '');
  if (rgLocation !== i.location)
    return bad(`is in '${rgLocation}', not in the template's region '${i.location}'`);
  const owns = effectiveAssignments(ctx, i.principalId, staging).some((a) =>
    [CONTRIBUTOR_ROLE_GUID, OWNER_ROLE_GUID].includes(
      roleGuidOf(String((a.properties as Json).roleDefinitionId)),
    ),
  );
  // The template identity needs Contributor or Owner on a custom staging group; AIB says so as Unauthorized.
  if (!owns) return unauthorized('BadStagingResourceGroup', staging);
  return undefined;
}

/**
 * The distribution target the template identity may not write to now (effective rights), or undefined:
 * checked when a run is invoked, as Image Builder does before it starts a build.
 */
export function unauthorizedDistributionTarget(
  ctx: EmulatorContext,
  principalId: string,
  distribute: readonly Json[],
): string | undefined {
  for (const d of distribute) {
    if (d.type === 'ManagedImage') {
      const id = String(d.imageId);
      if (!hasPermission(ctx, principalId, IMAGE_WRITE_ACTION, id)) return id;
    } else if (d.type === 'SharedImage') {
      const definition = String(d.galleryImageId).replace(/\/versions\/[^/]+$/i, '');
      if (!hasPermission(ctx, principalId, GALLERY_VERSION_WRITE_ACTION, `${definition}/versions/next`))
        return definition;
    }
  }
  return undefined;
}
