/**
 * Optional caller RBAC: requests mapped to ARM actions, ABAC delegation conditions (the form
 * infra/lib/roles.bicep produces), and an app holding only delegated rights doing what the build needs.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { conditionHolds, parseCondition } from '../../src/local/arm-emulator/abac.js';
import { requestedAction } from '../../src/local/arm-emulator/caller-authorization.js';
import { LOCAL_APP_OBJECT_ID } from '../../src/local/test-credential.js';
import { useEmulator } from '../support/emulator.js';

const RA = 'Microsoft.Authorization/roleAssignments';
function delegation(roleGuids: string[]): string {
  const attrs = (source: string) =>
    `@${source}[${RA}:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${roleGuids.join(', ')}} AND @${source}[${RA}:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'}`;
  return `((!(ActionMatches{'${RA}/write'})) OR (${attrs('Request')})) AND ((!(ActionMatches{'${RA}/delete'})) OR (${attrs('Resource')}))`;
}

describe('ABAC conditions', () => {
  const role = randomUUID();
  const condition = delegation([role]);
  const attrs = (roleId: string, type: string) => ({
    [`${RA}:RoleDefinitionId`]: roleId,
    [`${RA}:PrincipalType`]: type,
  });

  it('allows delegating only the named roles to service principals', () => {
    expect(
      conditionHolds(condition, {
        action: `${RA}/write`,
        request: attrs(role, 'ServicePrincipal'),
        resource: {},
      }),
    ).toBe(true);
    expect(
      conditionHolds(condition, {
        action: `${RA}/write`,
        request: attrs(
          `/subscriptions/x/providers/${RA.replace('roleAssignments', 'roleDefinitions')}/${role}`,
          'serviceprincipal',
        ),
        resource: {},
      }),
    ).toBe(true);
    expect(
      conditionHolds(condition, {
        action: `${RA}/write`,
        request: attrs(randomUUID(), 'ServicePrincipal'),
        resource: {},
      }),
    ).toBe(false);
    expect(
      conditionHolds(condition, { action: `${RA}/write`, request: attrs(role, 'User'), resource: {} }),
    ).toBe(false);
    expect(
      conditionHolds(condition, {
        action: `${RA}/delete`,
        request: {},
        resource: attrs(role, 'ServicePrincipal'),
      }),
    ).toBe(true);
    expect(
      conditionHolds(condition, {
        action: `${RA}/delete`,
        request: {},
        resource: attrs(randomUUID(), 'ServicePrincipal'),
      }),
    ).toBe(false);
    expect(conditionHolds(condition, { action: `${RA}/read`, request: {}, resource: {} })).toBe(true);
  });

  it('grants nothing for a condition it cannot parse', () => {
    expect(() => parseCondition("ActionMatches{'x'} AND")).toThrow();
    expect(conditionHolds('(@Request[a] GuidEquals', { action: 'x', request: {}, resource: {} })).toBe(false);
  });
});

describe('request -> RBAC action', () => {
  it('maps reads, writes, deletes, lists, POST actions and resource groups', () => {
    const t = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.VirtualMachineImages/imageTemplates/t';
    expect(requestedAction('GET', t)).toEqual({
      action: 'Microsoft.VirtualMachineImages/imageTemplates/read',
      scope: t,
    });
    expect(requestedAction('PUT', t)).toEqual({
      action: 'Microsoft.VirtualMachineImages/imageTemplates/write',
      scope: t,
    });
    expect(requestedAction('POST', `${t}/run`)).toEqual({
      action: 'Microsoft.VirtualMachineImages/imageTemplates/run/action',
      scope: t,
    });
    expect(requestedAction('GET', `${t}/runOutputs`)).toEqual({
      action: 'Microsoft.VirtualMachineImages/imageTemplates/runOutputs/read',
      scope: t,
    });
    expect(
      requestedAction(
        'GET',
        '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts',
      ),
    ).toEqual({
      action: 'Microsoft.Storage/storageAccounts/read',
      scope: '/subscriptions/s/resourceGroups/rg',
    });
    expect(requestedAction('DELETE', '/subscriptions/s/resourceGroups/rg')).toEqual({
      action: 'Microsoft.Resources/subscriptions/resourceGroups/delete',
      scope: '/subscriptions/s/resourceGroups/rg',
    });
    expect(
      requestedAction(
        'GET',
        '/subscriptions/s/providers/Microsoft.Compute/locations/l/publishers/p/artifacttypes/vmimage/offers/o/skus/k/versions',
      )?.action,
    ).toBe('Microsoft.Compute/locations/publishers/artifacttypes/offers/skus/versions/read');
    expect(
      requestedAction(
        'GET',
        '/subscriptions/s/providers/Microsoft.VirtualMachineImages/locations/l/operations/x',
      ),
    ).toBeUndefined();
  });
});

describe('caller authorization against the emulator', () => {
  const harness = useEmulator();
  afterEach(() => harness().emulator.control.setCallerAuthorization(false));

  it('lets the app do what its delegated rights allow and answers 403 AuthorizationFailed otherwise', async () => {
    const h = harness();
    const s = h.appSettings;
    const sub = `/subscriptions/${s.AZURE_SUBSCRIPTION_ID}`;
    const destination = `${sub}/resourceGroups/${s.IMAGE_DESTINATION_RESOURCE_GROUP}`;
    const imageContributor = s.IMAGE_CONTRIBUTOR_ROLE_ID!.split('/').at(-1)!;
    const builder = await h.clients.msi.userAssignedIdentities.get(
      s.IMAGE_BUILDER_RESOURCE_GROUP!,
      'id-aib-jumpbox-builder',
    );
    h.emulator.control.seed({
      roleAssignments: [
        {
          scope: `${sub}/resourceGroups/${s.IMAGE_BUILDER_RESOURCE_GROUP}`,
          roleDefinitionGuid: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
          principal: { objectId: LOCAL_APP_OBJECT_ID },
        },
        {
          scope: destination,
          roleDefinitionGuid: 'f58310d9-a9f6-439a-9e8d-f62e7b41a168',
          principal: { objectId: LOCAL_APP_OBJECT_ID },
          condition: delegation([imageContributor]),
        },
      ],
    });
    h.emulator.control.setCallerAuthorization(true);
    const { clients } = h;
    await expect(
      clients.msi.userAssignedIdentities.get(s.IMAGE_BUILDER_RESOURCE_GROUP!, 'id-aib-jumpbox-builder'),
    ).resolves.toMatchObject({ name: 'id-aib-jumpbox-builder' });
    const grant = randomUUID();
    await clients.authorization.roleAssignments.create(destination, grant, {
      roleDefinitionId: s.IMAGE_CONTRIBUTOR_ROLE_ID!,
      principalId: builder.principalId!,
      principalType: 'ServicePrincipal',
    });
    await expect(
      clients.authorization.roleAssignments.create(destination, randomUUID(), {
        roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635`,
        principalId: builder.principalId!,
        principalType: 'ServicePrincipal',
      }),
    ).rejects.toMatchObject({
      statusCode: 403,
      code: 'AuthorizationFailed',
      message: expect.stringContaining('Microsoft.Authorization/roleAssignments/write'),
    });
    await clients.authorization.roleAssignments.delete(destination, grant);
    await expect(
      clients.network.subnets.get(
        'rg-enterprise-networking-spokes',
        'vnet-imagebuilder',
        'snet-imagebuilder',
      ),
    ).rejects.toMatchObject({
      statusCode: 403,
      message: expect.stringContaining(`object id '${LOCAL_APP_OBJECT_ID}'`),
    });
  });
});
