/**
 * After log archival: reads the archived customization.log (streamed; it can be large), extracts what the
 * scan step printed between markers (SBOM, vulnerability report, tools.lock; src/supply-chain/artifacts.ts),
 * writes `sbom.cdx.json`, `vulnerabilities.json` and `provenance.json` beside the logs, re-applies the gate
 * to the report for the counts and the blocking findings, and names the finding when the gate stopped the
 * build. Idempotent: a retry overwrites the same blobs with the same content.
 */
import { createHash } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import { contentHash } from '../../image/canonical-json.js';
import { gateOf } from '../../image/definition.js';
import type { BuildFailure } from '../../orchestration/build-failure.js';
import type { VulnerabilityCounts } from '../../orchestration/contracts.js';
import { type ExtractedArtifact, extractArtifactsFromStream } from '../../supply-chain/artifacts.js';
import { describeFinding, evaluateGate, type ScanReport } from '../../supply-chain/gate.js';
import { buildProvenance } from '../../supply-chain/provenance.js';
import { type ActivityDeps, definitionOf } from '../deps.js';
import { templateBodyFor } from '../template/deploy-template.js';

export const VULNERABILITY_GATE_FAILED = 'VulnerabilityGateFailed';

export const SUPPLY_CHAIN_FILES = {
  sbom: 'sbom.cdx.json',
  vulnerabilities: 'vulnerabilities.json',
  provenance: 'provenance.json',
} as const;

export interface CollectSupplyChainInput {
  readonly definition: string;
  readonly buildId: string;
  readonly requestedAt: string;
  readonly templateName: string;
  readonly sourceVersion: string;
  readonly builderIdentityId: string;
  /** The run's result so far (Succeeded, Failed, Canceled, TimedOut). */
  readonly result: string;
  readonly imageId?: string | undefined;
  readonly runStartedAt?: string | undefined;
  readonly runEndedAt?: string | undefined;
  /** Orchestration time of the call: the gate's allowlist expiry is judged at this instant. */
  readonly at: string;
}

export interface SupplyChainResult {
  /** Archived CycloneDX SBOM (blob URL, no SAS) and the SHA-256 of the bytes written. */
  readonly sbom?: string | undefined;
  readonly sbomSha256?: string | undefined;
  /** Archived provenance record (blob URL, no SAS) and the SHA-256 of its bytes. */
  readonly provenance?: string | undefined;
  readonly provenanceSha256?: string | undefined;
  readonly vulnerabilities?: VulnerabilityCounts | undefined;
  /** SHA-256 of the archived vulnerability report's bytes (when it was archived). */
  readonly vulnerabilitiesSha256?: string | undefined;
  /** Set when the scan step failed the build on the gate. */
  readonly failure?: BuildFailure | undefined;
  /** What could not be read from the log (missing blocks, hash mismatches). */
  readonly problems: readonly string[];
}

type Deps = Pick<ActivityDeps, 'config' | 'clients' | 'log'>;

function archiveOf(deps: Deps): ContainerClient {
  return deps.clients
    .blobService(deps.config.archive.accountUrl)
    .getContainerClient(deps.config.archive.container);
}

async function put(
  archive: ContainerClient,
  path: string,
  content: Buffer,
  contentType: string,
  metadata: Record<string, string>,
): Promise<string> {
  const blob = archive.getBlockBlobClient(path);
  await blob.uploadData(content, { blobHTTPHeaders: { blobContentType: contentType }, metadata });
  return blob.url;
}

function parseReport(a: ExtractedArtifact | undefined, problems: string[]): ScanReport | undefined {
  if (!a) return undefined;
  try {
    return JSON.parse(a.content.toString('utf8')) as ScanReport;
  } catch (e) {
    problems.push(`vulnerabilities: not JSON (${(e as Error).message})`);
    return undefined;
  }
}

/** At most MAX_LISTED findings in the record (a Table property holds 64 KiB); the report has them all. */
export const MAX_LISTED = 50;
function capped(list: readonly string[]): string[] {
  return list.length <= MAX_LISTED
    ? [...list]
    : [...list.slice(0, MAX_LISTED), `… and ${list.length - MAX_LISTED} more in the report`];
}

