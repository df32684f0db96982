/**
 * No test asserts on a measured real-time duration: on a busy CI machine such assertions fail on timing
 * alone. Real-time figures belong in bench/ (`npm run bench`); assertions on the virtual clock
 * (`clock.now()`, history timestamps, `Date.parse` of recorded times) are fine.
 *
 * A static scan of every test/**.ts file: an `expect(...)` whose argument reads the real clock
 * (`Date.now()`, `performance.now()`, `process.hrtime`, `new Date().getTime()`), a variable that holds such a
 * reading (`const started = Date.now()`), or a name assigned from a duration computed with one
 * (`ms: Date.now() - started`, `timings.push(performance.now() - t)`, then `expect(r.ms)`), is reported.
 * Files that install fake timers (`vi.useFakeTimers`) are skipped: their `Date.now()` is virtual.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { wallClockAssertions } from './wall-clock-scan.js';

const TEST_DIR = fileURLToPath(new URL('..', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
/** Sources the scan must flag, and sources it must not: `[name, source]` pairs. */
const CASES = JSON.parse(
  readFileSync(fileURLToPath(new URL('../fixtures/wall-clock-scan-cases.json', import.meta.url)), 'utf8'),
) as { flagged: [string, string][]; notFlagged: [string, string][] };

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : testFiles(p);
    return /\.(?:m|c)?tsx?$/.test(e.name) && p !== SELF ? [p] : [];
  });
}

describe('no wall-clock assertions in tests', () => {
  it('no test file asserts on a measured real-time duration (measure it in bench/ instead)', () => {
    const found = testFiles(TEST_DIR).flatMap((f) =>
      wallClockAssertions(readFileSync(f, 'utf8')).map(
        (a) => `${relative(TEST_DIR, f)}:${a.line}: expect(${a.text.trim().slice(0, 80)})`,
      ),
    );
    expect(found, 'move these timings into a bench/*.bench.ts figure').toEqual([]);
  });

  // The scan's own cases live in a fixture, so that this file holds no timing assertion, not even as a string.
  describe('the scan', () => {
    it.each(CASES.flagged)('flags %s', (_name, source) => {
      expect(wallClockAssertions(source)).toHaveLength(1);
    });

    it.each(CASES.notFlagged)('does not flag %s', (_name, source) => {
      expect(wallClockAssertions(source)).toEqual([]);
    });
  });
});
