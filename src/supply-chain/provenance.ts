/**
 * The provenance record of a build: what went into the image and where it came from. Assembled by the
 * app after the run (not by the build VM) from what the app submitted — the definition's source, the
 * template name and its full content hash, the customizer scripts' SHA-256 — and from what the VM verified
 * and reported: tools.lock (each tool's version, the SHA-256 of the artifact it downloaded and checked,
 * its source URL), printed by the scan step into customization.log. docs/provenance.md shows an example.
 */
import { sha256Hex } from '../image/canonical-json.js';
import { customizerScripts, validationScripts } from '../image/customizer-scripts.js';
import { gateOf, type ImageDefinition, isGallerySource, manifestOf } from '../image/definition.js';
import { enabledDownloads, expand, manifestHash, pinnedSha256 } from '../image/tools-manifest.js';
import type { SeverityCounts } from './gate.js';

export const PROVENANCE_SCHEMA = 'jumpbox-provenance/v1';

export interface ProvenanceTool {
  readonly id: string;
  readonly version: string;
  /** SHA-256 of the downloaded artifact as the build VM verified it (tools.lock), else the pinned one. */
  readonly sha256: string | null;
  readonly source: string;
  /** How the download was verified before installation. */
  readonly verifiedBy: readonly string[];
  /** Whether the VM's tools.lock reported this tool (false: taken from the manifest only). */
  readonly reportedByVm: boolean;
}

export interface ProvenanceRecord {
  readonly schema: typeof PROVENANCE_SCHEMA;
  readonly buildId: string;
  readonly definition: string;
  readonly result: string;
  readonly times: {
    readonly requestedAt: string;
    readonly runStartedAt?: string | undefined;
    readonly runEndedAt?: string | undefined;
    readonly recordedAt: string;
  };
  readonly source: {
    readonly type: 'PlatformImage' | 'SharedImageVersion';
    /** publisher:offer:sku, or the gallery image id. */
    readonly image: string;
    readonly version: string;
  };
  readonly template: {
    readonly name: string;
    /** SHA-256 of the canonical JSON of the submitted body (the name's suffix is its first 12 hex). */
    readonly contentHash: string;
    readonly manifestHash: string;
  };
  readonly scripts: readonly {
    readonly name: string;
    readonly phase: 'customize' | 'validate';
    readonly sha256: string;
  }[];
  readonly tools: readonly ProvenanceTool[];
  readonly scanner: { readonly id: string; readonly version: string; readonly source: string } | null;
  readonly vulnerabilityGate: {
    readonly failOn: string;
    readonly allowlist: readonly { readonly id: string; readonly expires: string }[];
    readonly counts?: SeverityCounts | undefined;
    readonly blocking?: readonly string[] | undefined;
  };
  /** SHA-256 of the other artifacts of the build (as extracted from customization.log). */
  readonly artifacts: { readonly sbom?: string | undefined; readonly vulnerabilities?: string | undefined };
  readonly image?: string | undefined;
}

export interface LockLine {
  readonly id: string;
  readonly version: string;
  readonly sha256: string | null;
  readonly source: string;
}

/** tools.lock: `id<TAB>version<TAB>sha256 or -<TAB>source` per line (written by the install script). */
export function parseToolsLock(text: string): LockLine[] {
  const out: LockLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const [id, version, sha, source] = line.split('\t');
    if (!id || !version || sha === undefined || source === undefined) continue;
    out.push({ id, version, sha256: /^[0-9a-f]{64}$/.test(sha) ? sha : null, source });
  }
  return out;
}

export interface ProvenanceInput {
  readonly definition: ImageDefinition;
  readonly buildId: string;
  readonly result: string;
  readonly requestedAt: string;
  readonly runStartedAt?: string | undefined;
  readonly runEndedAt?: string | undefined;
  readonly recordedAt: string;
  readonly sourceVersion: string;
  readonly templateName: string;
  readonly templateContentHash: string;
  readonly toolsLock?: string | undefined;
  readonly counts?: SeverityCounts | undefined;
  readonly blocking?: readonly string[] | undefined;
  readonly sbomSha256?: string | undefined;
  readonly vulnerabilitiesSha256?: string | undefined;
  readonly imageId?: string | undefined;
}

