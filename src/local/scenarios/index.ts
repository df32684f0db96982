/** Scenarios for the ARM emulator, and the app settings that point the app at an emulator. */
import { readFileSync } from 'node:fs';
import { SETTINGS, type SettingName } from '../../config.js';
import { DEFAULT_DEFINITION_NAME } from '../../image/definition.js';
import type { ArmEmulator } from '../arm-emulator/index.js';
import { validatePropagationSpec } from '../arm-emulator/rbac-propagation.js';
import { DEFAULT_SCENARIO } from './default.js';
import type { Scenario } from './types.js';

export { CLI_DEFAULT_SCENARIO, DEFAULT_SCENARIO } from './default.js';
export type { Scenario } from './types.js';

/**
 * Reads a scenario JSON file (the format docs/emulator.md describes; `cli scenario --print-default`
 * prints a complete one); missing top-level parts are taken from `base`.
 */
export function loadScenario(file: string, base: Scenario = DEFAULT_SCENARIO): Scenario {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`scenario ${file}: not a readable JSON scenario (${(e as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(
      `scenario ${file}: the scenario must be a JSON object (start from \`npm run cli -- scenario --print-default\`)`,
    );
  }
  return validateScenario({ ...base, ...(parsed as Partial<Scenario>) }, `scenario ${file}`);
}

/** Checks the fields the emulator cannot start without; throws one line naming the field and the fix. */
export function validateScenario(s: Scenario, where = 'scenario'): Scenario {
  for (const field of ['subscriptionId', 'tenantId', 'location'] as const) {
    if (typeof s[field] !== 'string' || s[field] === '')
      throw new Error(`${where}: "${field}" must be a non-empty string`);
  }
  if (!Array.isArray(s.resourceGroups))
    throw new Error(`${where}: "resourceGroups" must be an array of { name, location? }`);
  if (s.rbacPropagationSeconds !== undefined) {
    try {
      validatePropagationSpec(s.rbacPropagationSeconds);
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
  }
  if (s.randomSeed !== undefined && !Number.isInteger(s.randomSeed))
    throw new Error(`${where}: "randomSeed" must be a whole number`);
  return s;
}

/**
 * Every app setting (names from SETTINGS) so that parseConfig() accepts them and the app works against
 * this emulator and Azurite.
 */
export function appSettingsFor(
  emulator: ArmEmulator,
  storage: { blobAccountUrl: string; tableEndpoint: string },
): Record<string, string> {
  const s = emulator.scenario;
  const sub = emulator.subscriptionId;
  const a = s.app;
  const roleId = (guid: string) =>
    `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
  const values: Partial<Record<SettingName, string>> = {
    AZURE_SUBSCRIPTION_ID: sub,
    AZURE_LOCATION: s.location,
    IMAGE_BUILDER_RESOURCE_GROUP: a.imageBuilderResourceGroup,
    IMAGE_DESTINATION_RESOURCE_GROUP: a.destinationResourceGroup,
    STAGING_RESOURCE_GROUP_PREFIX: a.stagingResourceGroupPrefix,
    BUILD_SUBNET_ID: `/subscriptions/${sub}/resourceGroups/${a.buildSubnet.resourceGroup}/providers/Microsoft.Network/virtualNetworks/${a.buildSubnet.virtualNetwork}/subnets/${a.buildSubnet.subnet}`,
    BUILDER_IDENTITY_ID: `/subscriptions/${sub}/resourceGroups/${a.builderIdentity.resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${a.builderIdentity.name}`,
    BUILDER_IDENTITY_CREATE: 'false',
    NETWORK_JOINER_ROLE_ID: roleId(a.networkJoinerRoleGuid),
    IMAGE_CONTRIBUTOR_ROLE_ID: roleId(a.imageContributorRoleGuid),
    ARCHIVE_STORAGE_ACCOUNT_URL: storage.blobAccountUrl.replace(/\/$/, ''),
    RECORDS_TABLE_ENDPOINT: storage.tableEndpoint.replace(/\/$/, ''),
    IMAGE_DEFINITIONS: JSON.stringify([{ name: DEFAULT_DEFINITION_NAME }]),
    ARM_ENDPOINT: emulator.armEndpoint,
    ARM_CA_CERT_PATH: emulator.caCertPath,
  };
  const out: Record<string, string> = {};
  for (const [name, def] of Object.entries(SETTINGS) as [SettingName, string | undefined][]) {
    const v = values[name] ?? def;
    if (v !== undefined) out[name] = v;
  }
  return out;
}
