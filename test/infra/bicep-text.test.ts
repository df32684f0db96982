import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { literalValue, objectEntries, params, stripComments, varObjectEntries } from './bicep-text.js';

// Value expressions of the shapes main.bicep uses, including brackets and comment markers inside strings.
const expression = fc.oneof(
  fc.constantFrom(
    'location',
    'storage.outputs.blobEndpoint',
    'string(pollMinIntervalSeconds)',
    "'0 0 */6 * * *'",
    "'a } b { c // not a comment'",
    "'it\\'s'",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Bicep interpolation, not a JavaScript one
    "'ClientId=${identityClientId};Authorization=AAD'",
    'environment().resourceManager',
    "{\n    nested: 'x'\n    deeper: [\n      1\n    ]\n  }",
    "[\n    'one'\n    'two'\n  ]",
  ),
  fc.integer({ min: 0, max: 10_000 }).map(String),
);
const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,30}$/);
const noise = fc.constantFrom('', '  // a comment', '  /* block } comment */', '');

describe('bicep-text', () => {
  it('reads back every top-level entry of an object literal, in order (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(key, expression, noise, noise), { selector: ([k]) => k, maxLength: 25 }),
        (entries) => {
          const body = entries.map(([k, v, before, after]) => `${before}\n  ${k}: ${v}${after}`).join('\n');
          const source = `var x = 1\nvar settings = {${body}\n}\nvar y = { other: 1 }\n`;
          const parsed = varObjectEntries(source, 'settings');
          expect(parsed).toEqual(entries.map(([k, v]) => ({ key: k, value: v })));
        },
      ),
    );
  });

  it('reads single-line objects with commas and quoted keys', () => {
    expect(objectEntries("{ a: 1, 'b-c': 'x,y', d: f(1, 2) }")).toEqual([
      { key: 'a', value: '1' },
      { key: 'b-c', value: "'x,y'" },
      { key: 'd', value: 'f(1, 2)' },
    ]);
  });

  it('rejects text that is not an object entry', () => {
    expect(() => objectEntries('{\n  justAnIdentifier\n}')).toThrow(/not an object entry/);
  });

  it('keeps strings that contain comment markers', () => {
    expect(stripComments("a // c\nb: 'http://x' /* d */ e")).toBe("a \nb: 'http://x'  e");
  });

  it('reads parameter defaults, including multi-line ones', () => {
    const p = params(
      "@description('x')\nparam a string = 'v'\nparam b int\nparam c object[] = [\n  { n: 1 }\n]\n",
    );
    expect(p.get('a')).toEqual({ name: 'a', type: 'string', defaultValue: "'v'" });
    expect(p.get('b')).toEqual({ name: 'b', type: 'int', defaultValue: undefined });
    expect(p.get('c')?.defaultValue).toBe('[\n  { n: 1 }\n]');
  });

  it('evaluates only literal strings and numbers', () => {
    expect(literalValue("'0 0 3 1 * *'")).toBe('0 0 3 1 * *');
    expect(literalValue('30')).toBe('30');
    expect(literalValue("'it\\'s'")).toBe("it's");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Bicep interpolation, not a JavaScript one
    expect(literalValue("'rg-${environmentName}'")).toBeUndefined();
    expect(literalValue('location')).toBeUndefined();
  });
});