export function buildProvenance(i: ProvenanceInput): ProvenanceRecord {
  const def = i.definition;
  const manifest = manifestOf(def);
  const gate = gateOf(def);
  const lock = new Map(parseToolsLock(i.toolsLock ?? '').map((l) => [l.id, l]));
  const tools: ProvenanceTool[] = [];
  const cli = manifest.azureCli;
  if (cli.enabled) {
    const l = lock.get(cli.id);
    tools.push({
      id: cli.id,
      version: l?.version ?? cli.version,
      sha256: null,
      source: `apt:${cli.repository.url}`,
      verifiedBy: [`apt repository signed by the Microsoft key (sha256 ${cli.repository.keySha256})`],
      reportedByVm: l !== undefined,
    });
  }
  const ext = manifest.aksPreview;
  if (cli.enabled && ext.enabled && ext.version) {
    tools.push({
      id: ext.id,
      version: ext.version,
      sha256: null,
      source: 'az extension index (aks-preview)',
      verifiedBy: ['digest in the Azure CLI extension index'],
      reportedByVm: false,
    });
  }
  for (const d of enabledDownloads(manifest)) {
    const l = lock.get(d.id);
    const verifiedBy = [
      ...(d.verify.signature ? [`signature ${d.verify.signature.keyFingerprint}`] : []),
      ...(d.verify.checksumFile ? [`checksum file ${expand(d.verify.checksumFile.url, d.version)}`] : []),
      ...(pinnedSha256(d) ? ['pinned sha256'] : []),
    ];
    tools.push({
      id: d.id,
      version: l?.version ?? d.version,
      sha256: l?.sha256 ?? pinnedSha256(d) ?? null,
      source: l?.source ?? expand(d.url, d.version),
      verifiedBy,
      reportedByVm: l !== undefined,
    });
  }
  const scripts = [
    ...customizerScripts(manifest, gate).map((s) => ({
      name: s.name,
      phase: 'customize' as const,
      sha256: sha256Hex(s.content),
    })),
    ...validationScripts(manifest).map((s) => ({
      name: s.name,
      phase: 'validate' as const,
      sha256: sha256Hex(s.content),
    })),
  ];
  const src = def.source;
  const scanner = manifest.scanner.tool;
  return {
    schema: PROVENANCE_SCHEMA,
    buildId: i.buildId,
    definition: def.name,
    result: i.result,
    times: {
      requestedAt: i.requestedAt,
      runStartedAt: i.runStartedAt,
      runEndedAt: i.runEndedAt,
      recordedAt: i.recordedAt,
    },
    source: isGallerySource(src)
      ? { type: 'SharedImageVersion', image: src.galleryImageId, version: i.sourceVersion }
      : {
          type: 'PlatformImage',
          image: `${src.publisher}:${src.offer}:${src.sku}`,
          version: i.sourceVersion,
        },
    template: {
      name: i.templateName,
      contentHash: i.templateContentHash,
      manifestHash: manifestHash(manifest),
    },
    scripts,
    tools,
    scanner:
      gate.enabled && scanner.enabled
        ? { id: scanner.id, version: scanner.version, source: expand(scanner.url, scanner.version) }
        : null,
    vulnerabilityGate: {
      failOn: gate.failOn,
      allowlist: gate.allowlist.map((e) => ({ id: e.id, expires: e.expires })),
      ...(i.counts ? { counts: i.counts } : {}),
      ...(i.blocking ? { blocking: i.blocking } : {}),
    },
    artifacts: { sbom: i.sbomSha256, vulnerabilities: i.vulnerabilitiesSha256 },
    ...(i.imageId ? { image: i.imageId } : {}),
  };
}

/** Readable lines of a provenance record (the CLI's `provenance` command). */
export function formatProvenance(p: ProvenanceRecord): string {
  const lines = [
    `build       ${p.buildId} (${p.definition}): ${p.result}`,
    `requested   ${p.times.requestedAt}`,
    ...(p.times.runStartedAt ? [`run         ${p.times.runStartedAt} → ${p.times.runEndedAt ?? '?'}`] : []),
    ...(p.image ? [`image       ${p.image}`] : []),
    `source      ${p.source.type} ${p.source.image} version ${p.source.version}`,
    `template    ${p.template.name}`,
    `            content sha256 ${p.template.contentHash}`,
    `            manifest sha256 ${p.template.manifestHash}`,
    'scripts',
    ...p.scripts.map((s) => `  ${s.name.padEnd(24)} ${s.phase.padEnd(9)} sha256 ${s.sha256}`),
    'tools',
    ...p.tools.map(
      (t) =>
        `  ${t.id.padEnd(14)} ${t.version.padEnd(12)} ${t.sha256 ? `sha256 ${t.sha256}` : '(apt/extension index)'}\n` +
        `  ${''.padEnd(14)} from ${t.source}${t.verifiedBy.length ? `\n  ${''.padEnd(14)} verified by ${t.verifiedBy.join('; ')}` : ''}${t.reportedByVm ? '' : '\n                 (not in the VM tools.lock: from the manifest)'}`,
    ),
    ...(p.scanner
      ? [`scanner     ${p.scanner.id} ${p.scanner.version} (${p.scanner.source})`]
      : ['scanner     none']),
    `gate        fails on ${p.vulnerabilityGate.failOn} and above with a fix; allowlist: ${
      p.vulnerabilityGate.allowlist.map((e) => `${e.id} until ${e.expires}`).join(', ') || 'empty'
    }`,
  ];
  const c = p.vulnerabilityGate.counts;
  if (c)
    lines.push(
      `findings    critical ${c.critical}, high ${c.high}, medium ${c.medium}, low ${c.low}, unknown ${c.unknown}`,
    );
  for (const b of p.vulnerabilityGate.blocking ?? []) lines.push(`  blocking  ${b}`);
  if (p.artifacts.sbom) lines.push(`sbom        sha256 ${p.artifacts.sbom}`);
  if (p.artifacts.vulnerabilities) lines.push(`report      sha256 ${p.artifacts.vulnerabilities}`);
  return `${lines.join('\n')}\n`;
}
