/**
 * Release versions as upstream feeds spell them: "v1.37.1", "1.16.5", "1.17.0-rc1", and Debian package versions
 * such as "2.93.0-1~noble" (the upstream part is what the image pins). Ordered by semantic-versioning
 * precedence: numeric parts as numbers of any length, a pre-release below its release.
 */

export interface ReleaseVersion {
  readonly major: string;
  readonly minor: string;
  readonly patch: string;
  /** Pre-release identifiers ("rc1" → ["rc1"], "beta.2" → ["beta", "2"]); empty for a release. */
  readonly pre: readonly string[];
}

const SEMVER = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** Parses a release version; undefined when the text is not one. */
export function parseReleaseVersion(text: string): ReleaseVersion | undefined {
  const m = SEMVER.exec(text.trim());
  if (!m) return undefined;
  const [, major = '', minor = '', patch = '', pre] = m;
  return { major, minor, patch, pre: pre ? pre.split('.') : [] };
}

/** The upstream version of a Debian package version: "2.93.0-1~noble" → "2.93.0". */
export function debianUpstreamVersion(debVersion: string): string {
  const noEpoch = debVersion.replace(/^\d+:/, '');
  const dash = noEpoch.lastIndexOf('-');
  return dash > 0 ? noEpoch.slice(0, dash) : noEpoch;
}

/** Whether the text is a plain release ("1.2.3" or "v1.2.3", no pre-release). */
export function isStableRelease(text: string): boolean {
  const v = parseReleaseVersion(text);
  return v !== undefined && v.pre.length === 0;
}

/** "1.37.1" from "v1.37.1". */
export function normalizeVersion(text: string): string {
  const v = parseReleaseVersion(text);
  if (!v) return text.trim();
  return `${stripZeros(v.major)}.${stripZeros(v.minor)}.${stripZeros(v.patch)}${v.pre.length ? `-${v.pre.join('.')}` : ''}`;
}

function stripZeros(n: string): string {
  return n.replace(/^0+(?=\d)/, '');
}

function compareNumeric(a: string, b: string): number {
  const x = stripZeros(a);
  const y = stripZeros(b);
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareIdentifier(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return compareNumeric(a, b);
  if (an !== bn) return an ? -1 : 1; // numeric identifiers have lower precedence (semver 2.0.0 §11)
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Negative when a is older than b, positive when newer, 0 when they are the same release. Throws on text that
 * is not a release version (callers filter feeds with parseReleaseVersion first).
 */
export function compareReleaseVersions(a: string, b: string): number {
  const x = parseReleaseVersion(a);
  const y = parseReleaseVersion(b);
  if (!x || !y) throw new Error(`not a release version: "${x ? b : a}"`);
  for (const k of ['major', 'minor', 'patch'] as const) {
    const c = compareNumeric(x[k], y[k]);
    if (c !== 0) return c;
  }
  if (x.pre.length === 0 && y.pre.length === 0) return 0;
  if (x.pre.length === 0) return 1; // a release is newer than its pre-releases
  if (y.pre.length === 0) return -1;
  const n = Math.min(x.pre.length, y.pre.length);
  for (let i = 0; i < n; i++) {
    const c = compareIdentifier(x.pre[i] as string, y.pre[i] as string);
    if (c !== 0) return c;
  }
  return Math.sign(x.pre.length - y.pre.length);
}

/** Whether a release is on a tracked line: "3" (major 3) or "1.37" (major.minor); no track matches all. */
export function onTrack(version: string, track: string | undefined): boolean {
  if (track === undefined) return true;
  const v = parseReleaseVersion(version);
  if (!v) return false;
  const [major, minor] = track.split('.');
  if (stripZeros(v.major) !== stripZeros(major ?? '')) return false;
  return minor === undefined || stripZeros(v.minor) === stripZeros(minor);
}
