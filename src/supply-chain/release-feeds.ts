/**
 * Reads each upstream's release feed into one shape: the stable releases on the tool's track, newest first,
 * with a publication date and the advisories a release names when the feed says so.
 *
 * Feeds (response shapes as the upstreams publish them):
 * - github: `GET https://api.github.com/repos/OWNER/NAME/releases?per_page=100` — an array of
 *   `{tag_name, published_at, draft, prerelease, body}` (GitHub REST "List releases"). Advisories are the
 *   CVE-/GHSA- ids in a release's notes.
 * - hashicorp: `GET https://releases.hashicorp.com/PRODUCT/index.json` — `{name, versions: {"1.16.5": {version,
 *   shasums, shasums_signature, builds}}}` (no dates, no advisories).
 * - kubernetes: `GET https://dl.k8s.io/release/stable-1.NN.txt` — one line, "v1.37.1": the newest patch of
 *   the configured minor. Patches are numbered consecutively, so the ones in between are counted.
 * - apt: a Debian `Packages` index — stanzas with `Package:` and `Version:` ("2.93.0-1~noble").
 */
import type { ReleaseFeed } from '../image/tools-manifest.js';
import { stableMarkerUrl } from './kubectl-skew.js';
import {
  compareReleaseVersions,
  debianUpstreamVersion,
  isStableRelease,
  normalizeVersion,
  onTrack,
  parseReleaseVersion,
} from './release-version.js';
import { UpstreamError, type UpstreamFetcher } from './upstream-fetcher.js';

export interface UpstreamRelease {
  readonly version: string;
  /** ISO time the release was published, when the feed says. */
  readonly published?: string | undefined;
  /** CVE-/GHSA- ids the release notes name. */
  readonly advisories: readonly string[];
}

export interface FeedReading {
  /** The URL read (the real upstream's, also when a base URL maps it). */
  readonly url: string;
  /** Stable releases on the track, newest first. */
  readonly releases: readonly UpstreamRelease[];
  /** Whether this feed carries advisory information at all. */
  readonly advisoriesKnown: boolean;
}

const ADVISORY = /\b(CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3})\b/gi;

export function advisoriesIn(text: string): string[] {
  return [...new Set([...text.matchAll(ADVISORY)].map((m) => (m[1] as string).toUpperCase()))].sort();
}

function newestFirst(releases: UpstreamRelease[]): UpstreamRelease[] {
  return releases.sort((a, b) => compareReleaseVersions(b.version, a.version));
}

function malformed(url: string, what: string): UpstreamError {
  return new UpstreamError(`${url} is not ${what}`);
}

export function feedUrl(feed: ReleaseFeed, kubernetesMinor: string): string {
  switch (feed.type) {
    case 'github':
      return `https://api.github.com/repos/${feed.repo}/releases?per_page=100`;
    case 'hashicorp':
      return `https://releases.hashicorp.com/${feed.product}/index.json`;
    case 'kubernetes':
      return stableMarkerUrl(kubernetesMinor);
    case 'apt':
      return feed.url;
  }
}

/** Human-readable name of a feed, for versionSource and reports. */
export function feedLabel(feed: ReleaseFeed, kubernetesMinor: string): string {
  switch (feed.type) {
    case 'github':
      return `github.com/${feed.repo} releases`;
    case 'hashicorp':
      return `releases.hashicorp.com/${feed.product}/index.json`;
    case 'kubernetes':
      return `dl.k8s.io/release/stable-${kubernetesMinor}.txt`;
    case 'apt':
      return `${feed.url.replace(/^https:\/\//, '')} (${feed.package})`;
  }
}

export async function readFeed(
  feed: ReleaseFeed,
  fetcher: UpstreamFetcher,
  context: { readonly kubernetesMinor: string; readonly pinned?: string | undefined },
): Promise<FeedReading> {
  const url = feedUrl(feed, context.kubernetesMinor);
  switch (feed.type) {
    case 'github': {
      const body = await fetcher.json(url);
      if (!Array.isArray(body)) throw malformed(url, 'a GitHub releases array');
      const releases: UpstreamRelease[] = [];
      for (const r of body as Array<Record<string, unknown>>) {
        const tag = typeof r.tag_name === 'string' ? r.tag_name : '';
        if (r.draft === true || r.prerelease === true || !isStableRelease(tag)) continue;
        const version = normalizeVersion(tag);
        if (!onTrack(version, feed.track)) continue;
        releases.push({
          version,
          published: typeof r.published_at === 'string' ? r.published_at : undefined,
          advisories: typeof r.body === 'string' ? advisoriesIn(r.body) : [],
        });
      }
      return { url, releases: newestFirst(releases), advisoriesKnown: true };
    }
    case 'hashicorp': {
      const body = (await fetcher.json(url)) as { versions?: unknown } | null;
      if (!body || typeof body.versions !== 'object' || body.versions === null) {
        throw malformed(url, 'a HashiCorp release index ({versions: {...}})');
      }
      const releases = Object.keys(body.versions)
        .filter((v) => isStableRelease(v) && onTrack(v, feed.track))
        .map((v) => ({ version: normalizeVersion(v), advisories: [] }));
      return { url, releases: newestFirst(releases), advisoriesKnown: false };
    }
    case 'kubernetes': {
      const line = (await fetcher.text(url)).trim();
      const latest = parseReleaseVersion(line);
      if (!latest || latest.pre.length > 0) throw malformed(url, 'a stable marker such as v1.37.1');
      const version = normalizeVersion(line);
      if (!onTrack(version, context.kubernetesMinor)) {
        throw new UpstreamError(`${url} names ${version}, not a ${context.kubernetesMinor} release`);
      }
      const pinned = context.pinned ? parseReleaseVersion(context.pinned) : undefined;
      const samePatchLine = pinned && onTrack(context.pinned ?? '', context.kubernetesMinor);
      const from = samePatchLine ? Number(pinned.patch) : Number(latest.patch);
      const releases: UpstreamRelease[] = [];
      for (let p = Number(latest.patch); p >= from; p--) {
        releases.push({ version: `${latest.major}.${latest.minor}.${p}`, advisories: [] });
      }
      return { url, releases, advisoriesKnown: false };
    }
    case 'apt': {
      const text = await fetcher.text(url);
      const versions = new Set<string>();
      for (const stanza of text.split(/\n\s*\n/)) {
        const pkg = /^Package:\s*(\S+)/m.exec(stanza)?.[1];
        const ver = /^Version:\s*(\S+)/m.exec(stanza)?.[1];
        if (pkg !== feed.package || !ver) continue;
        const upstream = debianUpstreamVersion(ver);
        if (isStableRelease(upstream)) versions.add(normalizeVersion(upstream));
      }
      if (versions.size === 0) throw new UpstreamError(`${url} lists no ${feed.package} package`);
      return {
        url,
        releases: newestFirst([...versions].map((version) => ({ version, advisories: [] }))),
        advisoriesKnown: false,
      };
    }
  }
}
