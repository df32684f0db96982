/**
 * Microsoft.Resources tags at scope (`{scope}/providers/Microsoft.Resources/tags/default`): GET, PUT
 * (replace the whole set), PATCH (`operation` Merge | Replace | Delete) and DELETE (remove all). The tags
 * live on the scope resource itself, so a GET of the resource shows them. Scopes are resource groups and
 * the resources the emulator stores; a missing scope answers 404 as ARM does.
 */
import type { ArmRequest, EmulatorContext } from '../context.js';
import { ArmError, badRequest, resourceGroupNotFound, resourceNotFound } from '../errors.js';
import { type Route, route } from '../router.js';
import type { Json, StoredResource } from '../store.js';
import { requireObjectBody, requireSubscription, resourceGroupId } from './common.js';

export const TAGS_TYPE = 'Microsoft.Resources/tags';
const MAX_TAGS = 50;
const PATCH_OPERATIONS = ['Merge', 'Replace', 'Delete'] as const;
type PatchOperation = (typeof PATCH_OPERATIONS)[number];

type Tags = Record<string, string>;

/** The stored resource a tags scope addresses, or the ARM 404 for it. */
function requireScope(ctx: EmulatorContext, rawScope: string): StoredResource {
  const scope = `/${rawScope.replace(/^\/+|\/+$/g, '')}`;
  const parts = scope.split('/').filter(Boolean);
  if (parts[0]?.toLowerCase() !== 'subscriptions' || parts.length < 2) {
    throw badRequest(
      'InvalidScope',
      `The scope '${scope}' is not a subscription, resource group or resource id.`,
    );
  }
  requireSubscription(ctx, parts[1]!);
  if (parts.length === 2) {
    throw badRequest(
      'UnsupportedScope',
      `The local ARM emulator keeps tags on resource groups and resources, not on the subscription '${scope}'.`,
    );
  }
  if (parts[2]?.toLowerCase() !== 'resourcegroups' || parts.length < 4) {
    throw badRequest('InvalidScope', `The scope '${scope}' is not a resource group or resource id.`);
  }
  const rg = parts[3]!;
  const group = ctx.store.get(resourceGroupId(parts[1]!, rg));
  if (!group) throw resourceGroupNotFound(rg);
  if (parts.length === 4) return group;
  const found = ctx.store.get(scope);
  if (found) return found;
  const idx = scope.toLowerCase().lastIndexOf('/providers/');
  const tail = idx === -1 ? [] : scope.slice(idx + '/providers/'.length).split('/');
  const type = [tail[0], ...tail.slice(1).filter((_, i) => i % 2 === 0)].filter(Boolean).join('/');
  throw resourceNotFound(type || 'Microsoft.Resources/resources', parts.at(-1)!, rg);
}

function tagsOfResource(r: StoredResource): Tags {
  const t = r.body.tags;
  return t && typeof t === 'object' && !Array.isArray(t) ? { ...(t as Tags) } : {};
}

/** The `properties.tags` of a request body: an object of string values (may be absent -> {}). */
function requestTags(body: Json): Tags {
  const props = body.properties;
  if (props === undefined || props === null) return {};
  if (typeof props !== 'object' || Array.isArray(props)) {
    throw badRequest(
      'InvalidRequestContent',
      "'properties' must be an object with a 'tags' object.",
      'properties',
    );
  }
  const tags = (props as Json).tags;
  if (tags === undefined || tags === null) return {};
  if (
    typeof tags !== 'object' ||
    Array.isArray(tags) ||
    Object.values(tags).some((v) => typeof v !== 'string')
  ) {
    throw badRequest(
      'InvalidTag',
      "'properties.tags' must be an object of string values.",
      'properties.tags',
    );
  }
  return { ...(tags as Tags) };
}

/** Tag names compare case-insensitively in ARM; values case-sensitively. */
function findName(tags: Tags, name: string): string | undefined {
  return Object.keys(tags).find((k) => k.toLowerCase() === name.toLowerCase());
}

/** Applies a Tags - Update At Scope operation to a tag set. */
export function applyTagsPatch(current: Tags, operation: PatchOperation, given: Tags): Tags {
  if (operation === 'Replace') return { ...given };
  const out = { ...current };
  for (const [name, value] of Object.entries(given)) {
    const existing = findName(out, name);
    if (operation === 'Merge') {
      if (existing !== undefined) delete out[existing];
      out[existing ?? name] = value;
    } else if (existing !== undefined && (value === '' || out[existing] === value)) {
      delete out[existing];
    }
  }
  return out;
}

function storeTags(ctx: EmulatorContext, r: StoredResource, tags: Tags): void {
  if (Object.keys(tags).length > MAX_TAGS) {
    throw badRequest(
      'InvalidTagCount',
      `A resource can have at most ${MAX_TAGS} tags; the operation would leave ${Object.keys(tags).length}.`,
      'properties.tags',
    );
  }
  const { tags: _old, ...rest } = r.body;
  ctx.store.put(r.id, r.type, Object.keys(tags).length > 0 ? { ...rest, tags } : rest, ctx.now());
}

function tagsResource(scope: string, tags: Tags): Json {
  return {
    id: `/${scope.replace(/^\/+|\/+$/g, '')}/providers/Microsoft.Resources/tags/default`,
    name: 'default',
    type: TAGS_TYPE,
    properties: { tags },
  };
}

function patchOperation(body: Json): PatchOperation {
  const op = PATCH_OPERATIONS.find((o) => o.toLowerCase() === String(body.operation ?? '').toLowerCase());
  if (!op) {
    throw badRequest(
      'InvalidRequestContent',
      `'operation' must be one of ${PATCH_OPERATIONS.join(', ')} (got '${String(body.operation)}').`,
      'operation',
    );
  }
  return op;
}

const TAGS_PATH = '{scope*}/providers/Microsoft.Resources/tags/default';

function handle(ctx: EmulatorContext, req: ArmRequest, scope: string) {
  const target = requireScope(ctx, scope);
  const method = req.method.toUpperCase();
  if (method === 'GET') return { status: 200, body: tagsResource(scope, tagsOfResource(target)) };
  if (method === 'DELETE') {
    storeTags(ctx, target, {});
    return { status: 200 };
  }
  const body = requireObjectBody(req);
  const next =
    method === 'PUT'
      ? requestTags(body)
      : applyTagsPatch(tagsOfResource(target), patchOperation(body), requestTags(body));
  storeTags(ctx, target, next);
  return { status: 200, body: tagsResource(scope, next) };
}

export const tagRoutes: readonly Route[] = (['GET', 'PUT', 'PATCH', 'DELETE'] as const).map((m) =>
  route(m, TAGS_PATH, (ctx, req, [scope]) => {
    if (scope === undefined)
      throw new ArmError(400, 'InvalidScope', 'A scope is required before /providers.');
    return handle(ctx, req, scope);
  }),
);
