/**
 * The tools manifest: the one place that says which tools the jump-box image carries, in which version, from
 * where, and how each download is verified before anything is installed.
 *
 * Verification, per download tool (all that apply are checked; any mismatch stops the build):
 * - `pinned`: a SHA-256 published by the upstream and cited below; it only applies while `version` equals
 *   `pinned.version`, so bumping a version without pinning the new hash falls back to the checksum file.
 * - `checksumFile`: the upstream's published checksum file, fetched at build time.
 * - `signature`: a detached OpenPGP signature over the checksum file, checked against a key whose primary
 *   fingerprint is pinned here (HashiCorp signs its SHA256SUMS).
 * A tool must have at least one of: a pinned hash for its version, or a checksum file.
 *
 * URL templates use `{version}`; hosts are fixed by the templates and make up the egress allow-list.
 */
import { z } from 'zod';
import { contentHash } from './canonical-json.js';

const SEMVER = /^\d+\.\d+\.\d+$/;
const SHA256 = /^[0-9a-f]{64}$/;
const FINGERPRINT = /^[0-9A-F]{40}$/;

const httpsTemplate = z.string().refine(
  (v) => {
    try {
      const u = new URL(v.replaceAll('{version}', '0.0.0'));
      return u.protocol === 'https:' && u.username === '' && u.password === '' && u.search === '';
    } catch {
      return false;
    }
  },
  { message: 'must be an https:// URL (query strings and credentials are not allowed); use {version}' },
);

const version = z.string().regex(SEMVER, 'must be a plain version "MAJOR.MINOR.PATCH" without a leading v');

