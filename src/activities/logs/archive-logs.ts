/**
 * Log archival: server-side copies of Image Builder's `packerlogs/<run-guid>/{customization,validation}.log`
 * from the staging storage account into the archive container, with metadata. The copy is Put Block From
 * URL in ranges + Put Block List: the bytes never pass through this process, and the source is read
 * with the app's own Entra ID token (x-ms-copy-source-authorization), no SAS, no keys.
 */
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import type { AzureClients } from '../../azure/clients.js';
import type { ActivityDeps } from '../deps.js';
import { findStagingAccount } from './staging-account.js';

export const LOG_CONTAINER = 'packerlogs';
export const LOG_FILES = ['customization.log', 'validation.log'] as const;
const STORAGE_SCOPE = 'https://storage.azure.com/.default';
/**
 * Bytes per staged block. A staged block may hold up to 4000 MiB (x-ms-version 2019-12-12 and later; the
 * blob SDK's BLOCK_BLOB_MAX_STAGE_BLOCK_BYTES, and the service refuses a larger copy source range with
 * "exceeds the maximum permissible limit (4000MB)", Azure/ansible-collections#1580); a blob holds at most
 * 50,000 blocks. 100 MiB keeps each call short enough to retry and gives a 1 GB log ten blocks to stage
 * side by side.
 */
export const COPY_BLOCK_BYTES = 100 * 1024 * 1024;
/** Put Block From URL calls in flight at once (each is server-side: no bytes pass through this process). */
export const COPY_BLOCKS_IN_FLIGHT = 4;

export interface RunLogFolder {
  readonly runGuid: string;
  readonly files: readonly { readonly name: string; readonly size: number; readonly lastModified: number }[];
  readonly lastModified: number;
}

/** Run folders in a staging account's packerlogs container, newest first. */
export async function listRunFolders(staging: ContainerClient): Promise<RunLogFolder[]> {
  if (!(await staging.exists())) return [];
  const byRun = new Map<string, { name: string; size: number; lastModified: number }[]>();
  for await (const b of staging.listBlobsFlat()) {
    const slash = b.name.indexOf('/');
    if (slash <= 0) continue;
    const run = b.name.slice(0, slash);
    const file = b.name.slice(slash + 1);
    if (!(LOG_FILES as readonly string[]).includes(file)) continue;
    const list = byRun.get(run) ?? [];
    list.push({
      name: file,
      size: b.properties.contentLength ?? 0,
      lastModified: b.properties.lastModified.getTime(),
    });
    byRun.set(run, list);
  }
  return [...byRun.entries()]
    .map(([runGuid, files]) => ({
      runGuid,
      files,
      lastModified: Math.max(...files.map((f) => f.lastModified)),
    }))
    .sort((a, b) => b.lastModified - a.lastModified || (a.runGuid < b.runGuid ? -1 : 1));
}

/** The byte ranges a blob of `size` bytes is staged in (none for an empty blob). */
export function copyRanges(
  size: number,
  blockBytes = COPY_BLOCK_BYTES,
): { id: string; offset: number; count: number }[] {
  const ranges: { id: string; offset: number; count: number }[] = [];
  for (let offset = 0, i = 0; offset < size; offset += blockBytes, i++) {
    ranges.push({
      id: Buffer.from(`block-${String(i).padStart(6, '0')}`).toString('base64'),
      offset,
      count: Math.min(blockBytes, size - offset),
    });
  }
  return ranges;
}

/**
 * Copies one blob server-side: Put Block From URL for each 100 MiB range, `COPY_BLOCKS_IN_FLIGHT` at a
 * time, then Put Block List in range order (the order of the list, not of staging, makes the blob).
 * Returns the destination URL.
 */
