import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CanonicalJsonError, canonicalJson, contentHash } from '../../src/image/canonical-json.js';

/** The same JSON value with the keys of every object written in a shuffled order. */
function reorder(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v, i) => reorder(v, seed + i));
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    const shuffled = entries
      .map((e, i) => [e, (i * 7919 + seed * 104729) % (entries.length + 13)] as const)
      .sort((a, b) => a[1] - b[1])
      .map(([e]) => e);
    return Object.fromEntries(shuffled.reverse().map(([k, v], i) => [k, reorder(v, seed + i + 1)]));
  }
  return value;
}

const json = fc.jsonValue({ maxDepth: 4 });

describe('canonical JSON and content hash', () => {
  it('property: key order does not change the text or the hash', () => {
    fc.assert(
      fc.property(json, fc.nat(1000), (v, seed) => {
        const r = reorder(v, seed);
        expect(canonicalJson(r)).toBe(canonicalJson(v));
        expect(contentHash(r)).toBe(contentHash(v));
      }),
      { numRuns: 300 },
    );
  });

  it('property: the text parses back to an equal value and is a fixed point', () => {
    fc.assert(
      fc.property(json, (v) => {
        const text = canonicalJson(v);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(v)));
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  it('sorts keys by code unit at every depth and keeps a "__proto__" key as a member', () => {
    expect(canonicalJson({ b: { z: 1, '10': 2, a: [{ y: 1, x: 2 }] }, A: 0 })).toBe(
      '{"A":0,"b":{"10":2,"a":[{"x":2,"y":1}],"z":1}}',
    );
    const tricky = JSON.parse('{"__proto__":1,"a":2}') as unknown;
    expect(canonicalJson(tricky)).toBe('{"__proto__":1,"a":2}');
  });

  it('property: changing any leaf value changes the hash', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1 }), fc.string(), { minKeys: 1 }),
        fc.string(),
        (obj, extra) => {
          const key = Object.keys(obj)[0] as string;
          const changed = { ...obj, [key]: `${obj[key]}${extra}x` };
          expect(contentHash(changed)).not.toBe(contentHash(obj));
        },
      ),
    );
  });

  it('drops undefined members, keeps array positions, and refuses values JSON cannot hold', () => {
    expect(canonicalJson({ b: 1, a: undefined, c: [undefined, 2] })).toBe('{"b":1,"c":[null,2]}');
    expect(() => canonicalJson({ a: { b: Number.NaN } })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ a: { b: Number.NaN } })).toThrow(/a\.b/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/f is a function/);
    expect(contentHash({})).toMatch(/^[0-9a-f]{64}$/);
  });
});
