/**
 * Microsoft.Authorization: role assignments (any scope, GUID names, `$filter`, RoleAssignmentExists,
 * PrincipalNotFound during replication) and role definitions (built-in and custom).
 */
import type { ArmRequest, EmulatorContext } from '../context.js';
import { ArmError, badRequest, conflict, resourceGroupNotFound, resourceNotFound } from '../errors.js';
import {
  findRoleDefinition,
  ROLE_ASSIGNMENT_TYPE,
  ROLE_DEFINITION_TYPE,
  type RoleDefinitionSeed,
  roleDefinitionStoreId,
  roleGuidOf,
} from '../rbac.js';
import { type Route, route } from '../router.js';
import { isAtOrBelow, type Json, normalizeId } from '../store.js';
import { listBody, requireObjectBody, resourceGroupId } from './common.js';
import { findIdentityByPrincipal } from './msi.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PRINCIPAL_TYPES = ['User', 'Group', 'ServicePrincipal', 'ForeignGroup', 'Device'];

/** Checks that the scope exists: subscription, resource group, or a resource the emulator holds. */
function requireScope(ctx: EmulatorContext, scope: string): void {
  if (scope === '' || scope === '/') return;
  const parts = scope.split('/');
  if (parts[1]?.toLowerCase() !== 'subscriptions' || !parts[2]) {
    throw badRequest('InvalidScope', `The scope '${scope}' is not valid for a role assignment.`);
  }
  if (parts[2].toLowerCase() !== ctx.subscriptionId.toLowerCase()) {
    throw new ArmError(404, 'SubscriptionNotFound', `The subscription '${parts[2]}' could not be found.`);
  }
  if (parts.length >= 5) {
    const rg = parts[4]!;
    if (!ctx.store.has(resourceGroupId(parts[2], rg))) throw resourceGroupNotFound(rg);
  }
  if (parts.length >= 9 && !ctx.store.has(scope)) {
    throw resourceNotFound(
      parts
        .slice(6, -1)
        .filter((_, i) => i % 2 === 0)
        .join('/'),
      parts.at(-1)!,
      parts[4],
    );
  }
}

function subscriptionPrefix(scope: string): string {
  const m = /^\/subscriptions\/[^/]+/i.exec(scope);
  return m ? m[0] : '';
}

/** Role definition as ARM returns it when read at `scope`. */
function roleDefinitionView(body: Json, scope: string): Json {
  return {
    ...body,
    id: `${subscriptionPrefix(scope)}/providers/Microsoft.Authorization/roleDefinitions/${String(body.name)}`,
  };
}

export function seedRoleDefinition(ctx: EmulatorContext, seed: RoleDefinitionSeed): Json {
  const at = ctx.isoNow();
  const body: Json = {
    id: roleDefinitionStoreId(seed.guid),
    name: seed.guid.toLowerCase(),
    type: ROLE_DEFINITION_TYPE,
    properties: {
      roleName: seed.roleName,
      type: seed.type,
      description: seed.description,
      assignableScopes: seed.assignableScopes ?? ['/'],
      permissions: [
        {
          actions: [...seed.actions],
          notActions: [...(seed.notActions ?? [])],
          dataActions: [...(seed.dataActions ?? [])],
          notDataActions: [],
        },
      ],
      createdOn: at,
      updatedOn: at,
      createdBy: null,
      updatedBy: null,
    },
  };
  ctx.store.put(roleDefinitionStoreId(seed.guid), ROLE_DEFINITION_TYPE, body, ctx.now());
  return body;
}

/** Whether the directory knows the principal now; `replicating` when it was created moments ago. */
function principalState(ctx: EmulatorContext, principalId: string): 'known' | 'replicating' | 'unknown' {
  const windowMs = ctx.timing.principalReplicationSeconds * 1000;
  const identity = findIdentityByPrincipal(ctx, principalId);
  const createdAtMs =
    identity?.createdAtMs ?? ctx.knownPrincipals.get(principalId.toLowerCase())?.createdAtMs;
  if (createdAtMs === undefined) return 'unknown';
  return ctx.now() - createdAtMs < windowMs ? 'replicating' : 'known';
}

function principalNotFound(ctx: EmulatorContext, principalId: string): ArmError {
  return badRequest(
    'PrincipalNotFound',
    `Principal ${principalId.replace(/-/g, '')} does not exist in the directory ${ctx.tenantId}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group. See https://aka.ms/docs-principaltype`,
  );
}