export async function copyBlobServerSide(
  clients: Pick<AzureClients, 'credential'>,
  sourceUrl: string,
  size: number,
  destination: ReturnType<ContainerClient['getBlockBlobClient']>,
  metadata: Record<string, string>,
): Promise<string> {
  const token = await clients.credential.getToken(STORAGE_SCOPE);
  const sourceAuthorization = token ? { scheme: 'Bearer', value: token.token } : undefined;
  const ranges = copyRanges(size);
  let next = 0;
  const worker = async () => {
    while (next < ranges.length) {
      const r = ranges[next++]!;
      await destination.stageBlockFromURL(r.id, sourceUrl, r.offset, r.count, {
        ...(sourceAuthorization ? { sourceAuthorization } : {}),
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(COPY_BLOCKS_IN_FLIGHT, ranges.length) }, worker));
  await destination.commitBlockList(
    ranges.map((r) => r.id),
    { metadata, blobHTTPHeaders: { blobContentType: 'text/plain; charset=utf-8' } },
  );
  return destination.url;
}

/**
 * Run guids already archived for a definition by other builds (read from the archive's metadata). Runs
 * archived under `ownFolder` do not count: an archive step that ran again (its host died after copying,
 * before its result was saved) copies its own run again and returns its URLs, instead of "nothing new".
 */
async function archivedRunGuids(
  archive: ContainerClient,
  definition: string,
  ownFolder: string,
): Promise<Set<string>> {
  const seen = new Set<string>();
  if (!(await archive.exists())) return seen;
  for await (const b of archive.listBlobsFlat({ prefix: `${definition}/`, includeMetadata: true })) {
    const g = b.metadata?.runguid;
    if (g && !b.name.startsWith(`${definition}/${ownFolder}/`)) seen.add(g);
  }
  return seen;
}

export interface ArchiveRunLogsInput {
  readonly definition: string;
  readonly buildId: string;
  readonly templateName: string;
  /** Resource id of the template's staging resource group. */
  readonly stagingResourceGroupId: string;
  readonly runState: string;
  /** `<definition>/<folder>/` under the archive container; default the build id. */
  readonly folder?: string | undefined;
  /** Archive every run folder not archived yet (superseded templates), instead of the newest one only. */
  readonly allRuns?: boolean | undefined;
  /** Blob endpoint named in the run's log URL (picks the log account among several). */
  readonly logAccountEndpoint?: string | undefined;
  /**
   * The template exists, so its staging resource group must too (Image Builder deletes the group only
   * with the template): a 404 on it is then a failure to archive (the logs stay in staging), not "no logs".
   */
  readonly templateExists?: boolean | undefined;
}

export interface ArchiveResult {
  /** Archive blob URLs (no SAS). */
  readonly logs: string[];
  readonly runGuids: string[];
  /** Why nothing was archived, when nothing was. */
  readonly note?: string | undefined;
}

function archiveContainer(deps: Pick<ActivityDeps, 'config' | 'clients'>): ContainerClient {
  const service: BlobServiceClient = deps.clients.blobService(deps.config.archive.accountUrl);
  return service.getContainerClient(deps.config.archive.container);
}

/**
 * Archives the newest run's logs (not archived before) of a template to `<definition>/<build-id>/`.
 * A run that produced no logs (failed before the Packer VM started) archives nothing.
 */
export async function archiveRunLogs(
  deps: Pick<ActivityDeps, 'config' | 'clients' | 'log'>,
  input: ArchiveRunLogsInput,
): Promise<ArchiveResult> {
  const staging = await findStagingAccount(
    deps.clients,
    input.stagingResourceGroupId,
    input.logAccountEndpoint,
    { notFound: input.templateExists ? 'throw' : 'undefined' },
  );
  if (!staging)
    return { logs: [], runGuids: [], note: `no staging storage account in ${input.stagingResourceGroupId}` };
  const source = deps.clients.blobService(staging.blobEndpoint).getContainerClient(LOG_CONTAINER);
  const archive = archiveContainer(deps);
  await archive.createIfNotExists();
  const folder = input.folder ?? input.buildId;
  const done = await archivedRunGuids(archive, input.definition, folder);
  const folders = (await listRunFolders(source)).filter((f) => !done.has(f.runGuid));
  const chosen = input.allRuns ? folders : folders.slice(0, 1);
  if (chosen.length === 0)
    return { logs: [], runGuids: [], note: 'the run left no logs that were not archived yet' };
  const logs: string[] = [];
  for (const run of chosen) {
    for (const f of run.files) {
      const target = input.allRuns
        ? `${input.definition}/${folder}/${run.runGuid}/${f.name}`
        : `${input.definition}/${folder}/${f.name}`;
      const url = await copyBlobServerSide(
        deps.clients,
        source.getBlockBlobClient(`${run.runGuid}/${f.name}`).url,
        f.size,
        archive.getBlockBlobClient(target),
        {
          definition: input.definition,
          buildid: input.buildId,
          template: input.templateName,
          runstate: input.runState,
          runguid: run.runGuid,
          stagingaccount: staging.name,
        },
      );
      logs.push(url);
    }
  }
  deps.log(
    `archived ${logs.length} log(s) of ${input.templateName} to ${deps.config.archive.container}/${input.definition}/${folder}/`,
  );
  return { logs, runGuids: chosen.map((c) => c.runGuid) };
}

/** Where a build's logs go (for the custom status before they exist). */
export function archiveLocation(
  deps: Pick<ActivityDeps, 'config'>,
  definition: string,
  buildId: string,
): string {
  return `${deps.config.archive.accountUrl}/${deps.config.archive.container}/${definition}/${buildId}/`;
}
