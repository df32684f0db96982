/**
 * Release feeds for `tools check` / `tools bump` served by the sandbox fake upstream (test/image/support/
 * fake-upstream.ts): every feed in the shape its upstream publishes, by default naming exactly the pinned
 * versions (so every pin is current); tests add newer releases per tool.
 */
import type { ToolPins, ToolsManifest } from '../../../src/image/tools-manifest.js';
import { feedUrl } from '../../../src/supply-chain/release-feeds.js';
import { trackedTools } from '../../../src/supply-chain/tools-check.js';
import type { FakeUpstream } from '../../image/support/fake-upstream.js';

export interface FakeRelease {
  readonly version: string;
  readonly published?: string;
  readonly body?: string;
  readonly prerelease?: boolean;
}

/** The URL key the fake upstream serves a feed under (it ignores query strings). */
function key(url: string): string {
  return url.split('?')[0] as string;
}

/** Serves each tool's feed listing `releases[id]` (default: only the pinned version). */
export function serveFeeds(
  upstream: FakeUpstream,
  manifest: ToolsManifest,
  pins: ToolPins,
  releases: Readonly<Record<string, readonly FakeRelease[]>> = {},
): void {
  for (const tool of trackedTools(manifest)) {
    if (!tool.feed) continue;
    const pinned = pins.tools[tool.id]?.version as string;
    const list = releases[tool.id] ?? [{ version: pinned, published: '2026-10-01T00:00:00Z' }];
    const url = key(feedUrl(tool.feed, pins.kubernetesMinor));
    switch (tool.feed.type) {
      case 'github':
        upstream.files.set(
          url,
          Buffer.from(
            JSON.stringify(
              list.map((r) => ({
                tag_name: `v${r.version}`,
                name: `v${r.version}`,
                draft: false,
                prerelease: r.prerelease ?? false,
                published_at: r.published ?? '2026-10-01T00:00:00Z',
                body: r.body ?? '',
              })),
            ),
          ),
        );
        break;
      case 'hashicorp':
        upstream.files.set(
          url,
          Buffer.from(
            JSON.stringify({
              name: tool.feed.product,
              versions: Object.fromEntries(
                list.map((r) => [
                  r.version,
                  {
                    name: tool.feed?.type === 'hashicorp' ? tool.feed.product : '',
                    version: r.version,
                    builds: [],
                  },
                ]),
              ),
            }),
          ),
        );
        break;
      case 'kubernetes': {
        const newest = list[list.length - 1] ?? { version: pinned };
        upstream.files.set(url, Buffer.from(`v${newest.version}\n`));
        break;
      }
      case 'apt':
        upstream.files.set(
          url,
          Buffer.from(
            list
              .map(
                (r) =>
                  `Package: ${tool.feed?.type === 'apt' ? tool.feed.package : ''}\nVersion: ${r.version}-1~noble\nArchitecture: amd64\nFilename: pool/main/a/azure-cli/azure-cli_${r.version}-1~noble_amd64.deb\n`,
              )
              .join('\n'),
          ),
        );
        break;
    }
  }
}
