/**
 * Definitions and environment values for the `template` and `egress` commands: the app settings when they are
 * valid, otherwise clearly marked placeholders (so the commands work on a laptop without any settings).
 */
import { type AppConfig, ConfigError, parseConfig } from '../config.js';
import { DEFAULT_DEFINITION_NAME, type ImageDefinition, imageDefinitionsSchema } from './definition.js';
import type { TemplateBodyInput } from './template-body.js';
import { templateInputFromConfig } from './template-input.js';

export const PLACEHOLDER = {
  subscriptionId: '00000000-0000-0000-0000-000000000000',
  location: 'eastus2',
  builderIdentityId:
    '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-PLACEHOLDER-imagebuilder/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-PLACEHOLDER-builder',
  subnetId:
    '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-PLACEHOLDER-network/providers/Microsoft.Network/virtualNetworks/vnet-PLACEHOLDER/subnets/snet-PLACEHOLDER-imagebuilder',
  stagingResourceGroupPrefix: 'rg-jumpbox-staging-',
  destinationResourceGroup: 'rg-PLACEHOLDER-images',
  sourceVersion: '0.0.0',
} as const;

export interface ExampleContext {
  readonly definitions: readonly ImageDefinition[];
  /** The parsed configuration, or undefined when placeholders are used. */
  readonly config: AppConfig | undefined;
  /** Why placeholders are used (empty when the settings are valid). */
  readonly notes: readonly string[];
}

export function exampleContext(env: Record<string, string | undefined>): ExampleContext {
  try {
    const config = parseConfig(env);
    return { definitions: config.definitions, config, notes: [] };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const notes = ['app settings are incomplete or invalid: ids below are PLACEHOLDERS'];
    const defsProblems = e.problems.filter((p) => p.setting === 'IMAGE_DEFINITIONS');
    if (defsProblems.length > 0) {
      throw new Error(
        `IMAGE_DEFINITIONS has ${defsProblems.length} problem(s):\n${defsProblems.map((p) => `  ${p.message}`).join('\n')}`,
      );
    }
    const raw = env.IMAGE_DEFINITIONS?.trim();
    const definitions = imageDefinitionsSchema.parse(
      raw ? JSON.parse(raw) : [{ name: DEFAULT_DEFINITION_NAME }],
    );
    return { definitions, config: undefined, notes };
  }
}

export function findDefinition(ctx: ExampleContext, name: string | undefined): ImageDefinition {
  const wanted = name ?? ctx.definitions[0]?.name ?? DEFAULT_DEFINITION_NAME;
  const def = ctx.definitions.find((d) => d.name === wanted);
  if (!def) {
    throw new Error(
      `no image definition "${wanted}"; configured: ${ctx.definitions.map((d) => d.name).join(', ')}`,
    );
  }
  return def;
}

export function exampleTemplateInput(
  ctx: ExampleContext,
  definition: ImageDefinition,
  sourceVersion: string,
): TemplateBodyInput {
  if (ctx.config) return templateInputFromConfig(ctx.config, definition, sourceVersion);
  return {
    definition,
    sourceVersion,
    location: PLACEHOLDER.location,
    builderIdentityId: PLACEHOLDER.builderIdentityId,
    subnetId: definition.buildSubnetId ?? PLACEHOLDER.subnetId,
    stagingResourceGroupId: `/subscriptions/${PLACEHOLDER.subscriptionId}/resourceGroups/${PLACEHOLDER.stagingResourceGroupPrefix}${definition.name}`,
    destinationResourceGroup: PLACEHOLDER.destinationResourceGroup,
    subscriptionId: PLACEHOLDER.subscriptionId,
  };
}
