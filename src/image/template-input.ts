/**
 * Builds the template-body input from the validated app configuration (the orchestration and the CLI share it).
 */

import { resourceGroupId } from '../azure/resource-id.js';
import { type AppConfig, stagingResourceGroupOf } from '../config.js';
import type { ImageDefinition } from './definition.js';
import type { TemplateBodyInput } from './template-body.js';

export function templateInputFromConfig(
  config: AppConfig,
  definition: ImageDefinition,
  sourceVersion: string,
): TemplateBodyInput {
  return {
    definition,
    sourceVersion,
    location: config.location,
    builderIdentityId: config.builderIdentity.id,
    subnetId: definition.buildSubnetId ?? config.buildSubnet.id,
    stagingResourceGroupId: resourceGroupId(
      config.subscriptionId,
      stagingResourceGroupOf(config, definition.name),
    ),
    destinationResourceGroup: config.resourceGroups.destination,
    subscriptionId: config.subscriptionId,
  };
}
