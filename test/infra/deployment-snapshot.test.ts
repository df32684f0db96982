/**
 * What a deployment of infra/main.bicep would create, evaluated offline by `bicep snapshot` (the NuGet-restored
 * CLI; skipped when tools/bicep/restore.sh has not run). Checks the security properties that matter most:
 * the app's delegated rights are limited per scope by ABAC conditions, nothing uses keys.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bicepBinary, type DeploymentSnapshot, type PredictedResource, snapshotMain } from './bicep-cli.js';

const SUBSCRIPTION = '11111111-1111-1111-1111-111111111111';
const subnet = (rg: string, vnet: string, name: string) =>
  `/subscriptions/${SUBSCRIPTION}/resourceGroups/${rg}/providers/Microsoft.Network/virtualNetworks/${vnet}/subnets/${name}`;

const ROLE = {
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  userAccessAdministrator: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
  rbacAdministrator: 'f58310d9-a9f6-439a-9e8d-f62e7b41a168',
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  managedIdentityOperator: 'f1a07417-d97a-45cb-824c-7a7467783830',
  tagContributor: '4a9ae827-6dc8-4573-8ac7-8239d42aa03f',
};

const bin = bicepBinary();

/** The scope of a role assignment: every module names assignments guid(<scope id>, principal, role). */
function scopeOf(assignment: PredictedResource): string {
  const m = /guid\('([^']+)'/.exec(assignment.name);
  if (!m) throw new Error(`cannot tell the scope of ${assignment.name}`);
  return m[1]!.toLowerCase();
}

const roleGuidOf = (a: PredictedResource) => String(a.properties?.roleDefinitionId).split('/').pop()!;

/** The role GUIDs a condition allows on one side (@Request for writes, @Resource for deletes). */
function allowedRoles(condition: string, side: 'Request' | 'Resource'): string[] {
  const re = new RegExp(
    `@${side}\\[Microsoft\\.Authorization/roleAssignments:RoleDefinitionId\\] ForAnyOfAnyValues:GuidEquals \\{([^}]*)\\}`,
  );
  const m = re.exec(condition);
  return m ? m[1]!.split(',').map((s) => s.trim()) : [];
}

const target = {
  subscriptionId: SUBSCRIPTION,
  tenantId: '22222222-2222-2222-2222-222222222222',
  location: 'eastus2',
};
const delegationsIn = (s: DeploymentSnapshot) =>
  s.predictedResources.filter(
    (r) => r.type === 'Microsoft.Authorization/roleAssignments' && roleGuidOf(r) === ROLE.rbacAdministrator,
  );

