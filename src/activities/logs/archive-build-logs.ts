/** The archive step of a build: finds the template's staging resource group, then archives the run's logs. */
import { statusOf } from '../../azure/errors.js';
import { resourceGroupId } from '../../azure/resource-id.js';
import { stagingResourceGroupOf } from '../../config.js';
import type { ActivityDeps } from '../deps.js';
import { type ArchiveResult, archiveRunLogs } from './archive-logs.js';
import { logAccountEndpointOf } from './staging-account.js';

export async function archiveBuildLogs(
  deps: Pick<ActivityDeps, 'config' | 'clients' | 'log'>,
  input: { definition: string; buildId: string; templateName: string; runState: string },
): Promise<ArchiveResult> {
  let stagingResourceGroupId = resourceGroupId(
    deps.config.subscriptionId,
    stagingResourceGroupOf(deps.config, input.definition),
  );
  let logAccountEndpoint: string | undefined;
  let templateExists = false;
  try {
    const t = await deps.clients.imageBuilder.virtualMachineImageTemplates.get(
      deps.config.resourceGroups.imageBuilder,
      input.templateName,
    );
    stagingResourceGroupId = t.exactStagingResourceGroup ?? t.stagingResourceGroup ?? stagingResourceGroupId;
    logAccountEndpoint = logAccountEndpointOf(t.lastRunStatus?.message);
    templateExists = true;
  } catch (e) {
    if (statusOf(e) !== 404) throw e;
  }
  return archiveRunLogs(deps, { ...input, stagingResourceGroupId, logAccountEndpoint, templateExists });
}
