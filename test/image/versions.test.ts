import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareImageVersions,
  newestImageVersion,
  sortImageVersionsNewestFirst,
} from '../../src/image/versions.js';

const segment = fc.nat({ max: 5_000_000_000 }).map(String);
const version = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('.'));

describe('compareImageVersions', () => {
  it('orders 1.0.10 after 1.0.9 although text sorting says otherwise', () => {
    expect(['1.0.10', '1.0.9'].sort()[1]).toBe('1.0.9');
    expect(compareImageVersions('1.0.10', '1.0.9')).toBeGreaterThan(0);
    expect(newestImageVersion(['1.0.9', '1.0.10', '1.0.2'])).toBe('1.0.10');
  });

  it('orders real Ubuntu marketplace versions by their build date segment', () => {
    expect(newestImageVersion(['24.04.202409120', '24.04.202411030', '24.04.202410020'])).toBe(
      '24.04.202411030',
    );
  });

  it('is antisymmetric and reflexive', () => {
    fc.assert(
      fc.property(version, version, (a, b) => {
        expect(Math.sign(compareImageVersions(a, b))).toBe(-Math.sign(compareImageVersions(b, a)));
        expect(compareImageVersions(a, a)).toBe(0);
      }),
    );
  });

  it('agrees with numeric comparison of each segment (equal-length versions)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(100_000), fc.nat(100_000)), { minLength: 1, maxLength: 4 }),
        (pairs) => {
          const a = pairs.map((p) => p[0]).join('.');
          const b = pairs.map((p) => p[1]).join('.');
          const firstDiff = pairs.find((p) => p[0] !== p[1]);
          const expected = firstDiff ? Math.sign(firstDiff[0] - firstDiff[1]) : 0;
          expect(Math.sign(compareImageVersions(a, b))).toBe(expected);
        },
      ),
    );
  });

  it('treats missing trailing segments and leading zeros as zero', () => {
    expect(compareImageVersions('1.2', '1.2.0')).toBe(0);
    expect(compareImageVersions('1.02.3', '1.2.3')).toBe(0);
  });

  it('finds the same newest version whatever the listing order', () => {
    fc.assert(
      fc.property(fc.array(version, { minLength: 1, maxLength: 20 }), (versions) => {
        const newest = newestImageVersion(versions)!;
        for (const v of versions) expect(compareImageVersions(newest, v)).toBeGreaterThanOrEqual(0);
        const sorted = sortImageVersionsNewestFirst([...versions].reverse());
        expect(compareImageVersions(sorted[0]!, newest)).toBe(0);
        for (let i = 1; i < sorted.length; i++) {
          expect(compareImageVersions(sorted[i - 1]!, sorted[i]!)).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });

  it('returns undefined for no versions', () => {
    expect(newestImageVersion([])).toBeUndefined();
  });
});
