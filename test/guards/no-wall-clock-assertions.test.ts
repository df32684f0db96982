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

  describe('the scan', () => {
    it.each([
      [
        'a duration measured inline',
        'const t = performance.now();\nawait run();\nexpect(performance.now() - t).toBeLessThan(1000);',
      ],
      [
        'a Date.now() difference',
        'const started = Date.now();\nexpect(Date.now() - started).toBeLessThan(30_000);',
      ],
      [
        'a lower bound counts too',
        'const t0 = Date.now();\nawait go();\nexpect(Date.now() - t0).toBeGreaterThanOrEqual(290);',
      ],
      [
        'a duration carried in a result field',
        'const started = Date.now();\nchild.on("exit", (code) => resolve({ code, ms: Date.now() - started }));\n' +
          'const r = await simulate();\nexpect(r.ms).toBeLessThan(90_000);',
      ],
      [
        'durations collected in an array',
        'const timings = [];\nconst s = performance.now();\ntimings.push(performance.now() - s);\n' +
          'expect(Math.min(...timings)).toBeLessThan(1000);',
      ],
      [
        'a duration derived in two steps',
        'const a = performance.now();\nconst b = performance.now();\nconst took = b - a;\nconst secs = took / 1000;\n' +
          'expect(secs).toBeLessThan(1);',
      ],
      ['hrtime', 'const a = process.hrtime.bigint();\nexpect(process.hrtime.bigint() - a < 10n).toBe(true);'],
      [
        'an assertion spread over lines',
        'const t = Date.now();\nexpect(\n  Date.now() -\n    t,\n).toBeLessThan(5);',
      ],
    ])('flags %s', (_name, source) => {
      expect(wallClockAssertions(source)).toHaveLength(1);
    });

    it.each([
      [
        'virtual clock differences',
        'const start = clock.now();\nexpect(clock.now() - start).toBe(40 * MIN);',
      ],
      [
        'recorded timestamps',
        'expect(Date.parse(e.FireAt) - Date.parse(e.Timestamp)).toEqual(1000);\nexpect(status.createdTime).toBeDefined();',
      ],
      ['a computed (not measured) figure', 'expect(simulatedSeconds / DEFAULT_TIME_SCALE).toBeLessThan(15);'],
      [
        'a real-time wait loop whose outcome is asserted, not its duration',
        'const deadline = Date.now() + 3000;\nwhile (list().length === 0 && Date.now() < deadline) await tick();\n' +
          'const started = list();\nexpect(started).toHaveLength(1);',
      ],
      [
        'a unique name from the clock',
        'const table = "builds" + (Date.now() % 100000);\nconst c = svc.container(table);\nexpect(c.list()).toContain("x");',
      ],
      ['a comment mentioning a timing', '// expect(Date.now() - t).toBeLessThan(1)\nexpect(1).toBe(1);'],
      ['fake timers', 'vi.useFakeTimers();\nconst t = Date.now();\nexpect(Date.now() - t).toBe(1000);'],
    ])('does not flag %s', (_name, source) => {
      expect(wallClockAssertions(source)).toEqual([]);
    });
  });
});