export async function collectSupplyChain(
  deps: Deps,
  input: CollectSupplyChainInput,
): Promise<SupplyChainResult> {
  const def = definitionOf(deps.config, input.definition);
  const archive = archiveOf(deps);
  const folder = `${input.definition}/${input.buildId}`;
  const logBlob = archive.getBlobClient(`${folder}/customization.log`);
  const problems: string[] = [];
  let extraction: Awaited<ReturnType<typeof extractArtifactsFromStream>> | undefined;
  if (await logBlob.exists()) {
    const download = await logBlob.download();
    if (!download.readableStreamBody) throw new Error(`${logBlob.url}: the download has no body`);
    extraction = await extractArtifactsFromStream(download.readableStreamBody);
    problems.push(...extraction.problems);
  } else {
    problems.push('no archived customization.log (the run left no log)');
  }
  const found = extraction?.artifacts ?? {};
  const metadata = { definition: input.definition, buildid: input.buildId, template: input.templateName };
  const gate = gateOf(def);
  const report = parseReport(found.vulnerabilities, problems);
  const verdict = report ? evaluateGate(report, gate, new Date(input.at)) : undefined;

  const sbom = found.sbom
    ? await put(
        archive,
        `${folder}/${SUPPLY_CHAIN_FILES.sbom}`,
        found.sbom.content,
        'application/vnd.cyclonedx+json',
        metadata,
      )
    : undefined;
  const reportUrl = found.vulnerabilities
    ? await put(
        archive,
        `${folder}/${SUPPLY_CHAIN_FILES.vulnerabilities}`,
        found.vulnerabilities.content,
        'application/json',
        metadata,
      )
    : undefined;
  if (extraction?.scanRan && !found.sbom) problems.push('sbom: the scan step ran but printed no SBOM');

  const body = templateBodyFor(deps, {
    definition: input.definition,
    buildId: input.buildId,
    sourceVersion: input.sourceVersion,
    builderIdentityId: input.builderIdentityId,
  });
  const blocking = verdict?.blocking.map(describeFinding);
  const provenance = buildProvenance({
    definition: def,
    buildId: input.buildId,
    result: input.result,
    requestedAt: input.requestedAt,
    runStartedAt: input.runStartedAt,
    runEndedAt: input.runEndedAt,
    recordedAt: input.at,
    sourceVersion: input.sourceVersion,
    templateName: input.templateName,
    templateContentHash: contentHash(body),
    toolsLock: found.tools?.content.toString('utf8'),
    counts: verdict?.counts,
    blocking,
    sbomSha256: found.sbom?.sha256,
    vulnerabilitiesSha256: found.vulnerabilities?.sha256,
    imageId: input.imageId,
  });
  const provenanceBytes = Buffer.from(`${JSON.stringify(provenance, null, 2)}\n`, 'utf8');
  const provenanceUrl = await put(
    archive,
    `${folder}/${SUPPLY_CHAIN_FILES.provenance}`,
    provenanceBytes,
    'application/json',
    metadata,
  );
  const provenanceSha256 = createHash('sha256').update(provenanceBytes).digest('hex');

  let failure: SupplyChainResult['failure'];
  if (extraction?.gateFailed && input.result !== 'Succeeded') {
    const named = blocking && blocking.length > 0;
    failure = {
      code: VULNERABILITY_GATE_FAILED,
      message: `the vulnerability gate stopped the build: ${
        named
          ? `${blocking.slice(0, 3).join('; ')}${blocking.length > 3 ? ` and ${blocking.length - 3} more` : ''}`
          : `${gate.failOn} or higher findings with a fix available (see the report)`
      }. Fix: rebuild once the base image or the tool ships the fixed version (the monthly rebuild picks up OS updates), or accept the finding for a while with an allowlist entry that expires (vulnerabilityGate.allowlist in IMAGE_DEFINITIONS). Report: ${reportUrl ?? 'not archived'}`,
    };
  }
  deps.log(
    `supply chain of ${input.buildId}: sbom ${sbom ? 'archived' : 'missing'}, report ${reportUrl ? 'archived' : 'missing'}, provenance archived${
      verdict ? `; findings ${JSON.stringify(verdict.counts)}, ${verdict.blocking.length} blocking` : ''
    }${problems.length ? `; problems: ${problems.join('; ')}` : ''}`,
  );
  return {
    sbom,
    sbomSha256: sbom ? found.sbom?.sha256 : undefined,
    provenance: provenanceUrl,
    provenanceSha256,
    vulnerabilitiesSha256: reportUrl ? found.vulnerabilities?.sha256 : undefined,
    vulnerabilities:
      verdict && reportUrl
        ? { ...verdict.counts, blocking: capped(blocking ?? []), report: reportUrl }
        : undefined,
    failure,
    problems,
  };
}
