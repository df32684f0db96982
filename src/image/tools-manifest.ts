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
import { kubectlSkewProblem } from '../supply-chain/kubectl-skew.js';
import { contentHash } from './canonical-json.js';
import TOOL_PINS_JSON from './tool-pins.json' with { type: 'json' };

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

/**
 * Where `tools check` learns about new releases. `track` keeps a tool on one release line: a major
 * ("3" for Helm 3) or a major.minor ("1.34" for kubectl, which follows the clusters' Kubernetes minor).
 */
export const releaseFeedSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('github'),
      repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be "owner/name"'),
      track: z
        .string()
        .regex(/^\d+(\.\d+)?$/)
        .optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('hashicorp'),
      product: z.string().regex(/^[a-z][a-z0-9-]*$/),
      track: z
        .string()
        .regex(/^\d+(\.\d+)?$/)
        .optional(),
    })
    .strict(),
  z.object({ type: z.literal('kubernetes') }).strict(),
  z
    .object({
      type: z.literal('apt'),
      /** A Packages index (e.g. the Microsoft azure-cli repository for one distribution). */
      url: httpsTemplate,
      package: z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/),
    })
    .strict(),
]);
export type ReleaseFeed = z.infer<typeof releaseFeedSchema>;

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
    /** Upstream release feed for `tools check` / `tools bump` (none: the tool is reported as unchecked). */
    feed: releaseFeedSchema.optional(),
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
    feed: releaseFeedSchema.optional(),
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

/**
 * The scanner the build VM runs after customization (downloaded and verified like any tool, into a
 * temporary directory: it is not left in the image). `dbHosts` are the hosts its vulnerability database
 * comes from (they join the egress allow-list).
 */
export const scannerSchema = z
  .object({
    tool: downloadToolSchema,
    dbHosts: z.array(z.string().regex(/^[a-z0-9.-]+$/)).min(1),
  })
  .strict();

