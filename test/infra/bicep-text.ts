/**
 * Just enough Bicep reading for consistency tests that must run without the Bicep CLI: finds balanced
 * blocks and the top-level entries of an object literal, skipping strings and comments.
 */

export interface BicepEntry {
  readonly key: string;
  /** The value expression as written (trimmed). */
  readonly value: string;
}

/** Index just past the string, comment or single character that starts at `i`. */
function skipToken(source: string, i: number): number {
  if (source.startsWith("'''", i)) {
    const end = source.indexOf("'''", i + 3);
    return end < 0 ? source.length : end + 3;
  }
  if (source[i] === "'") {
    let j = i + 1;
    while (j < source.length && source[j] !== "'") j += source[j] === '\\' ? 2 : 1;
    return j + 1;
  }
  if (source.startsWith('//', i)) {
    const end = source.indexOf('\n', i);
    return end < 0 ? source.length : end;
  }
  if (source.startsWith('/*', i)) {
    const end = source.indexOf('*/', i + 2);
    return end < 0 ? source.length : end + 2;
  }
  return i + 1;
}

/** The text of the balanced `{...}`, `[...]` or `(...)` block that opens at `open` (brackets included). */
export function balancedBlock(source: string, open: number): string {
  const closer: Record<string, string> = { '{': '}', '[': ']', '(': ')' };
  const stack: string[] = [];
  let i = open;
  while (i < source.length) {
    const c = source[i]!;
    if (c in closer) stack.push(closer[c]!);
    else if (stack.length > 0 && c === stack[stack.length - 1]) {
      stack.pop();
      if (stack.length === 0) return source.slice(open, i + 1);
    }
    i = skipToken(source, i);
  }
  throw new Error(`unbalanced block at offset ${open}`);
}

/** The text with every comment removed (strings are kept as they are). */
export function stripComments(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const next = skipToken(source, i);
    if (!source.startsWith('//', i) && !source.startsWith('/*', i)) out += source.slice(i, next);
    i = next;
  }
  return out;
}

/** Top-level `key: value` entries of an object literal given with its braces. */
export function objectEntries(objectText: string): BicepEntry[] {
  const inner = stripComments(objectText.slice(1, -1));
  const entries: BicepEntry[] = [];
  const flush = (raw: string) => {
    const text = raw.trim();
    if (text === '') return;
    const m = /^([A-Za-z_]\w*|'(?:[^'\\]|\\.)*')\s*:\s*([\s\S]+)$/.exec(text);
    if (!m) throw new Error(`not an object entry: ${text}`);
    const key = m[1]!.startsWith("'") ? m[1]!.slice(1, -1) : m[1]!;
    entries.push({ key, value: m[2]!.trim() });
  };
  let depth = 0;
  let start = 0;
  let i = 0;
  while (i < inner.length) {
    const c = inner[i]!;
    if ('{[('.includes(c)) depth++;
    else if ('}])'.includes(c)) depth--;
    else if (depth === 0 && (c === '\n' || c === ',')) {
      flush(inner.slice(start, i));
      start = i + 1;
    }
    i = skipToken(inner, i);
  }
  flush(inner.slice(start));
  return entries;
}

/** Entries of `var <name> = { ... }` in a Bicep file. */
export function varObjectEntries(source: string, name: string): BicepEntry[] {
  const m = new RegExp(`^var\\s+${name}\\s*=\\s*\\{`, 'm').exec(source);
  if (!m) throw new Error(`no object variable "${name}"`);
  return objectEntries(balancedBlock(source, m.index + m[0].length - 1));
}

export interface BicepParam {
  readonly name: string;
  readonly type: string;
  /** The default value expression as written, if any. */
  readonly defaultValue: string | undefined;
}

/** The `param` declarations of a Bicep file (defaults that span lines are returned whole). */
export function params(source: string): Map<string, BicepParam> {
  const result = new Map<string, BicepParam>();
  const re = /^param\s+(\w+)\s+([\w.[\]]+)(\s*=\s*)?/gm;
  for (let m = re.exec(source); m !== null; m = re.exec(source)) {
    let defaultValue: string | undefined;
    if (m[3] !== undefined) {
      const at = m.index + m[0].length;
      const first = source[at]!;
      defaultValue = '{[('.includes(first)
        ? balancedBlock(source, at)
        : source.slice(at, source.indexOf('\n', at)).trim();
    }
    result.set(m[1]!, { name: m[1]!, type: m[2]!, defaultValue });
  }
  return result;
}

/** The value of a literal Bicep string or number, or undefined for any other expression. */
export function literalValue(expression: string): string | undefined {
  if (/^-?\d+$/.test(expression)) return expression;
  const m = /^'((?:[^'\\]|\\.)*)'$/.exec(expression);
  if (!m || m[1]!.includes('${')) return undefined;
  return m[1]!.replace(/\\(.)/g, '$1');
}
