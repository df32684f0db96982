/**
 * Functions HTTP route templates (ASP.NET style): literal segments (case-insensitive), `{name}`,
 * `{name?}`, `{*name}` (catch-all), `{name:constraint}` (int, long, bool, guid, alpha, decimal, double).
 */

interface Segment {
  readonly literal?: string;
  readonly param?: string;
  readonly optional: boolean;
  readonly catchAll: boolean;
  readonly constraint?: string | undefined;
}

export interface CompiledRoute {
  readonly template: string;
  /** Higher = more specific (literal segments outrank parameters). */
  readonly precedence: number;
  match(path: string): Record<string, string> | undefined;
}

const CONSTRAINTS: Record<string, RegExp> = {
  int: /^-?\d+$/,
  long: /^-?\d+$/,
  bool: /^(true|false)$/i,
  guid: /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i,
  alpha: /^[a-z]+$/i,
  decimal: /^-?\d+(\.\d+)?$/,
  double: /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i,
};

/**
 * Percent-decodes one path segment as Kestrel does: a run of escapes that is not valid UTF-8 (`%C0%AF`,
 * `%ZZ`, a lone `%`) is kept as written instead of failing the request (ASP.NET Core's UrlDecoder leaves
 * invalid sequences undecoded; dotnet/aspnetcore src/Shared/UrlDecoder/UrlDecoder.cs).
 */
export function decodeSegment(part: string): string {
  return part.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

function parseSegment(raw: string, template: string): Segment {
  const m = /^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z]+)(?:\([^)]*\))?)?(\?)?\}$/.exec(raw);
  if (!m) {
    if (raw.includes('{') || raw.includes('}')) {
      throw new Error(
        `route "${template}": segment "${raw}" mixes text and parameters; use whole-segment parameters.`,
      );
    }
    return { literal: raw.toLowerCase(), optional: false, catchAll: false };
  }
  return { param: m[2]!, catchAll: m[1] === '*', constraint: m[3]?.toLowerCase(), optional: m[4] === '?' };
}

export function compileRoute(template: string): CompiledRoute {
  const segments = template
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => parseSegment(s, template));
  const precedence = segments.reduce(
    (p, s) => p * 4 + (s.literal !== undefined ? 3 : s.catchAll ? 0 : s.optional ? 1 : 2),
    1,
  );
  return {
    template,
    precedence,
    match(path) {
      const parts = path
        .replace(/^\/+|\/+$/g, '')
        .split('/')
        .filter((s) => s.length > 0);
      const params: Record<string, string> = {};
      for (let i = 0; i < segments.length; i++) {
        const seg = segments[i]!;
        const part = parts[i];
        if (seg.catchAll) {
          params[seg.param!] = parts.slice(i).map(decodeSegment).join('/');
          return params;
        }
        if (part === undefined) {
          if (seg.optional) continue;
          return undefined;
        }
        if (seg.literal !== undefined) {
          if (decodeSegment(part).toLowerCase() !== seg.literal) return undefined;
          continue;
        }
        const value = decodeSegment(part);
        const rule = seg.constraint ? CONSTRAINTS[seg.constraint] : undefined;
        if (rule && !rule.test(value)) return undefined;
        params[seg.param!] = value;
      }
      return parts.length <= segments.length ? params : undefined;
    },
  };
}