function putRoleAssignment(ctx: EmulatorContext, req: ArmRequest, scope: string, name: string) {
  if (!GUID.test(name)) {
    throw badRequest(
      'InvalidRoleAssignmentId',
      `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`,
    );
  }
  requireScope(ctx, scope);
  const body = requireObjectBody(req);
  const props = (body.properties ?? {}) as Json;
  const roleDefinitionId = props.roleDefinitionId;
  const principalId = props.principalId;
  if (typeof roleDefinitionId !== 'string' || roleDefinitionId === '') {
    throw badRequest(
      'InvalidRequestContent',
      'properties.roleDefinitionId is required: the full id of the role definition.',
      'properties.roleDefinitionId',
    );
  }
  if (typeof principalId !== 'string' || !GUID.test(principalId)) {
    throw badRequest(
      'InvalidPrincipalId',
      'A valid principal ID must be provided for role assignment (properties.principalId, a GUID).',
      'properties.principalId',
    );
  }
  const principalType = props.principalType;
  if (principalType !== undefined && !PRINCIPAL_TYPES.includes(String(principalType))) {
    throw badRequest(
      'InvalidPrincipalType',
      `properties.principalType must be one of ${PRINCIPAL_TYPES.join(', ')}.`,
      'properties.principalType',
    );
  }
  const role = findRoleDefinition(ctx.store, roleDefinitionId);
  if (!role) {
    throw badRequest(
      'RoleDefinitionDoesNotExist',
      `The specified role definition with ID '${roleGuidOf(roleDefinitionId)}' does not exist.`,
    );
  }
  const state = principalState(ctx, principalId);
  if (state === 'unknown' || (state === 'replicating' && principalType !== 'ServicePrincipal')) {
    throw principalNotFound(ctx, principalId);
  }
  const identity = findIdentityByPrincipal(ctx, principalId);
  if (identity && principalType !== undefined && principalType !== 'ServicePrincipal') {
    throw badRequest(
      'UnmatchedPrincipalType',
      `The PrincipalId '${principalId.replace(/-/g, '')}' has type 'ServicePrincipal', which is different from specified PrincipalType '${String(principalType)}'.`,
    );
  }
  const id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
  const roleGuid = roleGuidOf(roleDefinitionId);
  const normalizedRoleId = `/subscriptions/${ctx.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`;
  const existing = ctx.store.get(id);
  if (existing) {
    const p = existing.body.properties as Json;
    const same =
      String(p.principalId).toLowerCase() === principalId.toLowerCase() &&
      roleGuidOf(String(p.roleDefinitionId)) === roleGuid &&
      normalizeId(String(p.scope)) === normalizeId(scope);
    if (!same) {
      throw badRequest(
        'RoleAssignmentUpdateNotPermitted',
        'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.',
      );
    }
    return { status: 201, body: existing.body };
  }
  const duplicate = ctx.store.list(ROLE_ASSIGNMENT_TYPE).find((a) => {
    const p = a.body.properties as Json;
    return (
      String(p.principalId).toLowerCase() === principalId.toLowerCase() &&
      roleGuidOf(String(p.roleDefinitionId)) === roleGuid &&
      normalizeId(String(p.scope)) === normalizeId(scope)
    );
  });
  if (duplicate) {
    throw conflict('RoleAssignmentExists', 'The role assignment already exists.');
  }
  const at = ctx.isoNow();
  const stored: Json = {
    id,
    name: name.toLowerCase(),
    type: ROLE_ASSIGNMENT_TYPE,
    properties: {
      roleDefinitionId: normalizedRoleId,
      principalId: principalId.toLowerCase(),
      principalType: principalType ?? (identity ? 'ServicePrincipal' : 'User'),
      scope: scope === '' ? '/' : scope,
      ...(typeof props.condition === 'string' ? { condition: props.condition } : {}),
      ...(typeof props.conditionVersion === 'string' ? { conditionVersion: props.conditionVersion } : {}),
      ...(typeof props.description === 'string' ? { description: props.description } : {}),
      createdOn: at,
      updatedOn: at,
      createdBy: req.callerObjectId ?? null,
      updatedBy: req.callerObjectId ?? null,
      delegatedManagedIdentityResourceId: null,
    },
  };
  ctx.store.put(id, ROLE_ASSIGNMENT_TYPE, stored, ctx.now());
  ctx.rbac.created(id, stored);
  return { status: 201, body: stored };
}

