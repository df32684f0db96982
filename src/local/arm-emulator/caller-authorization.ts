/**
 * Optional (off by default) Azure RBAC for the caller: each request is mapped to the action ARM checks
 * (`{namespace}/{types}/read|write|delete` or `…/{name}/action`) on its scope, and the caller's object id
 * (token `oid`) must hold a role allowing it there, with ABAC conditions evaluated for role assignment
 * writes and deletes. Lets tests prove the app works with only the rights the infrastructure grants.
 */
import type { ArmRequest, EmulatorContext } from './context.js';
import { ArmError, authorizationFailedMessage } from './errors.js';
import { hasPermission, ROLE_ASSIGNMENT_TYPE, roleGuidOf } from './rbac.js';
import type { Json } from './store.js';

const TAGS_AT_SCOPE = /^(.*)\/providers\/Microsoft\.Resources\/tags\/default$/i;
const OPERATION_STATUS = /\/providers\/[^/]+\/locations\/[^/]+\/(operations|operationResults)\//i;

/** The RBAC action and scope ARM authorizes for a request, or undefined for operation-status polls. */
export function requestedAction(method: string, path: string): { action: string; scope: string } | undefined {
  const m = method.toUpperCase();
  const p = path.replace(/\/+$/, '');
  if (OPERATION_STATUS.test(p)) return undefined;
  const verb = m === 'GET' || m === 'HEAD' ? 'read' : m === 'DELETE' ? 'delete' : 'write';
  // Tags at scope: ARM checks Microsoft.Resources/tags/* on the tagged entity (what Tag Contributor grants).
  const tags = TAGS_AT_SCOPE.exec(p);
  if (tags) return { action: `Microsoft.Resources/tags/${verb}`, scope: tags[1] || '/' };
  const idx = p.toLowerCase().lastIndexOf('/providers/');
  if (idx === -1) {
    const parts = p.split('/').filter(Boolean);
    if (parts.length <= 2) return { action: 'Microsoft.Resources/subscriptions/read', scope: p };
    if (parts.length <= 4)
      return { action: `Microsoft.Resources/subscriptions/resourceGroups/${verb}`, scope: p };
    return {
      action: 'Microsoft.Resources/subscriptions/resourceGroups/resources/read',
      scope: `/${parts.slice(0, 4).join('/')}`,
    };
  }
  const [ns, ...segs] = p.slice(idx + '/providers/'.length).split('/');
  const types = segs.filter((_, i) => i % 2 === 0);
  if (segs.length % 2 === 1) {
    const parent = p.slice(0, p.lastIndexOf('/'));
    if (m === 'POST') {
      const name = types.pop();
      return { action: `${ns}/${types.join('/')}/${name}/action`, scope: parent };
    }
    return {
      action: `${ns}/${types.join('/')}/read`,
      scope: parent.toLowerCase().endsWith(`/providers/${ns!.toLowerCase()}`)
        ? p.slice(0, idx) || '/'
        : parent,
    };
  }
  return { action: `${ns}/${types.join('/')}/${verb}`, scope: p };
}

function assignmentAttributes(props: Json | undefined): Record<string, string | undefined> {
  if (!props) return {};
  return {
    'Microsoft.Authorization/roleAssignments:RoleDefinitionId':
      typeof props.roleDefinitionId === 'string' ? roleGuidOf(props.roleDefinitionId) : undefined,
    'Microsoft.Authorization/roleAssignments:PrincipalId':
      typeof props.principalId === 'string' ? props.principalId : undefined,
    'Microsoft.Authorization/roleAssignments:PrincipalType':
      typeof props.principalType === 'string' ? props.principalType : undefined,
  };
}

/** Throws 403 AuthorizationFailed when caller authorization is on and the caller lacks the right. */
export function authorizeCaller(ctx: EmulatorContext, req: ArmRequest): void {
  if (!ctx.callerAuthorization) return;
  const wanted = requestedAction(req.method, req.path);
  if (!wanted) return;
  const caller = req.callerObjectId ?? '(no oid claim)';
  let request: Record<string, string | undefined> = {};
  let resource: Record<string, string | undefined> = {};
  if (/^Microsoft\.Authorization\/roleAssignments\/(write|delete)$/i.test(wanted.action)) {
    const body = req.body as Json | undefined;
    request = assignmentAttributes(body?.properties as Json | undefined);
    const existing = ctx.store.get(req.path);
    if (existing?.type === ROLE_ASSIGNMENT_TYPE)
      resource = assignmentAttributes(existing.body.properties as Json);
  }
  if (!hasPermission(ctx, caller, wanted.action, wanted.scope, { request, resource })) {
    throw new ArmError(
      403,
      'AuthorizationFailed',
      authorizationFailedMessage({ objectId: caller }, wanted.action, wanted.scope),
    );
  }
}
