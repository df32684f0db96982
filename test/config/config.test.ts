import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, SETTINGS } from '../../src/config.js';

const sample = (
  JSON.parse(readFileSync('local.settings.sample.json', 'utf8')) as { Values: Record<string, string> }
).Values;

function problemsOf(env: Record<string, string | undefined>): { setting: string; message: string }[] {
  try {
    parseConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('accepts the sample settings and parses ids into their parts', () => {
    const c = parseConfig(sample);
    expect(c.buildSubnet).toMatchObject({
      resourceGroup: 'rg-enterprise-networking-spokes',
      virtualNetwork: 'vnet-imagebuilder',
      subnet: 'snet-imagebuilder',
    });
    expect(c.buildSubnet.virtualNetworkId).toBe(
      '/subscriptions/3f2b9c1e-7a4d-4e8f-b6c5-1d2e3f4a5b6c/resourceGroups/rg-enterprise-networking-spokes/providers/Microsoft.Network/virtualNetworks/vnet-imagebuilder',
    );
    expect(c.builderIdentity.name).toBe('id-aib-jumpbox-builder');
    expect(c.polling).toEqual({
      minIntervalSeconds: 30,
      maxIntervalSeconds: 300,
      defaultExpectedMinutes: 35,
    });
    expect(c.definitions.map((d) => d.name)).toEqual(['aks-jumpbox']);
    expect(Object.isFrozen(c) && Object.isFrozen(c.resourceGroups) && Object.isFrozen(c.definitions)).toBe(
      true,
    );
  });

  it('applies defaults for optional settings', () => {
    const env = { ...sample };
    for (const k of [
      'MONTHLY_REBUILD_SCHEDULE',
      'ARCHIVE_CONTAINER',
      'IMAGE_DEFINITIONS',
      'RECORDS_TABLE_ENDPOINT',
    ]) {
      delete env[k];
    }
    const c = parseConfig(env);
    expect(c.schedules.monthlyRebuild).toBe(SETTINGS.MONTHLY_REBUILD_SCHEDULE);
    expect(c.archive.container).toBe('aib-logs');
    expect(c.definitions.map((d) => d.name)).toEqual(['aks-jumpbox']);
    // The records table endpoint is derived from the blob endpoint of the archive account.
    expect(c.records.tableEndpoint).toBe('https://stjumpboxfuncprod01.table.core.windows.net');
  });

  it('reports every missing required setting at once, each by name', () => {
    const problems = problemsOf({});
    const required = Object.entries(SETTINGS)
      .filter(
        ([name, def]) =>
          def === undefined &&
          ![
            'IMAGE_DEFINITIONS',
            'NOTIFICATION_WEBHOOK_URL',
            'AZURE_CLIENT_ID',
            'ARM_CA_CERT_PATH',
            'RECORDS_TABLE_ENDPOINT',
            'GALLERY_RESOURCE_GROUPS',
            'CONTAINER_INSTANCE_SUBNET_ID',
            'DOWNLOAD_MIRROR_URL',
          ].includes(name),
      )
      .map(([name]) => name);
    expect(required.length).toBeGreaterThan(8);
    for (const name of required) {
      expect(problems).toContainEqual({ setting: name, message: 'is required but not set' });
    }
  });

  it('names the setting and the expected form for malformed values, all together', () => {
    const problems = problemsOf({
      ...sample,
      AZURE_SUBSCRIPTION_ID: 'not-a-guid',
      AZURE_LOCATION: 'East US 2',
      BUILD_SUBNET_ID:
        '/subscriptions/3f2b9c1e-7a4d-4e8f-b6c5-1d2e3f4a5b6c/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet',
      BUILDER_IDENTITY_ID: 'id-aib',
      NETWORK_JOINER_ROLE_ID: 'Network Contributor',
      ARCHIVE_STORAGE_ACCOUNT_URL: 'http://stjumpbox.blob.core.windows.net',
      ARCHIVE_CONTAINER: 'Logs_Archive',
      MONTHLY_REBUILD_SCHEDULE: '0 3 1 * *',
      POLL_MIN_INTERVAL_SECONDS: 'thirty',
      BUILDER_IDENTITY_CREATE: 'yes',
      NOTIFICATION_WEBHOOK_URL: 'ftp://hooks',
      IMAGE_DEFINITIONS: '[{"name":"aks-jumpbox"',
    });
    const by = Object.fromEntries(problems.map((p) => [p.setting, p.message]));
    expect(by.AZURE_SUBSCRIPTION_ID).toMatch(/GUID/);
    expect(by.AZURE_LOCATION).toMatch(/region name/);
    expect(by.BUILD_SUBNET_ID).toMatch(/Microsoft\.Network\/virtualNetworks\/subnets/);
    expect(by.BUILDER_IDENTITY_ID).toMatch(/full resource id/);
    expect(by.NETWORK_JOINER_ROLE_ID).toMatch(/role definition GUID/);
    expect(by.ARCHIVE_STORAGE_ACCOUNT_URL).toMatch(/https:\/\//);
    expect(by.ARCHIVE_CONTAINER).toMatch(/container name/);
    expect(by.MONTHLY_REBUILD_SCHEDULE).toMatch(/six-field NCRONTAB/);
    expect(by.POLL_MIN_INTERVAL_SECONDS).toMatch(/whole number/);
    expect(by.BUILDER_IDENTITY_CREATE).toMatch(/true or false/);
    expect(by.NOTIFICATION_WEBHOOK_URL).toMatch(/https:\/\//);
    expect(by.IMAGE_DEFINITIONS).toMatch(/JSON array/);
    expect(problems.length).toBeGreaterThanOrEqual(12);
  });

  it('reports inconsistent settings', () => {
    const other = '11111111-2222-4333-8444-555555555555';
    const problems = problemsOf({
      ...sample,
      BUILD_SUBNET_ID: sample.BUILD_SUBNET_ID!.replace(sample.AZURE_SUBSCRIPTION_ID!, other),
      BUILDER_IDENTITY_ID: sample.BUILDER_IDENTITY_ID!.replace(sample.AZURE_SUBSCRIPTION_ID!, other),
      IMAGE_CONTRIBUTOR_ROLE_ID: sample.NETWORK_JOINER_ROLE_ID,
      POLL_MIN_INTERVAL_SECONDS: '600',
      POLL_MAX_INTERVAL_SECONDS: '300',
      IMAGE_DESTINATION_RESOURCE_GROUP: sample.IMAGE_BUILDER_RESOURCE_GROUP,
    });
    const settings = problems.map((p) => p.setting).sort();
    expect(settings).toEqual(
      [
        'BUILDER_IDENTITY_ID',
        'BUILD_SUBNET_ID',
        'IMAGE_CONTRIBUTOR_ROLE_ID',
        'IMAGE_DESTINATION_RESOURCE_GROUP',
        'POLL_MIN_INTERVAL_SECONDS',
      ].sort(),
    );
    expect(problems.find((p) => p.setting === 'BUILD_SUBNET_ID')?.message).toMatch(/same subscription/);
  });

  it('requires a table endpoint when the archive URL is not a *.blob.* endpoint', () => {
    const env: Record<string, string | undefined> = {
      ...sample,
      ARCHIVE_STORAGE_ACCOUNT_URL: 'https://127.0.0.1:10000/devstoreaccount1',
    };
    delete env.RECORDS_TABLE_ENDPOINT;
    expect(problemsOf(env)).toEqual([
      { setting: 'RECORDS_TABLE_ENDPOINT', message: expect.stringMatching(/table endpoint/) },
    ]);
  });

  it('reports image definition problems with their path', () => {
    const problems = problemsOf({
      ...sample,
      IMAGE_DEFINITIONS: JSON.stringify([
        { name: 'aks-jumpbox' },
        { name: 'aks-jumpbox' },
        { name: 'Bad Name' },
      ]),
    });
    expect(problems.map((p) => p.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\[1\]\.name: duplicate/),
        expect.stringMatching(/^\[2\]\.name:/),
      ]),
    );
  });

  it('normalises a role definition GUID to a subscription-scoped id (any case)', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.boolean(), (guid, upper) => {
        const c = parseConfig({ ...sample, IMAGE_CONTRIBUTOR_ROLE_ID: upper ? guid.toUpperCase() : guid });
        expect(c.roles.imageContributor).toBe(
          `/subscriptions/${sample.AZURE_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${guid.toLowerCase()}`,
        );
      }),
      { numRuns: 50 },
    );
  });
});