/** Parses the `$filter` forms ARM supports for role assignments. */
export function parseAssignmentFilter(filter: string | null): {
  atScope: boolean;
  principalId?: string;
  assignedTo?: string;
} {
  if (filter === null || filter.trim() === '') return { atScope: false };
  const result: { atScope: boolean; principalId?: string; assignedTo?: string } = { atScope: false };
  for (const clause of filter.split(/\s+and\s+/i)) {
    const c = clause.trim();
    const principal = /^principalId\s+eq\s+'([^']+)'$/i.exec(c);
    const assignedTo = /^assignedTo\('([^']+)'\)$/i.exec(c);
    if (/^atScope\(\)$/i.test(c)) result.atScope = true;
    else if (principal) result.principalId = principal[1]!;
    else if (assignedTo) result.assignedTo = assignedTo[1]!;
    else {
      throw badRequest(
        'UnsupportedQuery',
        `The filter '${filter}' is not supported. Supported filters are 'atScope()', "principalId eq '{id}'" and "assignedTo('{id}')", combined with 'and'.`,
      );
    }
  }
  return result;
}

function listRoleAssignments(ctx: EmulatorContext, req: ArmRequest, scope: string) {
  requireScope(ctx, scope);
  const f = parseAssignmentFilter(req.query.get('$filter'));
  const principal = (f.principalId ?? f.assignedTo)?.toLowerCase();
  const items = ctx.store
    .list(ROLE_ASSIGNMENT_TYPE)
    .map((r) => r.body)
    .filter((b) => {
      const p = b.properties as Json;
      const s = String(p.scope);
      const above = isAtOrBelow(scope, s);
      const below = isAtOrBelow(s, scope);
      if (f.atScope ? !above : !(above || below)) return false;
      return principal === undefined || String(p.principalId).toLowerCase() === principal;
    });
  return { status: 200, body: listBody(items) };
}

function putRoleDefinition(ctx: EmulatorContext, req: ArmRequest, scope: string, guid: string) {
  if (!GUID.test(guid))
    throw badRequest(
      'InvalidRoleDefinitionId',
      `The role definition ID '${guid}' is not valid. It must be a GUID.`,
    );
  requireScope(ctx, scope);
  const body = requireObjectBody(req);
  const props = (body.properties ?? {}) as Json;
  const roleName = props.roleName;
  if (typeof roleName !== 'string' || roleName.trim() === '') {
    throw badRequest('InvalidRoleDefinition', 'properties.roleName is required.', 'properties.roleName');
  }
  const existing = ctx.store.get(roleDefinitionStoreId(guid));
  if (existing && (existing.body.properties as Json).type === 'BuiltInRole') {
    throw badRequest('RoleDefinitionUpdateNotPermitted', 'Built-in role definitions cannot be changed.');
  }
  const sameName = ctx.store
    .list(ROLE_DEFINITION_TYPE)
    .find(
      (r) =>
        String((r.body.properties as Json).roleName).toLowerCase() === roleName.toLowerCase() &&
        r.body.name !== guid.toLowerCase(),
    );
  if (sameName) {
    throw conflict(
      'RoleDefinitionWithSameNameExists',
      `A custom role with the same name '${roleName}' already exists in this directory.`,
    );
  }
  const permissions = Array.isArray(props.permissions) ? (props.permissions as Json[]) : [];
  const assignable =
    Array.isArray(props.assignableScopes) && props.assignableScopes.length > 0
      ? props.assignableScopes
      : [scope];
  const at = ctx.isoNow();
  const stored: Json = {
    id: roleDefinitionStoreId(guid),
    name: guid.toLowerCase(),
    type: ROLE_DEFINITION_TYPE,
    properties: {
      roleName,
      type: 'CustomRole',
      description: typeof props.description === 'string' ? props.description : '',
      assignableScopes: assignable,
      permissions: permissions.map((p) => ({
        actions: Array.isArray(p.actions) ? p.actions : [],
        notActions: Array.isArray(p.notActions) ? p.notActions : [],
        dataActions: Array.isArray(p.dataActions) ? p.dataActions : [],
        notDataActions: Array.isArray(p.notDataActions) ? p.notDataActions : [],
      })),
      createdOn: existing ? (existing.body.properties as Json).createdOn : at,
      updatedOn: at,
      createdBy: req.callerObjectId ?? null,
      updatedBy: req.callerObjectId ?? null,
    },
  };
  ctx.store.put(roleDefinitionStoreId(guid), ROLE_DEFINITION_TYPE, stored, ctx.now());
  return { status: 201, body: roleDefinitionView(stored, scope) };
}

