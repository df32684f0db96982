/**
 * Image-definition errors (src/image/definition-errors.ts): every problem at once, each naming the field and
 * the fix, never zod's default wording; through parseConfig and the CLI (`config`, `template`).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/dispatch.js';
import { ConfigError, parseConfig } from '../../src/config.js';
import { imageDefinitionsSchema, parseImageDefinition } from '../../src/image/definition.js';
import { definitionProblems } from '../../src/image/definition-errors.js';

const ZOD_DEFAULT =
  /Invalid input|expected \w+, received|Too small|Too big|Unrecognized key|Invalid option|Invalid key in record|Invalid string/;
const sample = (
  JSON.parse(readFileSync(new URL('../../local.settings.sample.json', import.meta.url), 'utf8')) as {
    Values: Record<string, string>;
  }
).Values;

function problems(defs: unknown) {
  const r = imageDefinitionsSchema.safeParse(defs);
  if (r.success) return [];
  return definitionProblems(r.error.issues, defs);
}

describe('image definition errors', () => {
  it('reports every field problem of a definition at once, each with the field and the fix', () => {
    const bad = [
      {
        name: 'Bad_Name',
        vmSize: 5,
        osDiskSizeGB: 10,
        buildTimoutInMinutes: 30,
        source: { offer: 'ubuntu-24_04-lts', sku: 'server', version: 'v1', skuu: 'x' },
        distribute: {
          managedImage: 'yes',
          gallery: { targetRegions: [{ name: 'East US', replicaCount: 0 }] },
        },
        tags: { 'a/b': 'x' },
        tools: { kubectl: { version: 3 } },
      },
      {},
      'x',
    ];
    const ps = problems(bad);
    const byField = Object.fromEntries(ps.map((p) => [p.field, p.message]));
    expect(Object.keys(byField).sort()).toEqual(
      [
        '[0].name',
        '[0].vmSize',
        '[0].osDiskSizeGB',
        '[0].buildTimoutInMinutes',
        '[0].source.version',
        '[0].source.skuu',
        '[0].distribute.managedImage',
        '[0].distribute.gallery.imageDefinitionId',
        '[0].distribute.gallery.targetRegions[0].name',
        '[0].distribute.gallery.targetRegions[0].replicaCount',
        '[0].tags.a/b',
        '[0].tools.kubectl.version',
        '[1].name',
        '[2]',
      ].sort(),
    );
    for (const p of ps) expect(p.message).not.toMatch(ZOD_DEFAULT);
    expect(byField['[0].vmSize']).toBe('must be a string, not 5; use a VM size such as "Standard_D2ds_v5"');
    expect(byField['[0].osDiskSizeGB']).toMatch(
      /^must be at least 30 \(got 10\); use a whole number of GB from 30 to 4096/,
    );
    expect(byField['[0].buildTimoutInMinutes']).toBe(
      'is not a known field; did you mean "buildTimeoutInMinutes"? Otherwise remove it',
    );
    expect(byField['[0].source.skuu']).toMatch(/did you mean "sku"/);
    expect(byField['[0].distribute.managedImage']).toBe('must be true or false, not "yes"');
    expect(byField['[0].distribute.gallery.imageDefinitionId']).toMatch(
      /^is required and missing; use \/subscriptions\//,
    );
    expect(byField['[0].distribute.gallery.targetRegions[0].replicaCount']).toMatch(/from 1 to 100/);
    expect(byField['[0].tags.a/b']).toMatch(/cannot contain/);
    expect(byField['[1].name']).toMatch(/^is required and missing; use .*"aks-jumpbox"/);
    expect(byField['[2]']).toMatch(/^must be an object, not "x"/);
  });

  it('a wrong type in any field names that field and never uses zod wording (property)', () => {
    const fields = [
      'name',
      'vmSize',
      'osDiskSizeGB',
      'buildTimeoutInMinutes',
      'proxyVmSize',
      'tags',
      'distribute',
      'tools',
    ];
    const wrong = fc.oneof(
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.integer(), { maxLength: 2 }),
      fc.string(),
    );
    fc.assert(
      fc.property(fc.constantFrom(...fields), wrong, (field, value) => {
        const def: Record<string, unknown> = { name: 'jb1', [field]: value };
        const ps = problems([def]);
        fc.pre(ps.length > 0); // some strings are valid values (e.g. a valid name)
        for (const p of ps) {
          expect(p.field.startsWith(`[0].${field}`) || p.field === '[0]').toBe(true);
          expect(p.message).not.toMatch(ZOD_DEFAULT);
          expect(p.message.length).toBeGreaterThan(10);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('parseConfig lists every definition problem under IMAGE_DEFINITIONS; parseImageDefinition joins them', () => {
    try {
      parseConfig({
        ...sample,
        IMAGE_DEFINITIONS: JSON.stringify([{ name: 'jb1', vmSize: 'D2', osDiskSizeGB: 1 }]),
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const defs = (e as ConfigError).problems.filter((p) => p.setting === 'IMAGE_DEFINITIONS');
      expect(defs.map((p) => p.message.split(':')[0])).toEqual(['[0].vmSize', '[0].osDiskSizeGB']);
    }
    expect(() => parseImageDefinition({ name: 'jb1', vmSize: 1, osDiskSizeGB: 'big' })).toThrow(
      /\.vmSize: must be a string, not 1; .*; \.osDiskSizeGB: must be a number, not "big"/,
    );
  });
});

describe('image definition errors through the CLI', () => {
  let out: string[];
  let err: string[];
  const originals = { out: process.stdout.write, err: process.stderr.write, env: { ...process.env } };
  beforeEach(() => {
    out = [];
    err = [];
    process.stdout.write = ((s: string) => out.push(String(s)) > 0) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => err.push(String(s)) > 0) as typeof process.stderr.write;
  });
  afterEach(() => {
    process.stdout.write = originals.out;
    process.stderr.write = originals.err;
    process.env = { ...originals.env };
  });

  it('`template` prints all problems of IMAGE_DEFINITIONS (not the first one) and exits 2', async () => {
    process.env.IMAGE_DEFINITIONS = JSON.stringify([
      { name: 'jb1', vmSize: 7, osDiskSizeGB: 5, color: 'red' },
    ]);
    expect(await main(['template'])).toBe(2);
    const text = err.join('');
    expect(text).toContain('IMAGE_DEFINITIONS has 3 problem(s)');
    expect(text).toContain('[0].vmSize: must be a string, not 7');
    expect(text).toContain('[0].osDiskSizeGB: must be at least 30 (got 5)');
    expect(text).toContain('[0].color: is not a known field; remove it');
    expect(out.join('')).toBe('');
  });
});
