/** Example definitions and environment ids shared by the image tests (fixed values: golden files depend on them). */
import {
  DEFAULT_DEFINITION_NAME,
  type ImageDefinition,
  parseImageDefinition,
} from '../../../src/image/definition.js';
import type { TemplateBodyInput } from '../../../src/image/template-body.js';

export const SUB = '11111111-2222-3333-4444-555555555555';
export const VNET = `/subscriptions/${SUB}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-build`;

/** The required app settings for these ids (location eastus2); tests add IMAGE_DEFINITIONS and overrides. */
export const minimalSettings: Readonly<Record<string, string>> = {
  AZURE_SUBSCRIPTION_ID: SUB,
  AZURE_LOCATION: 'eastus2',
  IMAGE_BUILDER_RESOURCE_GROUP: 'rg-imagebuilder',
  IMAGE_DESTINATION_RESOURCE_GROUP: 'rg-images',
  BUILD_SUBNET_ID: `${VNET}/subnets/snet-build`,
  BUILDER_IDENTITY_ID: `/subscriptions/${SUB}/resourceGroups/rg-imagebuilder/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aib`,
  NETWORK_JOINER_ROLE_ID: '11111111-1111-1111-1111-111111111111',
  IMAGE_CONTRIBUTOR_ROLE_ID: '22222222-2222-2222-2222-222222222222',
  ARCHIVE_STORAGE_ACCOUNT_URL: 'https://starchive.blob.core.windows.net',
};

export const defaultDefinition: ImageDefinition = parseImageDefinition({ name: DEFAULT_DEFINITION_NAME });

/** Gallery distribution (two regions) + AIB isolated build (container instance subnet), no managed image. */
export const galleryIsolatedDefinition: ImageDefinition = parseImageDefinition({
  name: 'aks-jumpbox-gallery',
  source: { offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2' },
  vmSize: 'Standard_D4ds_v5',
  osDiskSizeGB: 128,
  buildTimeoutInMinutes: 120,
  buildSubnetId: `${VNET}/subnets/snet-build`,
  containerInstanceSubnetId: `${VNET}/subnets/snet-aci`,
  distribute: {
    managedImage: false,
    gallery: {
      imageDefinitionId: `/subscriptions/${SUB}/resourceGroups/rg-gallery/providers/Microsoft.Compute/galleries/galJumpbox/images/aks-jumpbox`,
      targetRegions: [
        { name: 'eastus2', replicaCount: 2, storageAccountType: 'Standard_ZRS' },
        { name: 'westeurope' },
      ],
      excludeFromLatest: true,
    },
  },
  tools: { osm: { enabled: true } },
  tags: { costCenter: 'platform', owner: 'sre' },
});

export function inputFor(
  definition: ImageDefinition,
  overrides: Partial<TemplateBodyInput> = {},
): TemplateBodyInput {
  return {
    definition,
    sourceVersion: '24.04.202501140',
    location: 'eastus2',
    builderIdentityId: `/subscriptions/${SUB}/resourceGroups/rg-imagebuilder/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aib-builder`,
    subnetId: definition.buildSubnetId ?? `${VNET}/subnets/snet-build`,
    stagingResourceGroupId: `/subscriptions/${SUB}/resourceGroups/rg-jumpbox-staging-${definition.name}`,
    destinationResourceGroup: 'rg-images',
    subscriptionId: SUB,
    ...overrides,
  };
}

/** The source gallery image of galleryDefinition (a team's golden Ubuntu image). */
export const SOURCE_GALLERY_IMAGE = `/subscriptions/${SUB}/resourceGroups/rg-golden/providers/Microsoft.Compute/galleries/galGolden/images/ubuntu-24-hardened`;

/** Built from an Azure Compute Gallery image (newest version not excluded from latest), to a managed image. */
export const gallerySourceDefinition: ImageDefinition = parseImageDefinition({
  name: 'aks-jumpbox-golden',
  source: { galleryImageId: SOURCE_GALLERY_IMAGE },
});
