/**
 * Regions where Azure VM Image Builder runs (the one list the preflight uses; extend it when the
 * service adds regions: https://learn.microsoft.com/azure/virtual-machines/image-builder-overview#regions).
 * The seed (2022) listed only seven of them; the service has grown since.
 */
export const IMAGE_BUILDER_REGIONS: readonly string[] = [
  'eastus',
  'eastus2',
  'westcentralus',
  'westus',
  'westus2',
  'westus3',
  'southcentralus',
  'northcentralus',
  'centralus',
  'northeurope',
  'westeurope',
  'southeastasia',
  'eastasia',
  'australiaeast',
  'australiasoutheast',
  'uksouth',
  'ukwest',
  'brazilsouth',
  'canadacentral',
  'centralindia',
  'francecentral',
  'germanywestcentral',
  'japaneast',
  'koreacentral',
  'norwayeast',
  'switzerlandnorth',
  'swedencentral',
  'polandcentral',
  'italynorth',
  'israelcentral',
  'jioindiawest',
  'uaenorth',
  'southafricanorth',
  'qatarcentral',
  'usgovarizona',
  'usgovvirginia',
  'chinanorth3',
];

export function isImageBuilderRegion(location: string): boolean {
  return IMAGE_BUILDER_REGIONS.includes(location.toLowerCase().replace(/\s+/g, ''));
}
