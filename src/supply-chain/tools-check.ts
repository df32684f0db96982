/**
 * `tools check`: each pin in tool-pins.json against its upstream release feed — how far behind (releases and
 * days since the first newer release), and which advisories the newer releases name when the feed says so.
 */
import type { DownloadTool, ReleaseFeed, ToolPins, ToolsManifest } from '../image/tools-manifest.js';
import { kubectlSkewProblem } from './kubectl-skew.js';
import { feedLabel, readFeed, type UpstreamRelease } from './release-feeds.js';
import { compareReleaseVersions, parseReleaseVersion } from './release-version.js';
import { UpstreamError, type UpstreamFetcher } from './upstream-fetcher.js';

export interface TrackedTool {
  readonly id: string;
  readonly feed?: ReleaseFeed | undefined;
  /** The download definition (URL and checksum templates), for tools fetched over https. */
  readonly download?: DownloadTool | undefined;
}

/** Every tool tool-pins.json pins, with its feed: azure-cli, the downloads and the scanner. */
export function trackedTools(manifest: ToolsManifest): TrackedTool[] {
  return [
    { id: manifest.azureCli.id, feed: manifest.azureCli.feed },
    ...manifest.downloads.map((d) => ({ id: d.id, feed: d.feed, download: d })),
    { id: manifest.scanner.tool.id, feed: manifest.scanner.tool.feed, download: manifest.scanner.tool },
  ];
}

export type PinState = 'current' | 'behind' | 'ahead' | 'unchecked' | 'error';

export interface PinStatus {
  readonly id: string;
  readonly pinned: string;
  readonly state: PinState;
  readonly latest?: string | undefined;
  /** Stable releases newer than the pin on the tool's track. */
  readonly behindReleases: number;
  /** Days since the first release newer than the pin was published (when the feed has dates). */
  readonly behindDays?: number | undefined;
  /** Advisories named by the newer releases; undefined when the feed carries no advisory data. */
  readonly advisories?: readonly string[] | undefined;
  readonly feed?: string | undefined;
  readonly feedUrl?: string | undefined;
  readonly note?: string | undefined;
}

const DAY_MS = 86_400_000;

export function newerReleases(
  releases: readonly UpstreamRelease[],
  pinned: string,
): readonly UpstreamRelease[] {
  return releases.filter((r) => compareReleaseVersions(r.version, pinned) > 0);
}

export async function checkPin(
  tool: TrackedTool,
  pins: ToolPins,
  fetcher: UpstreamFetcher,
  now: Date,
): Promise<PinStatus> {
  const pinned = pins.tools[tool.id]?.version;
  if (pinned === undefined) {
    return { id: tool.id, pinned: '-', state: 'error', behindReleases: 0, note: 'no pin in tool-pins.json' };
  }
  if (!tool.feed) {
    return { id: tool.id, pinned, state: 'unchecked', behindReleases: 0, note: 'no release feed configured' };
  }
  const label = feedLabel(tool.feed, pins.kubernetesMinor);
  const base = { id: tool.id, pinned, feed: label };
  if (!parseReleaseVersion(pinned)) {
    return { ...base, state: 'error', behindReleases: 0, note: `pin "${pinned}" is not a release version` };
  }
  try {
    const reading = await readFeed(tool.feed, fetcher, { kubernetesMinor: pins.kubernetesMinor, pinned });
    const latest = reading.releases[0]?.version;
    if (latest === undefined) {
      return {
        ...base,
        feedUrl: reading.url,
        state: 'error',
        behindReleases: 0,
        note: 'feed lists no stable release',
      };
    }
    const newer = newerReleases(reading.releases, pinned);
    const oldestNewer = newer[newer.length - 1];
    const since = oldestNewer?.published ? Date.parse(oldestNewer.published) : Number.NaN;
    const skew =
      tool.feed.type === 'kubernetes' ? kubectlSkewProblem(pinned, pins.kubernetesMinor) : undefined;
    return {
      ...base,
      feedUrl: reading.url,
      latest,
      state: newer.length > 0 ? 'behind' : compareReleaseVersions(pinned, latest) > 0 ? 'ahead' : 'current',
      behindReleases: newer.length,
      behindDays: Number.isNaN(since) ? undefined : Math.max(0, Math.floor((now.getTime() - since) / DAY_MS)),
      advisories: reading.advisoriesKnown
        ? [...new Set(newer.flatMap((r) => r.advisories))].sort()
        : undefined,
      note:
        skew ?? (tool.feed.type === 'kubernetes' ? `follows Kubernetes ${pins.kubernetesMinor}` : undefined),
    };
  } catch (e) {
    if (e instanceof UpstreamError) return { ...base, state: 'error', behindReleases: 0, note: e.message };
    throw e;
  }
}

export async function checkPins(options: {
  readonly pins: ToolPins;
  readonly manifest: ToolsManifest;
  readonly fetcher: UpstreamFetcher;
  readonly now: Date;
  readonly only?: readonly string[] | undefined;
}): Promise<PinStatus[]> {
  const tools = trackedTools(options.manifest).filter((t) => !options.only || options.only.includes(t.id));
  return Promise.all(tools.map((t) => checkPin(t, options.pins, options.fetcher, options.now)));
}

function cell(s: PinStatus): string {
  switch (s.state) {
    case 'current':
      return 'current';
    case 'ahead':
      return 'newer than the feed';
    case 'unchecked':
      return 'not checked';
    case 'error':
      return 'feed error';
    case 'behind': {
      const n = `${s.behindReleases} release${s.behindReleases === 1 ? '' : 's'}`;
      return s.behindDays === undefined ? n : `${n}, ${s.behindDays} days`;
    }
  }
}

function fixes(s: PinStatus): string {
  if (s.state !== 'behind') return '';
  if (s.advisories === undefined) return 'feed has no advisory data';
  return s.advisories.length > 0 ? `fixes ${s.advisories.join(', ')}` : 'no advisory named';
}

/** The text report (one row per tool, then the notes). */
export function formatCheckReport(statuses: readonly PinStatus[]): string {
  const rows = [
    ['tool', 'pinned', 'latest', 'behind', 'vulnerabilities'],
    ...statuses.map((s) => [s.id, s.pinned, s.latest ?? '-', cell(s), fixes(s)]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const lines = rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  const notes = statuses.filter((s) => s.note).map((s) => `${s.id}: ${s.note}`);
  const behind = statuses.filter((s) => s.state === 'behind').length;
  const errors = statuses.filter((s) => s.state === 'error').length;
  return `${[
    ...lines,
    ...(notes.length ? ['', ...notes] : []),
    '',
    `${behind} behind, ${errors} feed error${errors === 1 ? '' : 's'}${behind ? '; run `npm run cli -- tools bump` to update tool-pins.json' : ''}`,
  ].join('\n')}\n`;
}
