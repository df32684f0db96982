/**
 * Egress allow-list of the build subnet, derived from the tools manifest: every host a build contacts, with
 * port and reason. Three groups: the AIB service itself, package repositories (apt, az extensions), and the
 * tool downloads generated from the manifest (artifact, checksum file, signature, signing key, and the hosts
 * those URLs redirect to).
 */
import {
  type DownloadTool,
  enabledDownloads,
  expand,
  GITHUB_RELEASE_ASSET_HOST,
  type ToolsManifest,
} from './tools-manifest.js';

export type EgressGroup = 'aib-service' | 'package-repository' | 'tool-download';

export interface EgressRule {
  readonly fqdn: string;
  readonly port: 80 | 443;
  readonly protocol: 'HTTP' | 'HTTPS';
  readonly group: EgressGroup;
  readonly why: string;
}

/** Hosts that answer a tool download with a redirect elsewhere (the target must be allowed too). */
export const DOWNLOAD_REDIRECTS: Readonly<Record<string, readonly string[]>> = {
  // github.com/<owner>/<repo>/releases/download/... answers 302 to the release-asset CDN.
  'github.com': [GITHUB_RELEASE_ASSET_HOST],
};

/** Ubuntu mirrors that the Azure marketplace images' apt sources point at (plain HTTP; apt checks signatures). */
export const UBUNTU_APT_HOSTS = [
  'azure.archive.ubuntu.com',
  'archive.ubuntu.com',
  'security.ubuntu.com',
] as const;

const AIB_RULES: EgressRule[] = [
  {
    fqdn: '*.blob.core.windows.net',
    port: 443,
    protocol: 'HTTPS',
    group: 'aib-service',
    why: 'AIB staging storage account (logs, transient files, the captured VHD); its name is not known in advance',
  },
  {
    fqdn: 'management.azure.com',
    port: 443,
    protocol: 'HTTPS',
    group: 'aib-service',
    why: 'AIB proxy/build VMs call Azure Resource Manager',
  },
];

/**
 * Hosts of the seed's firewall table that this build no longer contacts, and why (the README shows them).
 */
export const SEED_HOSTS_DROPPED: Readonly<Record<string, string>> = {
  'aka.ms': 'no Azure CLI install script: azure-cli comes from the signed apt repository',
  'azurecliprod.blob.core.windows.net': 'no Azure CLI install script (curl | bash removed)',
  'storage.googleapis.com': 'kubectl comes from dl.k8s.io, the upstream download host',
  'api.github.com': 'versions are pinned in the manifest; nothing asks GitHub for "latest"',
  'github-releases.githubusercontent.com': `GitHub serves release assets from ${GITHUB_RELEASE_ASSET_HOST} now`,
  'raw.githubusercontent.com': 'no Helm install script: the Helm tarball is downloaded and verified',
  'fluxcd.io': 'no Flux install script: the release tarball is downloaded and verified',
};

function hostOf(url: string): string {
  return new URL(url).hostname;
}

function add(rules: Map<string, EgressRule>, rule: EgressRule): void {
  const key = `${rule.fqdn}:${rule.port}`;
  const prev = rules.get(key);
  if (!prev) {
    rules.set(key, rule);
    return;
  }
  const whys = new Set([...prev.why.split('; '), ...rule.why.split('; ')]);
  rules.set(key, { ...prev, why: [...whys].join('; ') });
}

/** The hosts the install script itself contacts (tool downloads), each with the reasons. */
export function downloadRules(manifest: ToolsManifest): EgressRule[] {
  return toolRules(enabledDownloads(manifest));
}

/** The hosts of the scan step: the scanner's download and its vulnerability database (none when disabled). */
export function scannerRules(manifest: ToolsManifest, scan = true): EgressRule[] {
  const s = manifest.scanner;
  if (!scan || !s.tool.enabled) return [];
  const rules = toolRules([s.tool]);
  for (const fqdn of s.dbHosts) {
    rules.push({
      fqdn,
      port: 443,
      protocol: 'HTTPS',
      group: 'tool-download',
      why: `${s.tool.id} vulnerability database`,
    });
  }
  return rules;
}

