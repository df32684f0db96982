/**
 * Azure RBAC as the emulator needs it: built-in role definitions the app uses, custom roles, and the
 * permission check "does this principal hold a role whose actions allow X at (or above) this scope".
 */
import { type ConditionContext, conditionHolds } from './abac.js';
import type { RbacPropagation } from './rbac-propagation.js';
import { isAtOrBelow, type Json, type ResourceStore } from './store.js';

/** What authorization decisions read: the stored assignments and how far their changes have propagated. */
export interface AuthorizationView {
  readonly store: ResourceStore;
  readonly rbac: RbacPropagation;
}

export const ROLE_DEFINITION_TYPE = 'Microsoft.Authorization/roleDefinitions';
export const ROLE_ASSIGNMENT_TYPE = 'Microsoft.Authorization/roleAssignments';

export interface RolePermission {
  readonly actions: readonly string[];
  readonly notActions: readonly string[];
  readonly dataActions: readonly string[];
  readonly notDataActions: readonly string[];
}

export interface RoleDefinitionSeed {
  readonly guid: string;
  readonly roleName: string;
  readonly description: string;
  readonly type: 'BuiltInRole' | 'CustomRole';
  readonly actions: readonly string[];
  readonly notActions?: readonly string[];
  readonly dataActions?: readonly string[];
  readonly assignableScopes?: readonly string[];
}

/** Built-in roles (ids and actions as Azure publishes them) the app and its tests touch. */
export const BUILT_IN_ROLES: readonly RoleDefinitionSeed[] = [
  {
    guid: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
    roleName: 'Owner',
    description:
      'Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.',
    type: 'BuiltInRole',
    actions: ['*'],
  },
  {
    guid: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
    roleName: 'Contributor',
    description:
      'Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC.',
    type: 'BuiltInRole',
    actions: ['*'],
    notActions: [
      'Microsoft.Authorization/*/Delete',
      'Microsoft.Authorization/*/Write',
      'Microsoft.Authorization/elevateAccess/Action',
      'Microsoft.Blueprint/blueprintAssignments/write',
      'Microsoft.Blueprint/blueprintAssignments/delete',
    ],
  },
  {
    guid: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
    roleName: 'Reader',
    description: 'View all resources, but does not allow you to make any changes.',
    type: 'BuiltInRole',
    actions: ['*/read'],
  },
  {
    guid: '4d97b98b-1d4f-4787-a291-c67834d212e7',
    roleName: 'Network Contributor',
    description: 'Lets you manage networks, but not access to them.',
    type: 'BuiltInRole',
    actions: [
      'Microsoft.Authorization/*/read',
      'Microsoft.Insights/alertRules/*',
      'Microsoft.Network/*',
      'Microsoft.ResourceHealth/availabilityStatuses/read',
      'Microsoft.Resources/deployments/*',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
      'Microsoft.Support/*',
    ],
  },
  {
    guid: 'f1a07417-d97a-45cb-824c-7a7467783830',
    roleName: 'Managed Identity Operator',
    description: 'Read and Assign User Assigned Identity',
    type: 'BuiltInRole',
    actions: [
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/read',
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action',
      'Microsoft.Authorization/*/read',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
    ],
  },
  {
    guid: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
    roleName: 'User Access Administrator',
    description: 'Lets you manage user access to Azure resources.',
    type: 'BuiltInRole',
    actions: ['*/read', 'Microsoft.Authorization/*', 'Microsoft.Support/*'],
  },
  {
    guid: 'f58310d9-a9f6-439a-9e8d-f62e7b41a168',
    roleName: 'Role Based Access Control Administrator',
    description:
      'Manage access to Azure resources by assigning roles using Azure RBAC. This role does not allow you to manage access using other ways, such as Azure Policy.',
    type: 'BuiltInRole',
    actions: [
      'Microsoft.Authorization/roleAssignments/write',
      'Microsoft.Authorization/roleAssignments/delete',
      '*/read',
      'Microsoft.Support/*',
    ],
  },
  {
    guid: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
    roleName: 'Storage Blob Data Reader',
    description: 'Allows for read access to Azure Storage blob containers and data',
    type: 'BuiltInRole',
    actions: [
      'Microsoft.Storage/storageAccounts/blobServices/containers/read',
      'Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action',
    ],
    dataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'],
  },
  {
    guid: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
    roleName: 'Storage Blob Data Contributor',
    description: 'Allows for read, write and delete access to Azure Storage blob containers and data',
    type: 'BuiltInRole',
    actions: [
      'Microsoft.Storage/storageAccounts/blobServices/containers/delete',
      'Microsoft.Storage/storageAccounts/blobServices/containers/read',
      'Microsoft.Storage/storageAccounts/blobServices/containers/write',
      'Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action',
    ],
    dataActions: [
      'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete',
      'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
      'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write',
      'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action',
      'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action',
    ],
  },
  {
    guid: '4a9ae827-6dc8-4573-8ac7-8239d42aa03f',
    roleName: 'Tag Contributor',
    description: 'Lets you manage tags on entities, without providing access to the entities themselves.',
    type: 'BuiltInRole',
    actions: [
      'Microsoft.Authorization/*/read',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
      'Microsoft.Resources/subscriptions/resourceGroups/resources/read',
      'Microsoft.Resources/subscriptions/resources/read',
      'Microsoft.Resources/deployments/*',
      'Microsoft.Insights/alertRules/*',
      'Microsoft.Support/*',
      'Microsoft.Resources/tags/*',
    ],
  },
  {
    guid: '9980e02c-c2be-4d73-94e8-173b1dc7cf3c',
    roleName: 'Virtual Machine Contributor',
    description: 'Create and manage virtual machines, manage disks, install and run software.',
    type: 'BuiltInRole',
    actions: [
      'Microsoft.Authorization/*/read',
      'Microsoft.Compute/*',
      'Microsoft.Network/*/read',
      'Microsoft.Network/virtualNetworks/subnets/join/action',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
    ],
  },
];

