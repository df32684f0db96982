/**
 * The static scan behind no-wall-clock-assertions.test.ts: finds `expect(...)` calls whose argument is a
 * measured real-time duration.
 */
const CLOCK_READ = String.raw`(?:\bDate\.now\(\)|\bperformance\.now\(\)|\bprocess\.hrtime\b|\bnew Date\(\)\.getTime\(\))`;
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The text of each `expect(...)` argument list, with the line it starts on. */
function expectArguments(source: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const re = /\bexpect(?:\.soft)?\(/g;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    let depth = 1;
    let i = m.index + m[0].length;
    while (i < source.length && depth > 0) {
      const c = source[i];
      if (c === '(') depth++;
      else if (c === ')') depth--;
      i++;
    }
    out.push({
      line: source.slice(0, m.index).split('\n').length,
      text: source.slice(m.index + m[0].length, i - 1),
    });
  }
  return out;
}

/** Lines of `source` holding an assertion on a measured real-time duration (empty when there are none). */
export function wallClockAssertions(source: string): { line: number; text: string }[] {
  if (/\bvi\.useFakeTimers\(/.test(source)) return [];
  const code = source
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/(?<![:'"\w\\])\/\/.*$/gm, '');
  // Variables holding a real clock reading: const started = Date.now();
  const stamps = new Set<string>();
  for (const m of code.matchAll(
    new RegExp(String.raw`\b(?:const|let|var)\s+(\w+)\s*(?::[^=]+)?=\s*${CLOCK_READ}`, 'g'),
  )) {
    stamps.add(m[1]!);
  }
  // A duration: a clock reading or a stamp on either side of a subtraction (Date.now() - started).
  const operand = [CLOCK_READ, ...[...stamps].map((n) => String.raw`(?<![\w.])${escapeRegExp(n)}\b`)].join(
    '|',
  );
  const duration = new RegExp(String.raw`(?:${operand})\s*-(?!-)|(?<!-)-\s*(?:${operand})`);
  // Names assigned from a duration or from another such name, to a fixpoint: ms: Date.now() - started,
  // const took = end - start, timings.push(performance.now() - t), const fastest = Math.min(...timings)
  const tainted = new Set<string>();
  const mentions = (text: string) =>
    duration.test(text) ||
    [...tainted].some((n) => new RegExp(String.raw`(?<![\w'"\`])${escapeRegExp(n)}\b`).test(text));
  for (let changed = true; changed; ) {
    changed = false;
    for (const m of code.matchAll(/\b(\w+)\s*(?::|(?<![=!<>])=(?![=>]))(?=\s*([^;,\n]+))/g)) {
      if (!tainted.has(m[1]!) && mentions(m[2]!)) {
        tainted.add(m[1]!);
        changed = true;
      }
    }
    for (const m of code.matchAll(/\b(\w+)\.push\(([^;\n]+)\)/g)) {
      if (!tainted.has(m[1]!) && mentions(m[2]!)) {
        tainted.add(m[1]!);
        changed = true;
      }
    }
  }
  // Flagged: an expect argument holding a duration, a duration-carrying name, or a raw clock reading.
  const measured = (text: string) => new RegExp(CLOCK_READ).test(text) || mentions(text);
  return expectArguments(code).filter((a) => measured(a.text));
}
