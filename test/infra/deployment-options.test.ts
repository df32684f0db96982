/**
 * infra/main.bicep with its options on and off, evaluated offline by `bicep snapshot` (skipped when
 * tools/bicep/restore.sh has not run): private networking, Microsoft Entra ID for callers, gallery sources and
 * destinations, always-ready instances, per-environment Event Grid subscription, no basic publishing credentials.
 * Each variant must evaluate without a diagnostic (tools/bicep/build.sh lints the same files).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bicepBinary, type DeploymentSnapshot, type PredictedResource, snapshotMain } from './bicep-cli.js';

const SUBSCRIPTION = '11111111-1111-1111-1111-111111111111';
const OTHER_SUBSCRIPTION = '33333333-3333-3333-3333-333333333333';
const target = {
  subscriptionId: SUBSCRIPTION,
  tenantId: '22222222-2222-2222-2222-222222222222',
  location: 'eastus2',
};
const subnet = (rg: string, vnet: string, name: string) =>
  `/subscriptions/${SUBSCRIPTION}/resourceGroups/${rg}/providers/Microsoft.Network/virtualNetworks/${vnet}/subnets/${name}`;
const gallery = (sub: string, rg: string, name: string) =>
  `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/galleries/${name}`;
const ROLE = {
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  rbacAdministrator: 'f58310d9-a9f6-439a-9e8d-f62e7b41a168',
};
const API_CLIENT_ID = '44444444-4444-4444-4444-444444444444';
const PIPELINE_CLIENT_ID = '55555555-5555-5555-5555-555555555555';
const HUB_ZONE = (service: string) =>
  `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-hub-dns/providers/Microsoft.Network/privateDnsZones/privatelink.${service}.core.windows.net`;

const bin = bicepBinary();
const base = (env: string) => [
  `param environmentName = '${env}'`,
  "param location = 'eastus2'",
  `param buildSubnetId = '${subnet('rg-net', 'vnet-ib', 'snet-ib')}'`,
];
const byType = (s: DeploymentSnapshot, type: string) => s.predictedResources.filter((r) => r.type === type);
const one = (s: DeploymentSnapshot, type: string): PredictedResource => {
  const found = byType(s, type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
};
const roleGuidOf = (a: PredictedResource) => String(a.properties?.roleDefinitionId).split('/').pop()!;
const scopeOf = (a: PredictedResource) => /guid\('([^']+)'/.exec(a.name)?.[1]?.toLowerCase() ?? '';

describe.skipIf(bin === undefined)('infra/main.bicep options (bicep snapshot)', () => {
  let off: DeploymentSnapshot;
  let offOtherEnv: DeploymentSnapshot;
  let on: DeploymentSnapshot;
  let onHubZones: DeploymentSnapshot;

  beforeAll(async () => {
    [off, offOtherEnv, on, onHubZones] = await Promise.all([
      snapshotMain(bin!, [...base('dev'), 'param subscribeToGalleryImageEvents = true'], target),
      snapshotMain(bin!, [...base('test'), 'param subscribeToGalleryImageEvents = true'], target),
      snapshotMain(
        bin!,
        [
          ...base('prod'),
          'param imageDefinitions = [',
          '  {',
          "    name: 'from-gallery'",
          `    source: { galleryImageId: '${gallery(SUBSCRIPTION, 'rg-base', 'galbase')}/images/ubuntu', version: 'latest' }`,
          `    distribute: { managedImage: false, gallery: { imageDefinitionId: '${gallery(SUBSCRIPTION, 'rg-out', 'galout')}/images/jumpbox', targetRegions: [{ name: 'eastus2' }] } }`,
          '  }',
          ']',
          `param destinationGalleryIds = ['${gallery(OTHER_SUBSCRIPTION, 'rg-far', 'galfar')}']`,
          'param privateNetworking = {',
          `  appSubnetId: '${subnet('rg-app-net', 'vnet-app', 'snet-func')}'`,
          `  privateEndpointSubnetId: '${subnet('rg-app-net', 'vnet-app', 'snet-pe')}'`,
          '}',
          'param callerAuthentication = {',
          `  clientId: '${API_CLIENT_ID}'`,
          `  allowedClientApplications: ['${PIPELINE_CLIENT_ID}']`,
          '}',
          'param durableAlwaysReadyInstances = 2',
        ],
        target,
      ),
      snapshotMain(
        bin!,
        [
          ...base('hub'),
          'param privateNetworking = {',
          `  appSubnetId: '${subnet('rg-app-net', 'vnet-app', 'snet-func')}'`,
          `  privateEndpointSubnetId: '${subnet('rg-app-net', 'vnet-app', 'snet-pe')}'`,
          `  privateDnsZoneIds: { blob: '${HUB_ZONE('blob')}', queue: '${HUB_ZONE('queue')}', table: '${HUB_ZONE('table')}' }`,
          '}',
          'param callerAuthentication = {',
          `  clientId: '${API_CLIENT_ID}'`,
          `  allowedClientApplications: ['${PIPELINE_CLIENT_ID}']`,
          '  requireFunctionKey: true',
          '}',
          'param durableAlwaysReadyInstances = 0',
        ],
        target,
      ),
    ]);
  }, 900_000);

  it('evaluates every variant without a diagnostic', () => {
    for (const s of [off, offOtherEnv, on, onHubZones]) expect(s.diagnostics).toEqual([]);
  });

  it('names the Event Grid subscription per environment (the subscription system topic is shared)', () => {
    const name = (s: DeploymentSnapshot) =>
      one(s, 'Microsoft.EventGrid/systemTopics/eventSubscriptions').name;
    expect(name(off)).toMatch(/\/evgs-jumpbox-[a-z0-9]{13}$/);
    expect(name(offOtherEnv)).toMatch(/\/evgs-jumpbox-[a-z0-9]{13}$/);
    expect(name(off)).not.toBe(name(offOtherEnv));
  });

  it('disables SCM and FTP basic publishing credentials in every variant', () => {
    for (const s of [off, on]) {
      const policies = byType(s, 'Microsoft.Web/sites/basicPublishingCredentialsPolicies');
      expect(policies.map((p) => [p.name.split('/').pop(), p.properties?.allow]).sort()).toEqual([
        ['ftp', false],
        ['scm', false],
      ]);
    }
  });

  it('keeps one always-ready instance for the durable group by default, and the count asked for', () => {
    const alwaysReady = (s: DeploymentSnapshot) =>
      one(s, 'Microsoft.Web/sites').properties?.functionAppConfig.scaleAndConcurrency.alwaysReady;
    expect(alwaysReady(off)).toEqual([{ name: 'durable', instanceCount: 1 }]);
    expect(alwaysReady(on)).toEqual([{ name: 'durable', instanceCount: 2 }]);
    expect(alwaysReady(onHubZones)).toEqual([]);
  });

  it('by default: public storage, no VNet integration, no private endpoints, no App Service Authentication', () => {
    expect(one(off, 'Microsoft.Storage/storageAccounts').properties).toMatchObject({
      publicNetworkAccess: 'Enabled',
    });
    expect(one(off, 'Microsoft.Web/sites').properties?.virtualNetworkSubnetId ?? null).toBeNull();
    expect(byType(off, 'Microsoft.Network/privateEndpoints')).toEqual([]);
    expect(byType(off, 'Microsoft.Network/privateDnsZones')).toEqual([]);
    expect(byType(off, 'Microsoft.Web/sites/config')).toEqual([]);
  });

  it('private networking: VNet integration, storage closed to the public, blob/queue/table endpoints in their zones', () => {
    expect(one(on, 'Microsoft.Web/sites').properties?.virtualNetworkSubnetId).toBe(
      subnet('rg-app-net', 'vnet-app', 'snet-func'),
    );
    expect(one(on, 'Microsoft.Storage/storageAccounts').properties).toMatchObject({
      publicNetworkAccess: 'Disabled',
      networkAcls: { defaultAction: 'Deny' },
    });
    const endpoints = byType(on, 'Microsoft.Network/privateEndpoints');
    expect(
      endpoints.map((e) => e.properties?.privateLinkServiceConnections[0].properties.groupIds[0]).sort(),
    ).toEqual(['blob', 'queue', 'table']);
    for (const e of endpoints) {
      expect(e.properties?.subnet.id).toBe(subnet('rg-app-net', 'vnet-app', 'snet-pe'));
      expect(String(e.properties?.privateLinkServiceConnections[0].properties.privateLinkServiceId)).toMatch(
        /\/providers\/Microsoft\.Storage\/storageAccounts\/stjumpbox[a-z0-9]+$/,
      );
    }
    expect(
      byType(on, 'Microsoft.Network/privateDnsZones')
        .map((z) => z.name)
        .sort(),
    ).toEqual(
      // The storage suffix of the cloud deployed to (snapshot leaves environment() unevaluated): no fixed suffix.
      ['blob', 'queue', 'table'].map(
        (service) => `[format('privatelink.{0}.{1}', '${service}', environment().suffixes.storage)]`,
      ),
    );
    const links = byType(on, 'Microsoft.Network/privateDnsZones/virtualNetworkLinks');
    expect(links).toHaveLength(3);
    for (const l of links) {
      expect(l.properties?.virtualNetwork.id).toBe(
        `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-app-net/providers/Microsoft.Network/virtualNetworks/vnet-app`,
      );
    }
    const groups = byType(on, 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups');
    expect(groups).toHaveLength(3);
  });

  it("private networking with the hub's DNS zones: creates no zone and registers the endpoints there", () => {
    expect(byType(onHubZones, 'Microsoft.Network/privateDnsZones')).toEqual([]);
    const zoneIds = byType(onHubZones, 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups')
      .map((g) => g.properties?.privateDnsZoneConfigs[0].properties.privateDnsZoneId)
      .sort();
    expect(zoneIds).toEqual([HUB_ZONE('blob'), HUB_ZONE('queue'), HUB_ZONE('table')]);
  });

  it('Entra ID for callers: 401 without a token for the API audience from an allowed application', () => {
    const auth = one(on, 'Microsoft.Web/sites/config');
    expect(auth.name).toMatch(/\/authsettingsV2$/);
    expect(auth.properties?.globalValidation).toEqual({
      requireAuthentication: true,
      unauthenticatedClientAction: 'Return401',
    });
    const aad = auth.properties?.identityProviders.azureActiveDirectory;
    expect(aad.registration).toEqual({
      clientId: API_CLIENT_ID,
      // The login endpoint of the cloud deployed to (left unevaluated by the snapshot), the deployment's tenant.
      openIdIssuer: `[format('{0}{1}/v2.0', environment().authentication.loginEndpoint, '${target.tenantId}')]`,
    });
    expect(aad.validation.allowedAudiences).toEqual([`api://${API_CLIENT_ID}`, API_CLIENT_ID]);
    expect(aad.validation.defaultAuthorizationPolicy.allowedApplications).toEqual([PIPELINE_CLIENT_ID]);
    expect(on.outputs.API_AUDIENCE).toBe(`api://${API_CLIENT_ID}`);
    expect(off.outputs.API_AUDIENCE).toBe('');
    expect(String(off.outputs.AZURE_FUNCTION_APP_URL)).toMatch(
      /^\[format\('https:\/\/\{0\}', reference\('[^']*\/Microsoft\.Web\/sites\/func-jumpbox-[a-z0-9]+', '[^']+'\)\.defaultHostName\)\]$/,
    );
  });

  it('gallery rights: Reader on source galleries for the app and the builder, conditioned delegation on destinations', () => {
    const assignments = byType(on, 'Microsoft.Authorization/roleAssignments');
    const imageContributor = String(on.outputs.IMAGE_CONTRIBUTOR_ROLE_ID).split('/').pop();
    const source = gallery(SUBSCRIPTION, 'rg-base', 'galbase').toLowerCase();
    const readers = assignments.filter((a) => scopeOf(a) === source);
    expect(readers.map(roleGuidOf)).toEqual([ROLE.reader, ROLE.reader]);
    expect(new Set(readers.map((a) => String(a.properties?.principalId))).size).toBe(2);
    const destinations = [
      gallery(SUBSCRIPTION, 'rg-out', 'galout'),
      gallery(OTHER_SUBSCRIPTION, 'rg-far', 'galfar'),
    ];
    for (const d of destinations) {
      const at = assignments.filter((a) => scopeOf(a) === d.toLowerCase());
      expect(at.map(roleGuidOf), d).toEqual([ROLE.rbacAdministrator]);
      // With the builder principal in it the condition stays an expression until deployment; its text is there.
      const condition = String(at[0]!.properties!.condition);
      expect(String(at[0]!.properties!.conditionVersion)).toContain("'2.0'");
      expect(condition).toContain('Microsoft.Authorization/roleAssignments/write');
      expect(condition).toContain('Microsoft.Authorization/roleAssignments/delete');
      for (const side of ['Request', 'Resource']) {
        expect(condition).toContain(
          `@${side}[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${imageContributor}}`,
        );
      }
      expect(condition).toContain("StringEqualsIgnoreCase {''ServicePrincipal''}");
      expect(condition).toMatch(/userAssignedIdentities\/id-jumpbox-builder-[a-z0-9]+'[^)]*\)\.principalId/);
    }
    // No gallery, no gallery rights.
    expect(
      byType(off, 'Microsoft.Authorization/roleAssignments').filter((a) =>
        scopeOf(a).includes('/galleries/'),
      ),
    ).toEqual([]);
  });
});