describe('sample settings and README stay in step with the settings the app reads', () => {
  it('local.settings.sample.json sets every app setting', () => {
    for (const name of Object.keys(SETTINGS)) expect(Object.keys(sample)).toContain(name);
  });

  it('docs/configuration.md documents every app setting in its configuration table', () => {
    const readme = readFileSync('docs/configuration.md', 'utf8');
    const missing = Object.keys(SETTINGS).filter(
      (name) => !new RegExp(`^\\|\\s*\`${name}\``, 'm').test(readme),
    );
    expect(missing).toEqual([]);
  });
});

describe('isolated builds', () => {
  it('requires the container instance subnet on the build subnet’s virtual network', () => {
    const otherVnet = sample.BUILD_SUBNET_ID!.replace(
      'vnet-imagebuilder/subnets/snet-imagebuilder',
      'vnet-other/subnets/snet-aci',
    );
    const sameVnet = sample.BUILD_SUBNET_ID!.replace('snet-imagebuilder', 'snet-aci');
    const defs = (ci: string) => JSON.stringify([{ name: 'aks-jumpbox', containerInstanceSubnetId: ci }]);
    expect(
      parseConfig({ ...sample, IMAGE_DEFINITIONS: defs(sameVnet) }).definitions[0]?.containerInstanceSubnetId,
    ).toBe(sameVnet);
    expect(problemsOf({ ...sample, IMAGE_DEFINITIONS: defs(otherVnet) })).toEqual([
      {
        setting: 'IMAGE_DEFINITIONS',
        message: expect.stringMatching(
          /^\[0\]\.containerInstanceSubnetId must be on the virtual network of BUILD_SUBNET_ID/,
        ),
      },
    ]);
  });
});