/** `*` matches any run of characters; comparison is case-insensitive, as in Azure RBAC. */
export function actionMatches(pattern: string, action: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return re.test(action);
}

export function permissionsOf(roleDefinition: Json): RolePermission[] {
  const props = (roleDefinition.properties ?? {}) as { permissions?: Partial<RolePermission>[] };
  return (props.permissions ?? []).map((p) => ({
    actions: p.actions ?? [],
    notActions: p.notActions ?? [],
    dataActions: p.dataActions ?? [],
    notDataActions: p.notDataActions ?? [],
  }));
}

export function roleAllows(roleDefinition: Json, action: string): boolean {
  return permissionsOf(roleDefinition).some(
    (p) =>
      p.actions.some((a) => actionMatches(a, action)) && !p.notActions.some((a) => actionMatches(a, action)),
  );
}

/** The GUID at the end of a role definition id (or the GUID itself). */
export function roleGuidOf(roleDefinitionId: string): string {
  return roleDefinitionId.slice(roleDefinitionId.lastIndexOf('/') + 1).toLowerCase();
}

export interface AssignmentView {
  readonly id: string;
  readonly name: string;
  readonly scope: string;
  readonly principalId: string;
  readonly principalType: string | undefined;
  readonly roleDefinitionId: string;
  readonly roleName: string | undefined;
}

export function assignmentView(store: ResourceStore, id: string, body: Json): AssignmentView {
  const p = body.properties as {
    scope: string;
    principalId: string;
    principalType?: string;
    roleDefinitionId: string;
  };
  const role = findRoleDefinition(store, p.roleDefinitionId);
  return {
    id,
    name: String(body.name),
    scope: p.scope,
    principalId: p.principalId,
    principalType: p.principalType,
    roleDefinitionId: p.roleDefinitionId,
    roleName: role ? String((role.properties as { roleName?: string }).roleName) : undefined,
  };
}

/** Role definitions are stored under `/providers/Microsoft.Authorization/roleDefinitions/{guid}`. */
export function roleDefinitionStoreId(guid: string): string {
  return `/providers/Microsoft.Authorization/roleDefinitions/${guid.toLowerCase()}`;
}

export function findRoleDefinition(store: ResourceStore, roleDefinitionId: string): Json | undefined {
  return store.get(roleDefinitionStoreId(roleGuidOf(roleDefinitionId)))?.body;
}

/**
 * Role assignments of a principal that apply at `scope` (assigned at the scope or inherited from above)
 * and count for authorization now: created ones once propagated, deleted ones until propagated.
 */
export function effectiveAssignments(view: AuthorizationView, principalId: string, scope: string): Json[] {
  return [
    ...view.store
      .list(ROLE_ASSIGNMENT_TYPE)
      .filter((r) => view.rbac.isEffective(r.id))
      .map((r) => r.body),
    ...view.rbac.lingering(),
  ].filter((b) => {
    const p = b.properties as { principalId: string; scope: string };
    return p.principalId.toLowerCase() === principalId.toLowerCase() && isAtOrBelow(scope, p.scope);
  });
}

/**
 * True when the principal holds, at or above `scope`, a role whose actions allow `action` and whose
 * assignment condition (ABAC), if any, holds for this request.
 */
export function hasPermission(
  view: AuthorizationView,
  principalId: string,
  action: string,
  scope: string,
  attributes: Pick<ConditionContext, 'request' | 'resource'> = { request: {}, resource: {} },
): boolean {
  return effectiveAssignments(view, principalId, scope).some((a) => {
    const props = a.properties as { roleDefinitionId: string; condition?: string };
    const role = findRoleDefinition(view.store, props.roleDefinitionId);
    if (role === undefined || !roleAllows(role, action)) return false;
    return props.condition === undefined || conditionHolds(props.condition, { action, ...attributes });
  });
}
