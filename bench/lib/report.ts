/**
 * How a bench script hands its figures to `bench/run.ts`: one line `@@bench <key> <json>` on stdout per
 * figure group. run.ts merges them into bench/results/latest.json and leaves them out of latest.txt.
 */
export function emit(key: string, value: unknown): void {
  process.stdout.write(`@@bench ${key} ${JSON.stringify(value)}\n`);
}

export function line(s = ''): void {
  process.stdout.write(`${s}\n`);
}

export const mean = (xs: readonly number[]): number =>
  xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

export const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** `figure (baseline baseline) ×ratio` for side-by-side lines. */
export function ratio(a: number, b: number): string {
  return b === 0 ? 'n/a' : `×${(a / b).toFixed(2)}`;
}
