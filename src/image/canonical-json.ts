/**
 * Canonical JSON (object keys sorted at every depth, no insignificant whitespace, `undefined` members dropped)
 * and the SHA-256 content hash built on it. Two values that are equal as JSON data always give the same text,
 * whatever the order in which their keys were written.
 */
import { createHash } from 'node:crypto';

export class CanonicalJsonError extends Error {}

function serialize(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value))
        throw new CanonicalJsonError(`${path || '(root)'} is ${value}, which JSON cannot hold`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((v, i) => (v === undefined ? 'null' : serialize(v, `${path}[${i}]`))).join(',')}]`;
      }
      // Built as text, never by assigning keys: a "__proto__" key stays an ordinary member.
      const members: string[] = [];
      for (const key of Object.keys(value as object).sort()) {
        const v = (value as Record<string, unknown>)[key];
        if (v === undefined) continue;
        members.push(`${JSON.stringify(key)}:${serialize(v, path ? `${path}.${key}` : key)}`);
      }
      return `{${members.join(',')}}`;
    }
    default:
      throw new CanonicalJsonError(`${path || '(root)'} is a ${typeof value}, which JSON cannot hold`);
  }
}

/** JSON text of `value` with object keys sorted (code-unit order) at every depth. */
export function canonicalJson(value: unknown): string {
  return serialize(value, '');
}

/** Lower-case hex SHA-256 of the canonical JSON of `value`. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex');
}

/** Lower-case hex SHA-256 of a UTF-8 string (scripts, files). */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