export const toolsManifestSchema = z
  .object({
    azureCli: azureCliSchema,
    aksPreview: azExtensionSchema,
    downloads: z.array(downloadToolSchema).min(1),
    scanner: scannerSchema,
  })
  .strict()
  .superRefine((m, ctx) => {
    const seen = new Set<string>([m.azureCli.id, m.aksPreview.id, m.scanner.tool.id]);
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
export type Scanner = z.infer<typeof scannerSchema>;

/** One pin of `tool-pins.json` (the file `tools bump` rewrites). */
export interface ToolPin {
  readonly version: string;
  readonly versionSource: string;
  readonly sha256?: string | undefined;
  readonly sha256Source?: string | undefined;
}

export interface ToolPins {
  /** The Kubernetes minor kubectl follows (the clusters' version; default the newest AKS-supported minor). */
  readonly kubernetesMinor: string;
  /** Where the minor comes from (the AKS supported-versions page). */
  readonly kubernetesMinorSource?: string | undefined;
  readonly tools: Readonly<Record<string, ToolPin>>;
}

export const TOOL_PINS: ToolPins = TOOL_PINS_JSON as ToolPins;

{
  const problem = kubectlSkewProblem(TOOL_PINS.tools.kubectl?.version ?? '', TOOL_PINS.kubernetesMinor);
  if (problem) throw new Error(`tool-pins.json: ${problem}`);
}

function pinOf(id: string): ToolPin {
  const p = TOOL_PINS.tools[id];
  if (!p) throw new Error(`tool-pins.json has no pin for ${id}`);
  return p;
}

/** The published hash pinned for a tool's version in tool-pins.json, as `verify.pinned`, if there is one. */
function pinnedHash(id: string): { pinned?: { version: string; sha256: string; source: string } } {
  const p = pinOf(id);
  return p.sha256
    ? { pinned: { version: p.version, sha256: p.sha256, source: p.sha256Source ?? 'tool-pins.json' } }
    : {};
}

/** GitHub release downloads answer 302 to this host (GitHub moved release assets there in 2025). */
export const GITHUB_RELEASE_ASSET_HOST = 'release-assets.githubusercontent.com';

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** The default manifest (frozen). Versions and published hashes come from tool-pins.json; every value cites its source. */
export const DEFAULT_TOOLS_MANIFEST: ToolsManifest = deepFreeze({
  azureCli: {
    kind: 'apt',
    id: 'azure-cli',
    displayName: 'Azure CLI',
    enabled: true,
    version: pinOf('azure-cli').version,
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
    // apt verifies the signed index; the feed is the same repository's Packages index (noble).
    feed: {
      type: 'apt',
      url: 'https://packages.microsoft.com/repos/azure-cli/dists/noble/main/binary-amd64/Packages',
      package: 'azure-cli',
    },
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
      version: pinOf('kubectl').version,
      // dl.k8s.io is the upstream download host (cdn.dl.k8s.io was retired).
      url: 'https://dl.k8s.io/release/v{version}/bin/linux/amd64/kubectl',
      archive: 'none',
      member: 'kubectl',
      binary: 'kubectl',
      verify: {
        ...pinnedHash('kubectl'),
        // The upstream's per-binary checksum file, fetched at build time.
        checksumFile: { url: 'https://dl.k8s.io/release/v{version}/bin/linux/amd64/kubectl.sha256' },
      },
      versionCommand: 'kubectl version --client',
      feed: { type: 'kubernetes' },
    },
    {
      kind: 'download',
      id: 'kubelogin',
      displayName: 'kubelogin (Azure)',
      enabled: true,
      version: pinOf('kubelogin').version,
      url: 'https://github.com/Azure/kubelogin/releases/download/v{version}/kubelogin-linux-amd64.zip',
      archive: 'zip',
      member: 'bin/linux_amd64/kubelogin',
      binary: 'kubelogin',
      verify: {
        ...pinnedHash('kubelogin'),
        // Per-asset .sha256 files are published since Azure/kubelogin#73.
        checksumFile: {
          url: 'https://github.com/Azure/kubelogin/releases/download/v{version}/kubelogin-linux-amd64.zip.sha256',
        },
      },
      versionCommand: 'kubelogin --version',
      feed: { type: 'github', repo: 'Azure/kubelogin' },
    },
    {
      kind: 'download',
      id: 'helm',
      displayName: 'Helm',
      enabled: true,
      version: pinOf('helm').version,
      url: 'https://get.helm.sh/helm-v{version}-linux-amd64.tar.gz',
      archive: 'tar.gz',
      member: 'linux-amd64/helm',
      binary: 'helm',
      verify: {
        ...pinnedHash('helm'),
        checksumFile: { url: 'https://get.helm.sh/helm-v{version}-linux-amd64.tar.gz.sha256sum' },
      },
      versionCommand: 'helm version --short',
      // Helm 4 changes the CLI: the image stays on the Helm 3 line until it is moved on purpose.
      feed: { type: 'github', repo: 'helm/helm', track: '3' },
    },
    {
      kind: 'download',
      id: 'flux',
      displayName: 'Flux CLI',
      enabled: true,
      version: pinOf('flux').version,
      url: 'https://github.com/fluxcd/flux2/releases/download/v{version}/flux_{version}_linux_amd64.tar.gz',
      archive: 'tar.gz',
      member: 'flux',
      binary: 'flux',
      verify: {
        ...pinnedHash('flux'),
        checksumFile: {
          url: 'https://github.com/fluxcd/flux2/releases/download/v{version}/flux_{version}_checksums.txt',
        },
      },
      versionCommand: 'flux version --client',
      feed: { type: 'github', repo: 'fluxcd/flux2' },
    },
    {
      kind: 'download',
      id: 'azwi',
      displayName: 'Azure AD Workload Identity CLI (azwi)',
      enabled: true,
      version: pinOf('azwi').version,
      url: 'https://github.com/Azure/azure-workload-identity/releases/download/v{version}/azwi-v{version}-linux-amd64.tar.gz',
      archive: 'tar.gz',
      member: 'azwi',
      binary: 'azwi',
      verify: {
        ...pinnedHash('azwi'),
        // goreleaser writes sha256sums.txt (checksum.name_template in the repository's .goreleaser.yml).
        checksumFile: {
          url: 'https://github.com/Azure/azure-workload-identity/releases/download/v{version}/sha256sums.txt',
        },
      },
      versionCommand: 'azwi version',
      feed: { type: 'github', repo: 'Azure/azure-workload-identity' },
    },
    {
      kind: 'download',
      id: 'terraform',
      displayName: 'Terraform',
      enabled: true,
      version: pinOf('terraform').version,
      url: 'https://releases.hashicorp.com/terraform/{version}/terraform_{version}_linux_amd64.zip',
      archive: 'zip',
      member: 'terraform',
      binary: 'terraform',
      verify: {
        ...pinnedHash('terraform'),
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
      feed: { type: 'hashicorp', product: 'terraform' },
    },
    {
      kind: 'download',
      id: 'osm',
      displayName: 'Open Service Mesh CLI',
      enabled: false,
      note: 'Open Service Mesh is archived upstream; kept optional and off by default.',
      version: pinOf('osm').version,
      url: 'https://github.com/openservicemesh/osm/releases/download/v{version}/osm-v{version}-linux-amd64.tar.gz',
      archive: 'tar.gz',
      member: 'linux-amd64/osm',
      binary: 'osm',
      verify: {
        ...pinnedHash('osm'),
        // Checksum file name not confirmed (fail-closed if absent).
        checksumFile: {
          url: 'https://github.com/openservicemesh/osm/releases/download/v{version}/sha256sums.txt',
        },
      },
      versionCommand: 'osm version',
      feed: { type: 'github', repo: 'openservicemesh/osm' },
    },
  ],
  scanner: {
    tool: {
      kind: 'download',
      id: 'trivy',
      displayName: 'Trivy (vulnerability scanner and SBOM generator; not left in the image)',
      enabled: true,
      version: pinOf('trivy').version,
      url: 'https://github.com/aquasecurity/trivy/releases/download/v{version}/trivy_{version}_Linux-64bit.tar.gz',
      archive: 'tar.gz',
      member: 'trivy',
      binary: 'trivy',
      verify: {
        ...pinnedHash('trivy'),
        checksumFile: {
          url: 'https://github.com/aquasecurity/trivy/releases/download/v{version}/trivy_{version}_checksums.txt',
        },
      },
      versionCommand: 'trivy --version',
      feed: { type: 'github', repo: 'aquasecurity/trivy' },
    },
    // Trivy's default database repositories (mirror.gcr.io first, ghcr.io as fallback; ghcr.io serves blobs
    // from pkg-containers.githubusercontent.com).
    dbHosts: ['mirror.gcr.io', 'ghcr.io', 'pkg-containers.githubusercontent.com'],
  },
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
    /** kubectl only: the clusters' Kubernetes minor ("1.35") when it is not the default; kubectl must be within the supported skew. */
    kubernetesMinor: z
      .string()
      .regex(/^\d+\.\d+$/, 'must be a Kubernetes minor such as "1.36"')
      .optional(),
  })
  .strict();

export type ToolOverride = z.infer<typeof toolOverrideSchema>;

/**
 * A tool a definition adds (`tools.<new id>` with a `url`): downloaded, verified (a pinned sha256 and/or the
 * upstream's checksum file, optionally signed), installed as `${prefix}/bin/<binary>` and version-checked in the
 * VM, exactly like the built-in downloads. No source change is needed.
 */
export const addedToolSchema = z
  .object({
    displayName: z.string().min(1).optional(),
    enabled: z.boolean().optional(),
    version,
    url: httpsTemplate,
    archive: z.enum(['none', 'tar.gz', 'zip']).optional(),
    member: z.string().optional(),
    binary: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a plain command name'),
    sha256: z.string().regex(SHA256, 'must be 64 lower-case hex characters').optional(),
    sha256Source: z.string().optional(),
    checksumUrl: httpsTemplate.optional(),
    signature: signatureSchema.optional(),
    versionCommand,
    feed: releaseFeedSchema.optional(),
  })
  .strict();

export type AddedTool = z.infer<typeof addedToolSchema>;
/** What a definition's `tools.<id>` holds: an override of a built-in tool, or (with `url`) an added tool. */
export type ToolEntry = ToolOverride | AddedTool;

export function isAddedTool(entry: ToolEntry): entry is AddedTool {
  return 'url' in entry && entry.url !== undefined;
}

/** An added tool as a manifest download (validated by the manifest schema afterwards). */
export function addedToDownload(id: string, t: AddedTool): DownloadTool {
  return {
    kind: 'download',
    id,
    displayName: t.displayName ?? id,
    enabled: t.enabled ?? true,
    version: t.version,
    url: t.url,
    archive: t.archive ?? 'none',
    member: t.member ?? t.binary,
    binary: t.binary,
    verify: {
      ...(t.sha256
        ? {
            pinned: {
              version: t.version,
              sha256: t.sha256,
              source: t.sha256Source ?? 'pinned by the image definition',
            },
          }
        : {}),
      ...(t.checksumUrl ? { checksumFile: { url: t.checksumUrl } } : {}),
      ...(t.signature ? { signature: t.signature } : {}),
    },
    versionCommand: t.versionCommand,
    ...(t.feed ? { feed: t.feed } : {}),
    note: 'added by the image definition',
  };
}

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
  entries: Readonly<Record<string, ToolEntry>> = {},
  base: ToolsManifest = DEFAULT_TOOLS_MANIFEST,
): ToolsManifest {
  const known = (id: string) => (TOOL_IDS as readonly string[]).includes(id) || id === base.scanner.tool.id;
  const overrides: Record<string, ToolOverride> = {};
  const added: DownloadTool[] = [];
  const problems: string[] = [];
  for (const [id, entry] of Object.entries(entries)) {
    if (isAddedTool(entry)) {
      if (known(id))
        problems.push(`${id}: a built-in tool cannot be redefined; override its version or sha256`);
      else if (entry.sha256 === undefined && entry.checksumUrl === undefined)
        problems.push(
          `${id}: an added tool must be verifiable: give sha256 (the published value, with sha256Source) or checksumUrl (the upstream's checksum file)`,
        );
      else if (entry.signature !== undefined && entry.checksumUrl === undefined)
        problems.push(`${id}.signature: a signature signs the checksum file: set checksumUrl too`);
      else added.push(addedToDownload(id, entry));
    } else if (!known(id) || id === base.scanner.tool.id) {
      problems.push(
        id === base.scanner.tool.id
          ? `${id}: the scanner is pinned in the tools manifest, not per definition`
          : `unknown tool "${id}"; known tools: ${TOOL_IDS.join(', ')}; to add a tool give url, version, binary, versionCommand and sha256 or checksumUrl`,
      );
    } else overrides[id] = entry as ToolOverride;
  }
  for (const [id, o] of Object.entries(overrides)) {
    if (o.kubernetesMinor !== undefined && id !== 'kubectl')
      problems.push(`${id}.kubernetesMinor: only kubectl follows the clusters' Kubernetes minor; remove it`);
  }
  const kubectlOverride = overrides.kubectl;
  if (kubectlOverride) {
    const minor = kubectlOverride.kubernetesMinor ?? TOOL_PINS.kubernetesMinor;
    const kubectl = base.downloads.find((d) => d.id === 'kubectl');
    if (kubectlOverride.kubernetesMinor !== undefined && kubectlOverride.version === undefined) {
      problems.push(
        `kubectl.version: kubernetesMinor ${minor} is set, so pin a ${minor}.x kubectl too (dl.k8s.io/release/stable-${minor}.txt names the newest)`,
      );
    } else if (kubectl) {
      const problem = kubectlSkewProblem(kubectlOverride.version ?? kubectl.version, minor);
      if (problem) problems.push(`kubectl.version: ${problem}`);
    }
  }
  if (problems.length > 0) throw new ManifestError(problems.join('; '));
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
    downloads: [
      ...base.downloads.map((d) => {
        const o = overrides[d.id];
        return o ? applyDownloadOverride(d, o) : d;
      }),
      ...added,
    ],
    scanner: base.scanner,
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