describe('gallery sources', () => {
  const gallery = (sub: string) =>
    `/subscriptions/${sub}/resourceGroups/rg-gallery/providers/Microsoft.Compute/galleries/gal/images/ubuntu-hardened`;
  const defs = (sub: string) =>
    JSON.stringify([{ name: 'from-gallery', source: { galleryImageId: gallery(sub) } }]);

  it('accepts a gallery in the app subscription, in a group the deployment covers', () => {
    expect(
      parseConfig({
        ...sample,
        GALLERY_RESOURCE_GROUPS: 'rg-gallery',
        IMAGE_DEFINITIONS: defs(sample.AZURE_SUBSCRIPTION_ID!),
      }).definitions,
    ).toHaveLength(1);
  });

  it('refuses a gallery in a resource group the deployed rights do not cover, naming the fix', () => {
    expect(problemsOf({ ...sample, IMAGE_DEFINITIONS: defs(sample.AZURE_SUBSCRIPTION_ID!) })).toEqual([
      {
        setting: 'IMAGE_DEFINITIONS',
        message: expect.stringMatching(
          /^\[0\]\.source\.galleryImageId is in resource group rg-gallery, .*add rg-gallery to GALLERY_RESOURCE_GROUPS/,
        ),
      },
    ]);
  });

  it('refuses a gallery in another subscription at start-up, naming the field', () => {
    expect(
      problemsOf({
        ...sample,
        GALLERY_RESOURCE_GROUPS: 'rg-gallery',
        IMAGE_DEFINITIONS: defs('11111111-2222-4333-8444-555555555555'),
      }),
    ).toEqual([
      {
        setting: 'IMAGE_DEFINITIONS',
        message: expect.stringMatching(/^\[0\]\.source\.galleryImageId is in subscription 11111111/),
      },
    ]);
  });
});