/** A simple command line: words, quotes and braces only (no pipes, redirections, substitutions). */
const versionCommand = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._'"{}=-]*$/, 'must be a simple command (no | ; & $ ` < > or newlines)');

const pinnedSchema = z
  .object({
    version,
    sha256: z.string().regex(SHA256, 'must be 64 lower-case hex characters'),
    /** Where the published value was found (release notes, checksum file, vendor formula). */
    source: z.string().min(10, 'cite where the published hash was found'),
  })
  .strict();

const signatureSchema = z
  .object({
    /** Detached signature over the checksum file. */
    url: httpsTemplate,
    /** Where the signing public key is published. */
    keyUrl: httpsTemplate,
    /** Primary key fingerprint that the fetched key must have (40 upper-case hex, no spaces). */
    keyFingerprint: z.string().regex(FINGERPRINT, 'must be 40 upper-case hex characters without spaces'),
    source: z.string().min(10, 'cite where the fingerprint was found'),
  })
  .strict();

export const downloadToolSchema = z
  .object({
    kind: z.literal('download'),
    id: z.string().regex(/^[a-z][a-z0-9-]{1,30}$/, 'use lowercase letters, digits and hyphens'),
    displayName: z.string().min(1),
    enabled: z.boolean(),
    version,
    url: httpsTemplate,
    archive: z.enum(['none', 'tar.gz', 'zip']),
    /** Path of the binary inside the archive (ignored for `none`); may use {version}. */
    member: z.string().regex(/^[\w.{}/-]+$/, 'must be a relative path inside the archive'),
    /** Installed as `${prefix}/bin/${binary}`. */
    binary: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a plain command name'),
    verify: z
      .object({
        pinned: pinnedSchema.optional(),
        checksumFile: z.object({ url: httpsTemplate }).strict().optional(),
        signature: signatureSchema.optional(),
      })
      .strict(),
    /** Prints the version; the first x.y.z in its output must equal `version`. */
    versionCommand: versionCommand,
    note: z.string().optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    const pinnedApplies = t.verify.pinned !== undefined && t.verify.pinned.version === t.version;
    if (!pinnedApplies && t.verify.checksumFile === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['verify'],
        message: `${t.id} ${t.version} has no way to be verified: pin its published sha256 for this version or set verify.checksumFile`,
      });
    }
    if (t.verify.signature !== undefined && t.verify.checksumFile === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['verify', 'signature'],
        message: 'a signature signs the checksum file: set verify.checksumFile too',
      });
    }
    if (t.archive !== 'none' && t.member.split('/').includes('..')) {
      ctx.addIssue({ code: 'custom', path: ['member'], message: 'must not contain ".."' });
    }
  });

export const azureCliSchema = z
  .object({
    kind: z.literal('apt'),
    id: z.literal('azure-cli'),
    displayName: z.string().min(1),
    enabled: z.boolean(),
    version,
    package: z.literal('azure-cli'),
    repository: z
      .object({
        url: httpsTemplate,
        component: z.string().regex(/^[a-z]+$/),
        keyUrl: httpsTemplate,
        keySha256: z.string().regex(SHA256, 'must be 64 lower-case hex characters'),
        keySource: z.string().min(10),
      })
      .strict(),
    versionCommand: versionCommand,
  })
  .strict();

export const azExtensionSchema = z
  .object({
    kind: z.literal('az-extension'),
    id: z.literal('aks-preview'),
    displayName: z.string().min(1),
    enabled: z.boolean(),
    /** Required when enabled; `az extension add` checks the wheel against the digest in the signed-off index. */
    version: z
      .string()
      .regex(/^\d+\.\d+\.\d+(b\d+)?$/, 'must be an extension version such as 1.0.0 or 1.0.0b1')
      .optional(),
    extension: z.literal('aks-preview'),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.enabled && t.version === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['version'],
        message: 'aks-preview is enabled but has no pinned version: set tools["aks-preview"].version',
      });
    }
  });

export const toolsManifestSchema = z
  .object({
    azureCli: azureCliSchema,
    aksPreview: azExtensionSchema,
    downloads: z.array(downloadToolSchema).min(1),
  })
  .strict()
  .superRefine((m, ctx) => {
    const seen = new Set<string>([m.azureCli.id, m.aksPreview.id]);
    m.downloads.forEach((t, i) => {
      if (seen.has(t.id))
        ctx.addIssue({
          code: 'custom',
          path: ['downloads', i, 'id'],
          message: `duplicate tool id "${t.id}"`,
        });
      seen.add(t.id);
    });
  });

export type DownloadTool = z.infer<typeof downloadToolSchema>;
export type AzureCliTool = z.infer<typeof azureCliSchema>;
export type AzExtensionTool = z.infer<typeof azExtensionSchema>;
export type ToolsManifest = z.infer<typeof toolsManifestSchema>;

/** GitHub release downloads answer 302 to this host (GitHub moved release assets there in 2025). */
export const GITHUB_RELEASE_ASSET_HOST = 'release-assets.githubusercontent.com';

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** The default manifest (frozen). Every pinned value carries its source. */
export const DEFAULT_TOOLS_MANIFEST: ToolsManifest = deepFreeze({
  azureCli: {
    kind: 'apt',
    id: 'azure-cli',
    displayName: 'Azure CLI',
    enabled: true,
    // 2.67.0: release confirmed in Azure/azure-cli#29656 (release notes of azure-cli-2.67.0).
    version: '2.67.0',
    package: 'azure-cli',
    repository: {
      url: 'https://packages.microsoft.com/repos/azure-cli/',
      component: 'main',
      keyUrl: 'https://packages.microsoft.com/keys/microsoft.asc',
      // Published digest of microsoft.asc in Azure's dalec docs (azure.github.io/dalec, examples/repos/msft-ubuntu.yml).
      keySha256: '2cfd20a306b2fa5e25522d78f2ef50a1f429d35fd30bd983e2ebffc2b80944fa',
      keySource: 'https://azure.github.io/dalec/examples/repos/msft-ubuntu.yml (digest of microsoft.asc)',
    },
    versionCommand: 'az version --query \'"azure-cli"\' --output tsv',
  },
  aksPreview: {
    kind: 'az-extension',
    id: 'aks-preview',
    displayName: 'Azure CLI aks-preview extension',
    enabled: false,
    extension: 'aks-preview',
  },
  downloads: [
    {
      kind: 'download',
      id: 'kubectl',
      displayName: 'kubectl',
      enabled: true,
      // v1.33.8 release referenced in githubixx/ansible-role-kubectl#44 (2026-02); dl.k8s.io is the
      // upstream download host (cdn.dl.k8s.io was retired, same thread).
      version: '1.33.8',
      url: 'https://dl.k8s.io/release/v{version}/bin/linux/amd64/kubectl',
      archive: 'none',
      member: 'kubectl',
      binary: 'kubectl',
      verify: {
        // No published hash found with search: the upstream's per-binary checksum file is used.
        checksumFile: { url: 'https://dl.k8s.io/release/v{version}/bin/linux/amd64/kubectl.sha256' },
      },
      versionCommand: 'kubectl version --client',
    },
    {
      kind: 'download',
      id: 'kubelogin',
      displayName: 'kubelogin (Azure)',
      enabled: true,
      version: '0.2.14',
      url: 'https://github.com/Azure/kubelogin/releases/download/v{version}/kubelogin-linux-amd64.zip',
      archive: 'zip',
      member: 'bin/linux_amd64/kubelogin',
      binary: 'kubelogin',
      verify: {
        // Per-asset .sha256 files are published since Azure/kubelogin#73.
        checksumFile: {
          url: 'https://github.com/Azure/kubelogin/releases/download/v{version}/kubelogin-linux-amd64.zip.sha256',
        },
      },
      versionCommand: 'kubelogin --version',
    },
    {
      kind: 'download',
      id: 'helm',
      displayName: 'Helm',
      enabled: true,
      version: '3.21.1',
      url: 'https://get.helm.sh/helm-v{version}-linux-amd64.tar.gz',
      archive: 'tar.gz',
      member: 'linux-amd64/helm',
      binary: 'helm',
      verify: {
        pinned: {
          version: '3.21.1',
          // Helm v3.21.1 release notes, "Installation and Upgrading" (Linux amd64 checksum), as quoted in
          // rlex/helm-charts#188.
          sha256: 'a349c62d6ab2d5d11f044fc0d3afa6deed7d27cc7d5c351f536b169d9fc2cc1a',
          source: 'Helm v3.21.1 release notes (quoted in github.com/rlex/helm-charts/pull/188)',
        },
        checksumFile: { url: 'https://get.helm.sh/helm-v{version}-linux-amd64.tar.gz.sha256sum' },
      },
      versionCommand: 'helm version --short',
    },
    {
      kind: 'download',
      id: 'flux',
      displayName: 'Flux CLI',
      enabled: true,
      // v2.7.5: fluxcd/terraform-provider-flux#794 ("Update Flux to v2.7.5").
      version: '2.7.5',
      url: 'https://github.com/fluxcd/flux2/releases/download/v{version}/flux_{version}_linux_amd64.tar.gz',
      archive: 'tar.gz',
      member: 'flux',
      binary: 'flux',
      verify: {
        checksumFile: {
          url: 'https://github.com/fluxcd/flux2/releases/download/v{version}/flux_{version}_checksums.txt',
        },
      },
      versionCommand: 'flux version --client',
    },
    {
      kind: 'download',
      id: 'azwi',
      displayName: 'Azure AD Workload Identity CLI (azwi)',
      enabled: true,
      version: '1.5.1',
      url: 'https://github.com/Azure/azure-workload-identity/releases/download/v{version}/azwi-v{version}-linux-amd64.tar.gz',
      archive: 'tar.gz',
      member: 'azwi',
      binary: 'azwi',
      verify: {
        // No published hash found with search. The checksum file name could not be confirmed either: if it is
        // absent the download fails and the build stops (fail-closed) — pin the hash from the release page then.
        checksumFile: {
          url: 'https://github.com/Azure/azure-workload-identity/releases/download/v{version}/sha256sums.txt',
        },
      },
      versionCommand: 'azwi version',
    },
    {
      kind: 'download',
      id: 'terraform',
      displayName: 'Terraform',
      enabled: true,
      version: '1.13.4',
      url: 'https://releases.hashicorp.com/terraform/{version}/terraform_{version}_linux_amd64.zip',
      archive: 'zip',
      member: 'terraform',
      binary: 'terraform',
      verify: {
        pinned: {
          version: '1.13.4',
          // HashiCorp's own Homebrew tap formula for terraform 1.13.4 (linux amd64).
          sha256: '98aa516201e948306698efd9954ab4cc0d1227c2578ba56245898b5f679e590b',
          source: 'HashiCorp homebrew tap, Formula terraform 1.13.4 (linux_amd64 sha256)',
        },
        checksumFile: {
          url: 'https://releases.hashicorp.com/terraform/{version}/terraform_{version}_SHA256SUMS',
        },
        signature: {
          url: 'https://releases.hashicorp.com/terraform/{version}/terraform_{version}_SHA256SUMS.sig',
          keyUrl: 'https://www.hashicorp.com/.well-known/pgp-key.txt',
          // HashiCorp Security key 72D7468F (HCSEC-2021-12 rotation; hashicorp/terraform-exec#166).
          keyFingerprint: 'C874011F0AB405110D02105534365D9472D7468F',
          source: 'HashiCorp security page / HCSEC-2021-12 (key id 72D7468F)',
        },
      },
      versionCommand: 'terraform version',
    },
    {
      kind: 'download',
      id: 'osm',
      displayName: 'Open Service Mesh CLI',
      enabled: false,
      note: 'Open Service Mesh is archived upstream; kept optional and off by default.',
      version: '1.2.4',
      url: 'https://github.com/openservicemesh/osm/releases/download/v{version}/osm-v{version}-linux-amd64.tar.gz',
      archive: 'tar.gz',
      member: 'linux-amd64/osm',
      binary: 'osm',
      verify: {
        // Checksum file name not confirmed with search (fail-closed if absent; see azwi).
        checksumFile: {
          url: 'https://github.com/openservicemesh/osm/releases/download/v{version}/sha256sums.txt',
        },
      },
      versionCommand: 'osm version',
    },
  ],
});

/** Per-tool overrides a definition may carry (`tools` in IMAGE_DEFINITIONS), merged over the default manifest. */
export const toolOverrideSchema = z
  .object({
    enabled: z.boolean().optional(),
    version: z.string().optional(),
    /** Pins the published SHA-256 of the artifact for the (possibly overridden) version. */
    sha256: z.string().regex(SHA256, 'must be 64 lower-case hex characters').optional(),
    sha256Source: z.string().optional(),
    /** For signed checksum files: the signing key's primary fingerprint. */
    keyFingerprint: z
      .string()
      .regex(FINGERPRINT, 'must be 40 upper-case hex characters without spaces')
      .optional(),
  })
  .strict();

export type ToolOverride = z.infer<typeof toolOverrideSchema>;

export const TOOL_IDS = [
  DEFAULT_TOOLS_MANIFEST.azureCli.id,
  DEFAULT_TOOLS_MANIFEST.aksPreview.id,
  ...DEFAULT_TOOLS_MANIFEST.downloads.map((d) => d.id),
] as const;

export class ManifestError extends Error {}

function applyDownloadOverride(tool: DownloadTool, o: ToolOverride): DownloadTool {
  const next: DownloadTool = { ...tool, verify: { ...tool.verify } };
  if (o.enabled !== undefined) next.enabled = o.enabled;
  if (o.version !== undefined) next.version = o.version;
  if (o.sha256 !== undefined) {
    next.verify.pinned = {
      version: next.version,
      sha256: o.sha256,
      source: o.sha256Source ?? 'pinned by the image definition',
    };
  }
  if (o.keyFingerprint !== undefined) {
    if (!next.verify.signature)
      throw new ManifestError(`${tool.id}: keyFingerprint given but the tool has no signature`);
    next.verify.signature = { ...next.verify.signature, keyFingerprint: o.keyFingerprint };
  }
  return next;
}

/**
 * The manifest a definition builds with: the default manifest with the definition's per-tool overrides applied,
 * then validated. Throws ManifestError naming the tool and the field.
 */
export function resolveManifest(
  overrides: Readonly<Record<string, ToolOverride>> = {},
  base: ToolsManifest = DEFAULT_TOOLS_MANIFEST,
): ToolsManifest {
  const unknown = Object.keys(overrides).filter((k) => !(TOOL_IDS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new ManifestError(
      `unknown tool ${unknown.map((u) => `"${u}"`).join(', ')}; known tools: ${TOOL_IDS.join(', ')}`,
    );
  }
  const cli = overrides['azure-cli'];
  const ext = overrides['aks-preview'];
  for (const [id, o] of [
    ['azure-cli', cli],
    ['aks-preview', ext],
  ] as const) {
    if (o && (o.sha256 !== undefined || o.keyFingerprint !== undefined)) {
      throw new ManifestError(
        `${id}: sha256/keyFingerprint do not apply (apt and az verify their own signatures)`,
      );
    }
  }
  const merged = {
    azureCli: {
      ...base.azureCli,
      ...(cli?.enabled !== undefined ? { enabled: cli.enabled } : {}),
      ...(cli?.version !== undefined ? { version: cli.version } : {}),
    },
    aksPreview: {
      ...base.aksPreview,
      ...(ext?.enabled !== undefined ? { enabled: ext.enabled } : {}),
      ...(ext?.version !== undefined ? { version: ext.version } : {}),
    },
    downloads: base.downloads.map((d) => {
      const o = overrides[d.id];
      return o ? applyDownloadOverride(d, o) : d;
    }),
  };
  const parsed = toolsManifestSchema.safeParse(merged);
  if (!parsed.success) {
    const first = parsed.error.issues
      .map((i) => {
        const [section, index, ...rest] = i.path;
        const where =
          section === 'downloads' && typeof index === 'number'
            ? `${merged.downloads[index]?.id ?? `downloads[${index}]`}${rest.length ? `.${rest.join('.')}` : ''}`
            : i.path.join('.');
        return `${where}: ${i.message}`;
      })
      .join('; ');
    throw new ManifestError(first);
  }
  return parsed.data;
}

/** Fills `{version}` in a URL template. */
export function expand(template: string, v: string): string {
  return template.replaceAll('{version}', v);
}

/** The download tools that will be installed. */
export function enabledDownloads(manifest: ToolsManifest): DownloadTool[] {
  return manifest.downloads.filter((d) => d.enabled);
}

/** Hash of the effective manifest (tagged on the image, part of the template content). */
export function manifestHash(manifest: ToolsManifest): string {
  return contentHash(manifest);
}

/** Whether the pinned hash applies to the tool's current version. */
export function pinnedSha256(tool: DownloadTool): string | undefined {
  return tool.verify.pinned && tool.verify.pinned.version === tool.version
    ? tool.verify.pinned.sha256
    : undefined;
}