function parseRoleDefinitionFilter(filter: string | null): { roleName?: string; type?: string } {
  if (filter === null || filter.trim() === '') return {};
  let m = /^roleName\s+eq\s+'([^']*)'$/i.exec(filter.trim());
  if (m) return { roleName: m[1]! };
  m = /^type\s+eq\s+'([^']*)'$/i.exec(filter.trim());
  if (m) return { type: m[1]! };
  throw badRequest(
    'UnsupportedQuery',
    `The filter '${filter}' is not supported: use "roleName eq '{name}'" or "type eq 'CustomRole'".`,
  );
}

const RA = '/providers/Microsoft.Authorization/roleAssignments';
const RD = '/providers/Microsoft.Authorization/roleDefinitions';

export const authorizationRoutes: readonly Route[] = [
  route('GET', `{scope*}${RA}`, (ctx, req, [scope]) => listRoleAssignments(ctx, req, scope!)),
  route('PUT', `{scope*}${RA}/{}`, (ctx, req, [scope, name]) => putRoleAssignment(ctx, req, scope!, name!)),
  route('GET', `{scope*}${RA}/{}`, (ctx, _req, [scope, name]) => {
    const r = ctx.store.get(`${scope}${RA}/${name}`);
    if (!r) {
      throw new ArmError(404, 'RoleAssignmentNotFound', `The role assignment '${name}' is not found.`);
    }
    return { status: 200, body: r.body };
  }),
  route('DELETE', `{scope*}${RA}/{}`, (ctx, _req, [scope, name]) => {
    const id = `${scope}${RA}/${name}`;
    const r = ctx.store.get(id);
    if (!r) return { status: 204 };
    ctx.store.delete(id);
    ctx.rbac.deleted(r.id, r.body);
    return { status: 200, body: r.body };
  }),
  route('GET', `{scope*}${RD}`, (ctx, req, [scope]) => {
    requireScope(ctx, scope!);
    const f = parseRoleDefinitionFilter(req.query.get('$filter'));
    const items = ctx.store
      .list(ROLE_DEFINITION_TYPE)
      .map((r) => r.body)
      .filter((b) => {
        const p = b.properties as Json;
        if (f.roleName !== undefined && String(p.roleName).toLowerCase() !== f.roleName.toLowerCase())
          return false;
        if (f.type !== undefined && String(p.type).toLowerCase() !== f.type.toLowerCase()) return false;
        return true;
      })
      .map((b) => roleDefinitionView(b, scope!));
    return { status: 200, body: listBody(items) };
  }),
  route('GET', `{scope*}${RD}/{}`, (ctx, _req, [scope, guid]) => {
    const r = ctx.store.get(roleDefinitionStoreId(guid!));
    if (!r) {
      throw new ArmError(
        404,
        'RoleDefinitionDoesNotExist',
        `The specified role definition with ID '${guid}' does not exist.`,
      );
    }
    return { status: 200, body: roleDefinitionView(r.body, scope!) };
  }),
  route('PUT', `{scope*}${RD}/{}`, (ctx, req, [scope, guid]) => putRoleDefinition(ctx, req, scope!, guid!)),
  route('DELETE', `{scope*}${RD}/{}`, (ctx, _req, [scope, guid]) => {
    const r = ctx.store.get(roleDefinitionStoreId(guid!));
    if (!r) return { status: 204 };
    if ((r.body.properties as Json).type === 'BuiltInRole') {
      throw badRequest('RoleDefinitionDeleteNotPermitted', 'Built-in role definitions cannot be deleted.');
    }
    const inUse = ctx.store
      .list(ROLE_ASSIGNMENT_TYPE)
      .some((a) => roleGuidOf(String((a.body.properties as Json).roleDefinitionId)) === guid!.toLowerCase());
    if (inUse) {
      throw conflict(
        'RoleDefinitionHasAssignments',
        'There are existing role assignments referencing this role definition; remove them first.',
      );
    }
    ctx.store.delete(r.id);
    return { status: 200, body: roleDefinitionView(r.body, scope!) };
  }),
];
