/** Scenarios for the ARM emulator, and the app settings that point the app at an emulator. */
import { readFileSync } from 'node:fs';
import { SETTINGS, type SettingName } from '../../config.js';
import { DEFAULT_DEFINITION_NAME } from '../../image/definition.js';
import type { ArmEmulator } from '../arm-emulator/index.js';
import { DEFAULT_SCENARIO } from './default.js';
import type { Scenario } from './types.js';

export { DEFAULT_SCENARIO } from './default.js';
export type { Scenario } from './types.js';

/** Reads a scenario JSON file; missing top-level parts are taken from the default scenario. */
export function loadScenario(file: string): Scenario {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`--seed ${file}: not a readable JSON scenario (${(e as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(
      `--seed ${file}: the scenario must be a JSON object (see DEFAULT_SCENARIO in src/local/scenarios/default.ts)`,
    );
  }
  const s = { ...DEFAULT_SCENARIO, ...(parsed as Partial<Scenario>) };
  for (const field of ['subscriptionId', 'tenantId', 'location'] as const) {
    if (typeof s[field] !== 'string' || s[field] === '')
      throw new Error(`--seed ${file}: "${field}" must be a non-empty string`);
  }
  if (!Array.isArray(s.resourceGroups))
    throw new Error(`--seed ${file}: "resourceGroups" must be an array of { name, location? }`);
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
