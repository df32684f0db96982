/**
 * Marketplace image versions ("22.04.202501150", "1.0.10") compared the way Azure orders them: segment by
 * segment, numerically. ARM's `$orderby=name desc` sorts the names as text, so "1.0.9" would beat "1.0.10".
 */

/** A version is dot-separated segments; each segment is digits (compared as numbers) or text. */
function segments(version: string): string[] {
  return version.trim().split('.');
}

function compareSegment(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) {
    // Compare as arbitrary-size integers without losing precision: strip leading zeros, then length, then text.
    const x = a.replace(/^0+(?=\d)/, '');
    const y = b.replace(/^0+(?=\d)/, '');
    if (x.length !== y.length) return x.length < y.length ? -1 : 1;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (an !== bn) return an ? 1 : -1; // a numeric segment is newer than a text one ("1.0.0" > "1.0.beta")
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Negative when a is older than b, positive when newer, 0 when equal (missing segments count as 0). */
export function compareImageVersions(a: string, b: string): number {
  const sa = segments(a);
  const sb = segments(b);
  const n = Math.max(sa.length, sb.length);
  for (let i = 0; i < n; i++) {
    const c = compareSegment(sa[i] ?? '0', sb[i] ?? '0');
    if (c !== 0) return c;
  }
  return 0;
}

/** The newest of the given versions, or undefined for an empty list. */
export function newestImageVersion(versions: Iterable<string>): string | undefined {
  let best: string | undefined;
  for (const v of versions) {
    if (best === undefined || compareImageVersions(v, best) > 0) best = v;
  }
  return best;
}

/** Versions sorted newest first (a new array). */
export function sortImageVersionsNewestFirst(versions: readonly string[]): string[] {
  return [...versions].sort((a, b) => compareImageVersions(b, a));
}
