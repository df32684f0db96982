/** Published versions of a marketplace image, as names (Compute `virtualMachineImages.list`). */
import type { ComputeManagementClient } from '@azure/arm-compute';

export async function listMarketplaceVersions(
  compute: Pick<ComputeManagementClient, 'virtualMachineImages'>,
  location: string,
  source: { readonly publisher: string; readonly offer: string; readonly sku: string },
): Promise<string[]> {
  const listed = await compute.virtualMachineImages.list(
    location,
    source.publisher,
    source.offer,
    source.sku,
  );
  return listed.map((v) => v.name).filter((n): n is string => typeof n === 'string' && n.length > 0);
}
