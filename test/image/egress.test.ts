import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  downloadRules,
  egressAllowList,
  egressTable,
  SEED_HOSTS_DROPPED,
  scannerRules,
} from '../../src/image/egress.js';
import { DEFAULT_TOOLS_MANIFEST, resolveManifest } from '../../src/image/tools-manifest.js';

const here = dirname(fileURLToPath(import.meta.url));
const SEED = join(here, '../../../shared/seeds/002_27647a712789f729.txt');

/** `| HTTPS:\`443\` | \`host\` | reason |` rows of the seed's egress firewall table, as host -> ports. */
function seedFirewallTable(): Map<string, number[]> {
  let text: string;
  try {
    text = readFileSync(SEED, 'utf8');
  } catch {
    // The seed lives outside the repository; this copy of its table keeps the test meaningful without it.
    text = SEED_TABLE_COPY;
  }
  const rows = new Map<string, number[]>();
  for (const line of text.split('\n')) {
    const m = /^\s*\|\s*(HTTPS?:`\d+`(?:<br>HTTPS?:`\d+`)?)\s*\|\s*`([^`]+)`\s*\|/.exec(line);
    if (!m) continue;
    const ports = [...(m[1] ?? '').matchAll(/`(\d+)`/g)].map((p) => Number(p[1]));
    rows.set(m[2] ?? '', ports);
  }
  return rows;
}

const SEED_TABLE_COPY = [
  '| HTTPS:`443`   | `*.blob.core.windows.net`            | x |',
  '| HTTPS:`443`   | `management.azure.com`               | x |',
  '| HTTP:`80`     | `azure.archive.ubuntu.com`           | x |',
  '| HTTP:`80`     | `archive.ubuntu.com`                 | x |',
  '| HTTP:`80`<br>HTTPS:`443` | `packages.microsoft.com`  | x |',
  '| HTTP:`80`     | `security.ubuntu.com`                | x |',
  '| HTTPS:`443`   | `azurecliprod.blob.core.windows.net` | x |',
  '| HTTPS:`443`   | `aka.ms`                             | x |',
  '| HTTPS:`443`   | `storage.googleapis.com`             | x |',
  '| HTTPS:`443`   | `api.github.com`                     | x |',
  '| HTTPS:`443`   | `github-releases.githubusercontent.com` | x |',
  '| HTTPS:`443`   | `github.com`                         | x |',
  '| HTTPS:`443`   | `raw.githubusercontent.com`          | x |',
  '| HTTPS:`443`   | `get.helm.sh`                        | x |',
  '| HTTPS:`443`   | `fluxcd.io`                          | x |',
  '| HTTPS:`443`   | `releases.hashicorp.com`             | x |',
].join('\n');

/** Hosts the default list adds over the seed, each for a documented reason. */
// dl.k8s.io, the GitHub asset CDN and HashiCorp's key host replace seed hosts; the last three serve the
// vulnerability scanner's database (Trivy's default repositories: mirror.gcr.io, then ghcr.io).
const ADDED_OVER_SEED = new Set([
  'dl.k8s.io',
  'release-assets.githubusercontent.com',
  'www.hashicorp.com',
  'mirror.gcr.io',
  'ghcr.io',
  'pkg-containers.githubusercontent.com',
]);

describe('egress allow-list of the default manifest', () => {
  const rules = egressAllowList(DEFAULT_TOOLS_MANIFEST);
  const byHost = new Map(rules.map((r) => [r.fqdn, r]));

  it("keeps every seed firewall host that is still used, with the seed's port, and explains every dropped one", () => {
    const seed = seedFirewallTable();
    expect(seed.size).toBeGreaterThanOrEqual(16);
    for (const [host, ports] of seed) {
      const rule = byHost.get(host);
      if (rule) expect(ports).toContain(rule.port);
      else
        expect(SEED_HOSTS_DROPPED[host], `seed host ${host} is neither allowed nor explained`).toBeDefined();
    }
    for (const dropped of Object.keys(SEED_HOSTS_DROPPED)) expect(byHost.has(dropped)).toBe(false);
    for (const r of rules) {
      if (!seed.has(r.fqdn))
        expect(ADDED_OVER_SEED.has(r.fqdn), `${r.fqdn} is not in the seed table`).toBe(true);
    }
  });

  it('gives a reason for every host and lists each host:port once', () => {
    for (const r of rules) expect(r.why.length).toBeGreaterThan(10);
    expect(new Set(rules.map((r) => `${r.fqdn}:${r.port}`)).size).toBe(rules.length);
    expect(egressTable(rules).split('\n')).toHaveLength(rules.length + 2);
  });

  it('follows the manifest: optional tools add their hosts, a disabled Azure CLI drops its repository', () => {
    const withOsm = downloadRules(resolveManifest({ osm: { enabled: true } })).map((r) => r.why);
    expect(withOsm.join(' ')).toMatch(/Open Service Mesh CLI 1\.2\.4/);
    expect(
      downloadRules(DEFAULT_TOOLS_MANIFEST)
        .map((r) => r.why)
        .join(' '),
    ).not.toMatch(/Open Service Mesh/);
    const noCli = egressAllowList(resolveManifest({ 'azure-cli': { enabled: false } })).map((r) => r.fqdn);
    expect(noCli).not.toContain('packages.microsoft.com');
    const preview = egressAllowList(
      resolveManifest({ 'aks-preview': { enabled: true, version: '1.0.0b1' } }),
    );
    expect(preview.map((r) => r.fqdn)).toContain('azcliextensionsync.blob.core.windows.net');
  });
});

describe('egress of the scan step', () => {
  it('adds the scanner download and its database hosts, and drops them when the gate is off', () => {
    const withScan = egressAllowList(DEFAULT_TOOLS_MANIFEST).map((r) => r.fqdn);
    const noScan = egressAllowList(DEFAULT_TOOLS_MANIFEST, { scan: false }).map((r) => r.fqdn);
    for (const h of DEFAULT_TOOLS_MANIFEST.scanner.dbHosts) {
      expect(withScan).toContain(h);
      expect(noScan).not.toContain(h);
    }
    expect(scannerRules(DEFAULT_TOOLS_MANIFEST).some((r) => r.why.includes('trivy'))).toBe(true);
  });
});