describe.skipIf(bin === undefined)('deployment snapshot of infra/main.bicep', () => {
  let snapshot: DeploymentSnapshot;
  let defaults: DeploymentSnapshot;
  let assignments: PredictedResource[];
  let outputs: Record<string, unknown>;

  beforeAll(async () => {
    [snapshot, defaults] = await Promise.all([
      snapshotMain(
        bin!,
        [
          "param environmentName = 'ci'",
          "param location = 'eastus2'",
          `param buildSubnetId = '${subnet('rg-net', 'vnet-ib', 'snet-ib')}'`,
          'param imageDefinitions = [',
          "  { name: 'aks-jumpbox' }",
          `  { name: 'same-vnet', buildSubnetId: '${subnet('RG-NET', 'vnet-ib', 'snet-other')}' }`,
          `  { name: 'other-vnet', buildSubnetId: '${subnet('rg-net2', 'vnet2', 'snet')}', vmSize: 'Standard_D4ds_v5' }`,
          ']',
          // With the builder principal in the condition it stays a runtime expression; without it the
          // snapshot evaluates the whole condition text.
          'param restrictDelegationToBuilderIdentity = false',
          'param subscribeToGalleryImageEvents = true',
        ],
        target,
      ),
      snapshotMain(
        bin!,
        [
          "param environmentName = 'prod'",
          "param location = 'eastus2'",
          `param buildSubnetId = '${subnet('rg-net', 'vnet-ib', 'snet-ib')}'`,
        ],
        target,
      ),
    ]);
    assignments = snapshot.predictedResources.filter(
      (r) => r.type === 'Microsoft.Authorization/roleAssignments',
    );
    outputs = snapshot.outputs;
  }, 150_000);

  it("by default also limits every delegation to the builder identity's principal", () => {
    const delegations = delegationsIn(defaults);
    expect(delegations).toHaveLength(3); // vnet, destination group, one staging group
    for (const d of delegations) {
      const condition = String(d.properties?.condition);
      // The principal clause is formatted at deployment time: format('@{0}[...:PrincipalId] ...', 'Request', ...).
      expect(condition).toContain(
        '[Microsoft.Authorization/roleAssignments:PrincipalId] ForAnyOfAnyValues:GuidEquals',
      );
      expect(condition).toContain("'Request'");
      expect(condition).toContain("'Resource'");
      expect(condition).toMatch(/userAssignedIdentities\/id-jumpbox-builder-[a-z0-9]+'[^)]*\)\.principalId/);
    }
  });

  it('reports no diagnostics', () => {
    expect(snapshot.diagnostics).toEqual([]);
  });

  it('limits each delegation to the one role its scope needs, for service principals only', () => {
    const networkJoiner = String(outputs.NETWORK_JOINER_ROLE_ID).split('/').pop();
    const imageContributor = String(outputs.IMAGE_CONTRIBUTOR_ROLE_ID).split('/').pop();
    const rg = (name: string) => `/subscriptions/${SUBSCRIPTION}/resourcegroups/${name}`;
    const vnet = (group: string, name: string) =>
      `${rg(group)}/providers/microsoft.network/virtualnetworks/${name}`;
    const expected = new Map([
      [vnet('rg-net', 'vnet-ib'), [networkJoiner]],
      [vnet('rg-net2', 'vnet2'), [networkJoiner]],
      [rg('rg-ci-images'), [imageContributor]],
      [rg('rg-ci-staging-aks-jumpbox'), [ROLE.contributor]],
      [rg('rg-ci-staging-same-vnet'), [ROLE.contributor]],
      [rg('rg-ci-staging-other-vnet'), [ROLE.contributor]],
    ]);

    const delegations = delegationsIn(snapshot);
    const actual = new Map(delegations.map((a) => [scopeOf(a), a]));
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [scope, roles] of expected) {
      const p = actual.get(scope)!.properties!;
      expect(p.conditionVersion, scope).toBe('2.0');
      expect(allowedRoles(p.condition, 'Request'), scope).toEqual(roles);
      expect(allowedRoles(p.condition, 'Resource'), scope).toEqual(roles);
      for (const side of ['Request', 'Resource']) {
        expect(p.condition, scope).toContain(
          `@${side}[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'}`,
        );
      }
      expect(p.condition).toContain(
        "(!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (",
      );
      expect(p.condition).toContain(
        "(!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR (",
      );
    }
  });

  it('grants no unconditioned access-management role (Owner, User Access Administrator, RBAC Administrator)', () => {
    const risky = assignments.filter(
      (a) =>
        [ROLE.owner, ROLE.userAccessAdministrator].includes(roleGuidOf(a)) ||
        (roleGuidOf(a) === ROLE.rbacAdministrator && !a.properties?.condition),
    );
    expect(risky.map((a) => a.name)).toEqual([]);
  });

  it('gives the app read access to each build vnet group once, and log read access on each staging group', () => {
    const readerScopes = assignments.filter((a) => roleGuidOf(a) === ROLE.reader).map(scopeOf);
    expect(readerScopes.sort()).toEqual([
      `/subscriptions/${SUBSCRIPTION}/resourcegroups/rg-net`,
      `/subscriptions/${SUBSCRIPTION}/resourcegroups/rg-net2`,
    ]);
    const logScopes = assignments.filter((a) => roleGuidOf(a) === ROLE.storageBlobDataReader).map(scopeOf);
    expect(logScopes).toHaveLength(3);
    expect(logScopes.every((s) => s.includes('/resourcegroups/rg-ci-staging-'))).toBe(true);
  });

  it('lets the app attach only the builder identity (Managed Identity Operator scoped to it)', () => {
    const scopes = assignments.filter((a) => roleGuidOf(a) === ROLE.managedIdentityOperator).map(scopeOf);
    expect(scopes).toEqual([String(outputs.BUILDER_IDENTITY_ID).toLowerCase()]);
  });

  it('keeps the builder identity out of every group where the app is Contributor (no federated credential takeover)', () => {
    const identity = String(outputs.BUILDER_IDENTITY_ID).toLowerCase();
    const contributorScopes = assignments.filter((a) => roleGuidOf(a) === ROLE.contributor).map(scopeOf);
    expect(contributorScopes).not.toHaveLength(0);
    expect(contributorScopes.filter((scope) => identity.startsWith(`${scope}/`))).toEqual([]);
  });

  it('lets the app tag images in the destination group without write access to the images', () => {
    const scopes = assignments.filter((a) => roleGuidOf(a) === ROLE.tagContributor).map(scopeOf);
    expect(scopes).toEqual([`/subscriptions/${SUBSCRIPTION}/resourcegroups/rg-ci-images`]);
    const destinationRoles = assignments
      .filter((a) => scopeOf(a) === `/subscriptions/${SUBSCRIPTION}/resourcegroups/rg-ci-images`)
      .map(roleGuidOf)
      .sort();
    expect(destinationRoles).toEqual([ROLE.rbacAdministrator, ROLE.tagContributor].sort());
  });

  it('subscribes the Event Grid trigger to gallery image version writes only when asked', () => {
    const topic = snapshot.predictedResources.find((r) => r.type === 'Microsoft.EventGrid/systemTopics');
    expect(topic?.properties).toEqual({
      source: `/subscriptions/${SUBSCRIPTION}`,
      topicType: 'Microsoft.Resources.Subscriptions',
    });
    const subscription = snapshot.predictedResources.find(
      (r) => r.type === 'Microsoft.EventGrid/systemTopics/eventSubscriptions',
    );
    expect(subscription?.properties?.destination.endpointType).toBe('AzureFunction');
    expect(String(subscription?.properties?.destination.properties.resourceId)).toMatch(
      /\/providers\/Microsoft\.Web\/sites\/func-jumpbox-[a-z0-9]+\/functions\/baseImageEvent$/,
    );
    expect(subscription?.properties?.filter).toEqual({
      includedEventTypes: ['Microsoft.Resources.ResourceWriteSuccess'],
      advancedFilters: [
        {
          operatorType: 'StringIn',
          key: 'data.operationName',
          values: ['Microsoft.Compute/galleries/images/versions/write'],
        },
      ],
    });
    expect(defaults.predictedResources.filter((r) => r.type.startsWith('Microsoft.EventGrid/'))).toEqual([]);
  });

  it('assigns every role to a service principal', () => {
    expect(assignments.filter((a) => a.properties?.principalType !== 'ServicePrincipal')).toEqual([]);
  });

  it('defines the custom roles with the runbook actions and no wildcard', () => {
    const definitions = snapshot.predictedResources.filter(
      (r) => r.type === 'Microsoft.Authorization/roleDefinitions',
    );
    const actionsOf = (id: unknown) =>
      definitions.find((d) => d.id === id)?.properties?.permissions[0].actions as string[] | undefined;
    expect(actionsOf(outputs.NETWORK_JOINER_ROLE_ID)).toEqual([
      'Microsoft.Network/virtualNetworks/read',
      'Microsoft.Network/virtualNetworks/subnets/join/action',
    ]);
    expect(actionsOf(outputs.IMAGE_CONTRIBUTOR_ROLE_ID)).toEqual(
      expect.arrayContaining([
        'Microsoft.Compute/images/read',
        'Microsoft.Compute/images/write',
        'Microsoft.Compute/images/delete',
      ]),
    );
    const all = definitions.flatMap((d) =>
      d.properties?.permissions.flatMap((p: { actions: string[] }) => p.actions),
    );
    expect(all.filter((a) => a.includes('*'))).toEqual([]);
    for (const d of definitions) {
      expect(d.properties?.assignableScopes).toEqual([`/subscriptions/${SUBSCRIPTION}`]);
    }
  });

  it('creates one empty staging resource group per image definition', () => {
    expect(outputs.STAGING_RESOURCE_GROUP_NAMES).toEqual([
      'rg-ci-staging-aks-jumpbox',
      'rg-ci-staging-same-vnet',
      'rg-ci-staging-other-vnet',
    ]);
    const groups = snapshot.predictedResources.filter((r) => r.type === 'Microsoft.Resources/resourceGroups');
    expect(groups.map((g) => g.name)).toEqual(
      expect.arrayContaining(outputs.STAGING_RESOURCE_GROUP_NAMES as string[]),
    );
  });

  it('disables key-based access to storage and telemetry', () => {
    const byType = (type: string) => snapshot.predictedResources.filter((r) => r.type === type);
    const [account] = byType('Microsoft.Storage/storageAccounts');
    expect(account?.properties).toMatchObject({
      allowSharedKeyAccess: false,
      allowBlobPublicAccess: false,
      minimumTlsVersion: 'TLS1_2',
    });
    expect(byType('Microsoft.Insights/components')[0]?.properties?.DisableLocalAuth).toBe(true);
    expect(byType('Microsoft.OperationalInsights/workspaces')[0]?.properties?.features).toEqual({
      disableLocalAuth: true,
    });
  });

  it('runs the app on Flex Consumption, Node 22, deploying with its user-assigned identity', () => {
    const plan = snapshot.predictedResources.find((r) => r.type === 'Microsoft.Web/serverfarms');
    expect(plan).toMatchObject({ sku: { name: 'FC1', tier: 'FlexConsumption' } });
    const site = snapshot.predictedResources.find((r) => r.type === 'Microsoft.Web/sites');
    expect(site?.tags?.['azd-service-name']).toBe('app');
    expect(site?.properties?.httpsOnly).toBe(true);
    const config = site?.properties?.functionAppConfig;
    expect(config.runtime).toEqual({ name: 'node', version: '22' });
    expect(config.deployment.storage.authentication).toEqual({
      type: 'UserAssignedIdentity',
      userAssignedIdentityResourceId: outputs.APP_IDENTITY_ID,
    });
  });
});
