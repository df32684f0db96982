/** A small route table: method + case-insensitive path pattern -> handler with the captured names. */
import type { ArmRequest, ArmResponse, EmulatorContext } from './context.js';

export type Handler = (
  ctx: EmulatorContext,
  req: ArmRequest,
  params: string[],
) => ArmResponse | Promise<ArmResponse>;

export interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly handler: Handler;
}

const SEGMENT = '([^/]+)';

/**
 * Builds a route from a template such as `/subscriptions/{}/resourceGroups/{}`; `{}` captures one
 * segment, `{scope*}` captures any prefix (role assignments at any scope).
 */
export function route(method: string, template: string, handler: Handler): Route {
  const source = template
    .split(/(\{\}|\{scope\*\})/)
    .map((part) => {
      if (part === '{}') return SEGMENT;
      if (part === '{scope*}') return '(.*)';
      return part.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return { method, pattern: new RegExp(`^${source}/?$`, 'i'), handler };
}

export function matchRoute(
  routes: readonly Route[],
  method: string,
  path: string,
): { route: Route; params: string[] } | { methodNotAllowed: true } | undefined {
  let pathMatched = false;
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (r.method === method.toUpperCase()) return { route: r, params: m.slice(1) };
  }
  return pathMatched ? { methodNotAllowed: true } : undefined;
}