function toolRules(tools: readonly DownloadTool[]): EgressRule[] {
  const rules = new Map<string, EgressRule>();
  for (const tool of tools) {
    const urls: Array<[string, string]> = [
      [expand(tool.url, tool.version), `${tool.displayName} ${tool.version}`],
    ];
    if (tool.verify.checksumFile)
      urls.push([expand(tool.verify.checksumFile.url, tool.version), `${tool.id} checksum file`]);
    if (tool.verify.signature) {
      urls.push([expand(tool.verify.signature.url, tool.version), `${tool.id} checksum signature`]);
      urls.push([tool.verify.signature.keyUrl, `${tool.id} signing key`]);
    }
    for (const [url, why] of urls) {
      const host = hostOf(url);
      add(rules, { fqdn: host, port: 443, protocol: 'HTTPS', group: 'tool-download', why });
      for (const target of DOWNLOAD_REDIRECTS[host] ?? []) {
        add(rules, {
          fqdn: target,
          port: 443,
          protocol: 'HTTPS',
          group: 'tool-download',
          why: `${why} (redirect from ${host})`,
        });
      }
    }
  }
  return [...rules.values()];
}

/** Package repositories used by apt and the Azure CLI. */
export function repositoryRules(manifest: ToolsManifest): EgressRule[] {
  const rules = new Map<string, EgressRule>();
  for (const host of UBUNTU_APT_HOSTS) {
    add(rules, {
      fqdn: host,
      port: 80,
      protocol: 'HTTP',
      group: 'package-repository',
      why: 'Ubuntu apt mirror (update, safe upgrade, prerequisites); apt verifies signed indexes',
    });
  }
  const cli = manifest.azureCli;
  if (cli.enabled) {
    add(rules, {
      fqdn: hostOf(cli.repository.url),
      port: 443,
      protocol: 'HTTPS',
      group: 'package-repository',
      why: `Azure CLI ${cli.version} apt repository`,
    });
    add(rules, {
      fqdn: hostOf(cli.repository.keyUrl),
      port: 443,
      protocol: 'HTTPS',
      group: 'package-repository',
      why: 'Microsoft repository signing key',
    });
    if (manifest.aksPreview.enabled) {
      add(rules, {
        fqdn: 'azcliextensionsync.blob.core.windows.net',
        port: 443,
        protocol: 'HTTPS',
        group: 'package-repository',
        why: 'az extension index (aks-preview)',
      });
      add(rules, {
        fqdn: 'azcliprod.blob.core.windows.net',
        port: 443,
        protocol: 'HTTPS',
        group: 'package-repository',
        why: 'az extension wheels (aks-preview)',
      });
    }
  }
  return [...rules.values()];
}

const GROUP_ORDER: Record<EgressGroup, number> = {
  'aib-service': 0,
  'package-repository': 1,
  'tool-download': 2,
};

/** The complete allow-list for a manifest, sorted by group, host, port. */
export function egressAllowList(manifest: ToolsManifest, options: { scan?: boolean } = {}): EgressRule[] {
  const rules = new Map<string, EgressRule>();
  for (const r of [
    ...AIB_RULES,
    ...repositoryRules(manifest),
    ...downloadRules(manifest),
    ...scannerRules(manifest, options.scan ?? true),
  ])
    add(rules, r);
  return [...rules.values()].sort(
    (a, b) => GROUP_ORDER[a.group] - GROUP_ORDER[b.group] || a.fqdn.localeCompare(b.fqdn) || a.port - b.port,
  );
}

/** A Markdown table (the CLI's default output). */
export function egressTable(rules: readonly EgressRule[]): string {
  const rows = rules.map((r) => `| ${r.protocol}:${r.port} | \`${r.fqdn}\` | ${r.group} | ${r.why} |`);
  return ['| Protocol:Port | Target FQDN | Group | Why |', '|---|---|---|---|', ...rows].join('\n');
}
