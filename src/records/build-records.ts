/**
 * The build record store: one Table-storage row per build.
 *
 * - partition key = image definition name;
 * - row key = inverted request time (13 digits) + '_' + build id, so a partition lists newest first;
 * - lists, arrays and maps are stored as JSON strings (Table storage has flat, typed properties).
 *
 * Identity-based access only: the TableClient comes from the client factory.
 */
import { odata, RestError, type TableClient, type TableEntityResult } from '@azure/data-tables';
import { type AzureClients, getAzureClients } from '../azure/clients.js';
import type { AppConfig } from '../config.js';
import type {
  BuildPhase,
  BuildResult,
  BuildTrigger,
  VulnerabilityCounts,
} from '../orchestration/contracts.js';
import { emitBuildTelemetry } from '../telemetry/build-telemetry.js';

/** Status of a build as stored: Queued/Running until it ends, then its result. */
export type BuildStatus = 'Queued' | 'Running' | BuildResult;

export const BUILD_STATUSES: readonly BuildStatus[] = [
  'Queued',
  'Running',
  'Succeeded',
  'Failed',
  'Canceled',
  'TimedOut',
];

export function isTerminalStatus(status: BuildStatus): boolean {
  return status !== 'Queued' && status !== 'Running';
}

export interface BuildRecord {
  readonly buildId: string;
  readonly definition: string;
  readonly trigger: BuildTrigger;
  readonly reason: string;
  readonly requestedBy: string;
  /** ISO time the request was accepted (also orders the rows). */
  readonly requestedAt: string;
  readonly status: BuildStatus;
  readonly phase?: BuildPhase | undefined;
  /** Durable instance that runs (ran) the build. */
  readonly instanceId?: string | undefined;
  readonly templateName?: string | undefined;
  /** Exact source image version the build used (e.g. 24.04.202511060). */
  readonly sourceImageVersion?: string | undefined;
  readonly runState?: string | undefined;
  readonly runSubState?: string | undefined;
  readonly imageId?: string | undefined;
  readonly logUrls: readonly string[];
  readonly error?: { readonly code: string; readonly message: string } | undefined;
  /**
   * Set when the run's logs could not be archived (code LogArchivalFailed): the reason. The build's
   * result is unchanged, and the logs stay in Image Builder's staging account with the template.
   */
  readonly logArchivalError?: { readonly code: string; readonly message: string } | undefined;
  /** ISO time each phase started, by phase name. */
  readonly phaseTimestamps: Readonly<Record<string, string>>;
  readonly startedAt?: string | undefined;
  readonly finishedAt?: string | undefined;
  /** Wall-clock (orchestration) duration in seconds, set when the build ends. */
  readonly durationSeconds?: number | undefined;
  /** Image Builder run duration (run start to end) in seconds, set for succeeded builds. */
  readonly runDurationSeconds?: number | undefined;
  /** Nothing was built: the definition was up to date (see BuildOutput.upToDate). */
  readonly upToDate?: boolean | undefined;
  /** Seconds the just-in-time Image Contributor grant existed (grant to removal). */
  readonly grantSeconds?: number | undefined;
  /** Seconds from the grant until Image Builder accepted the run (role assignment propagation). */
  readonly grantPropagationSeconds?: number | undefined;
  /** Authorization refusals while the grant was not yet effective. */
  readonly grantRefusals?: number | undefined;
  /** Image Builder status polls the build made (telemetry). */
  readonly polls?: number | undefined;
  /** Archived CycloneDX SBOM of the image (blob URL, no SAS; docs/provenance.md). */
  readonly sbom?: string | undefined;
  /** SHA-256 (hex) of the archived SBOM as the build wrote it (absent on records older than the field). */
  readonly sbomSha256?: string | undefined;
  /** Archived provenance record (blob URL, no SAS). */
  readonly provenance?: string | undefined;
  /**
   * SHA-256 (hex) of provenance.json as the build wrote it; the CLI checks the blob against it. Absent on
   * records older than the field (their blob cannot be verified from the record).
   */
  readonly provenanceSha256?: string | undefined;
  /** Vulnerability findings by severity, the ones that failed the gate, and the archived report. */
  readonly vulnerabilities?: VulnerabilityCounts | undefined;
  /** SHA-256 (hex) of the archived vulnerability report as the build wrote it. */
  readonly vulnerabilitiesSha256?: string | undefined;
}

/** What identifies a row without a lookup. */
export interface BuildRef {
  readonly buildId: string;
  readonly definition: string;
  readonly requestedAt: string;
}

/** Fields a phase update may set; phaseTimestamps and logUrls are merged into what is stored. */
export type BuildRecordPatch = Partial<Omit<BuildRecord, 'buildId' | 'definition' | 'requestedAt'>>;

export interface ListOptions {
  readonly definition?: string | undefined;
  readonly status?: BuildStatus | undefined;
  /** At most this many rows (default 50, max 1000). */
  readonly top?: number | undefined;
}

const MAX_TIME_MS = 9_999_999_999_999;

/** Row key that sorts newer requests first; ties broken by build id. */
export function rowKeyFor(ref: Pick<BuildRef, 'buildId' | 'requestedAt'>): string {
  const ms = Date.parse(ref.requestedAt);
  if (Number.isNaN(ms) || ms < 0 || ms > MAX_TIME_MS) {
    throw new RangeError(`requestedAt must be an ISO date-time, got "${ref.requestedAt}"`);
  }
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(ref.buildId)) {
    throw new RangeError(
      `buildId must be 1-200 letters, digits, '.', '_' or '-' (Table row keys forbid / \\ # ?), got "${ref.buildId}"`,
    );
  }
  return `${String(MAX_TIME_MS - ms).padStart(13, '0')}_${ref.buildId}`;
}

interface StoredEntity {
  partitionKey: string;
  rowKey: string;
  buildId: string;
  definition: string;
  trigger?: string;
  reason?: string;
  requestedBy?: string;
  requestedAt: string;
  status?: string;
  phase?: string;
  instanceId?: string;
  templateName?: string;
  sourceImageVersion?: string;
  runState?: string;
  runSubState?: string;
  imageId?: string;
  logUrlsJson?: string;
  errorCode?: string;
  errorMessage?: string;
  logArchivalErrorJson?: string;
  phaseTimestampsJson?: string;
  startedAt?: string;
  finishedAt?: string;
  durationSeconds?: number;
  runDurationSeconds?: number;
  upToDate?: boolean;
  grantSeconds?: number;
  grantPropagationSeconds?: number;
  grantRefusals?: number;
  polls?: number;
  sbom?: string;
  sbomSha256?: string;
  provenance?: string;
  provenanceSha256?: string;
  vulnerabilitiesJson?: string;
  vulnerabilitiesSha256?: string;
}

function parseJson<T>(text: string | undefined, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function fromEntity(e: TableEntityResult<StoredEntity>): BuildRecord {
  return {
    buildId: e.buildId,
    definition: e.definition,
    trigger: (e.trigger ?? 'http') as BuildTrigger,
    reason: e.reason ?? '',
    requestedBy: e.requestedBy ?? '',
    requestedAt: e.requestedAt,
    status: (e.status ?? 'Queued') as BuildStatus,
    phase: e.phase as BuildPhase | undefined,
    instanceId: e.instanceId,
    templateName: e.templateName,
    sourceImageVersion: e.sourceImageVersion,
    runState: e.runState,
    runSubState: e.runSubState,
    imageId: e.imageId,
    logUrls: parseJson<string[]>(e.logUrlsJson, []),
    error: e.errorCode !== undefined ? { code: e.errorCode, message: e.errorMessage ?? '' } : undefined,
    logArchivalError: parseJson<BuildRecord['logArchivalError']>(e.logArchivalErrorJson, undefined),
    phaseTimestamps: parseJson<Record<string, string>>(e.phaseTimestampsJson, {}),
    startedAt: e.startedAt,
    finishedAt: e.finishedAt,
    durationSeconds: e.durationSeconds,
    runDurationSeconds: e.runDurationSeconds,
    upToDate: e.upToDate,
    grantSeconds: e.grantSeconds,
    grantPropagationSeconds: e.grantPropagationSeconds,
    grantRefusals: e.grantRefusals,
    polls: e.polls,
    sbom: e.sbom,
    sbomSha256: e.sbomSha256,
    provenance: e.provenance,
    provenanceSha256: e.provenanceSha256,
    vulnerabilities: parseJson<VulnerabilityCounts | undefined>(e.vulnerabilitiesJson, undefined),
    vulnerabilitiesSha256: e.vulnerabilitiesSha256,
  };
}

/** Table properties for a patch; undefined fields are left out (Merge keeps what is stored). */
function patchProperties(patch: BuildRecordPatch): Partial<StoredEntity> {
  const out: Partial<StoredEntity> = {};
  const copy = [
    'trigger',
    'reason',
    'requestedBy',
    'status',
    'phase',
    'instanceId',
    'templateName',
    'sourceImageVersion',
    'runState',
    'runSubState',
    'imageId',
    'startedAt',
    'finishedAt',
    'sbom',
    'sbomSha256',
    'provenance',
    'provenanceSha256',
    'vulnerabilitiesSha256',
  ] as const;
  for (const k of copy) {
    const v = patch[k];
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  if (patch.durationSeconds !== undefined) out.durationSeconds = patch.durationSeconds;
  if (patch.runDurationSeconds !== undefined) out.runDurationSeconds = patch.runDurationSeconds;
  if (patch.upToDate !== undefined) out.upToDate = patch.upToDate;
  for (const k of ['grantSeconds', 'grantPropagationSeconds', 'grantRefusals', 'polls'] as const) {
    const v = patch[k];
    if (v !== undefined) out[k] = v;
  }
  if (patch.vulnerabilities !== undefined) out.vulnerabilitiesJson = JSON.stringify(patch.vulnerabilities);
  if (patch.error !== undefined) {
    out.errorCode = patch.error.code;
    out.errorMessage = patch.error.message.slice(0, 30_000);
  }
  if (patch.logArchivalError !== undefined) {
    out.logArchivalErrorJson = JSON.stringify({
      code: patch.logArchivalError.code,
      message: patch.logArchivalError.message.slice(0, 4_000),
    });
  }
  return out;
}

export class BuildRecordStore {
  private ready: Promise<void> | undefined;

  constructor(private readonly table: TableClient) {}

  private ensureTable(): Promise<void> {
    this.ready ??= this.table.createTable().catch((e: unknown) => {
      this.ready = undefined;
      throw e;
    });
    return this.ready;
  }

  /** Creates the row of a new build (status Queued unless given). Fails if the build id already exists. */
  async create(
    record: BuildRef &
      Pick<BuildRecord, 'trigger' | 'reason' | 'requestedBy'> &
      Partial<Omit<BuildRecord, 'buildId' | 'definition' | 'requestedAt'>>,
  ): Promise<BuildRecord> {
    await this.ensureTable();
    const entity: StoredEntity = {
      partitionKey: record.definition,
      rowKey: rowKeyFor(record),
      buildId: record.buildId,
      definition: record.definition,
      requestedAt: record.requestedAt,
      ...patchProperties({ status: 'Queued', ...record }),
      logUrlsJson: JSON.stringify(record.logUrls ?? []),
      phaseTimestampsJson: JSON.stringify(record.phaseTimestamps ?? {}),
    };
    await this.table.createEntity(entity);
    return fromEntity(entity as TableEntityResult<StoredEntity>);
  }

  /**
   * Applies a phase update: plain fields overwrite, `phaseTimestamps` and `logUrls` are merged with what
   * is stored. Creates the row when it does not exist yet (the orchestration may run before the entry
   * point's row is visible, or without one). Optimistic concurrency on the row's ETag, retried.
   */
  async update(ref: BuildRef, patch: BuildRecordPatch): Promise<BuildRecord> {
    await this.ensureTable();
    const partitionKey = ref.definition;
    const rowKey = rowKeyFor(ref);
    for (let attempt = 0; ; attempt++) {
      const current = await this.getEntity(partitionKey, rowKey);
      const mergedPhases = {
        ...(current ? fromEntity(current).phaseTimestamps : {}),
        ...patch.phaseTimestamps,
      };
      const mergedLogs = [
        ...new Set([...(current ? fromEntity(current).logUrls : []), ...(patch.logUrls ?? [])]),
      ];
      const entity: StoredEntity = {
        ...(current ?? {}),
        partitionKey,
        rowKey,
        buildId: ref.buildId,
        definition: ref.definition,
        requestedAt: ref.requestedAt,
        ...patchProperties(patch),
        logUrlsJson: JSON.stringify(mergedLogs),
        phaseTimestampsJson: JSON.stringify(mergedPhases),
      };
      delete (entity as Partial<TableEntityResult<StoredEntity>>).etag;
      delete (entity as Partial<TableEntityResult<StoredEntity>>).timestamp;
      try {
        if (current) {
          await this.table.updateEntity(entity, 'Replace', { etag: current.etag });
        } else {
          await this.table.createEntity(entity);
        }
        const saved = fromEntity(entity as TableEntityResult<StoredEntity>);
        // Telemetry once per build: on the write that makes the record terminal (src/telemetry).
        if (isTerminalStatus(saved.status) && !(current && isTerminalStatus(fromEntity(current).status))) {
          emitBuildTelemetry(saved);
        }
        return saved;
      } catch (e) {
        const status = e instanceof RestError ? e.statusCode : undefined;
        if ((status === 412 || status === 409) && attempt < 5) continue;
        throw e;
      }
    }
  }

  private async getEntity(
    partitionKey: string,
    rowKey: string,
  ): Promise<TableEntityResult<StoredEntity> | undefined> {
    try {
      return await this.table.getEntity<StoredEntity>(partitionKey, rowKey);
    } catch (e) {
      if (e instanceof RestError && e.statusCode === 404) return undefined;
      throw e;
    }
  }

  /** The record of a build, or undefined. */
  async get(buildId: string): Promise<BuildRecord | undefined> {
    await this.ensureTable();
    const iter = this.table.listEntities<StoredEntity>({
      queryOptions: { filter: odata`buildId eq ${buildId}` },
    });
    for await (const e of iter) return fromEntity(e);
    return undefined;
  }

  /** Records newest first, optionally for one definition and/or one status. */
  async list(options: ListOptions = {}): Promise<BuildRecord[]> {
    await this.ensureTable();
    const top = Math.min(Math.max(1, Math.floor(options.top ?? 50)), 1000);
    const filters: string[] = [];
    if (options.definition !== undefined) filters.push(odata`PartitionKey eq ${options.definition}`);
    if (options.status !== undefined) filters.push(odata`status eq ${options.status}`);
    const queryOptions = filters.length > 0 ? { filter: filters.join(' and ') } : {};
    const out: BuildRecord[] = [];
    if (options.definition !== undefined) {
      // One partition comes back in row-key order, i.e. newest first: stop after `top`.
      for await (const e of this.table.listEntities<StoredEntity>({ queryOptions })) {
        out.push(fromEntity(e));
        if (out.length >= top) break;
      }
      return out;
    }
    // Across partitions the service orders by partition first: read all matches, sort, cut.
    for await (const e of this.table.listEntities<StoredEntity>({ queryOptions })) out.push(fromEntity(e));
    out.sort(newestFirst);
    return out.slice(0, top);
  }

  /**
   * Every record still Queued or Running, across definitions: one table query whatever the number of
   * definitions (the shared-grant check in src/activities/roles/shared-grant.ts).
   */
  async listActive(): Promise<BuildRecord[]> {
    return this.query(odata`status eq ${'Queued'} or status eq ${'Running'}`);
  }

  /**
   * Every ended record (neither Queued nor Running) requested after `requestedAfter` (ISO), across
   * definitions: one table query. ISO times of the same form compare as strings in a filter.
   */
  async listEndedNewerThan(requestedAfter: string): Promise<BuildRecord[]> {
    if (Number.isNaN(Date.parse(requestedAfter)))
      throw new RangeError(`requestedAfter must be an ISO date-time, got "${requestedAfter}"`);
    return this.query(
      odata`requestedAt gt ${requestedAfter} and status ne ${'Queued'} and status ne ${'Running'}`,
    );
  }

  private async query(filter: string): Promise<BuildRecord[]> {
    await this.ensureTable();
    const out: BuildRecord[] = [];
    for await (const e of this.table.listEntities<StoredEntity>({ queryOptions: { filter } })) {
      out.push(fromEntity(e));
    }
    return out.sort(newestFirst);
  }

  /** The newest succeeded build of a definition. */
  async lastSuccessful(definition: string): Promise<BuildRecord | undefined> {
    const [first] = await this.list({ definition, status: 'Succeeded', top: 1 });
    return first;
  }

  /** Run durations (seconds) among the newest `count` succeeded builds of a definition, newest first. */
  async recentSuccessfulDurations(definition: string, count = 5): Promise<number[]> {
    const recs = await this.list({ definition, status: 'Succeeded', top: count });
    // Only builds that ran (an up-to-date build has no run duration).
    return recs.map((r) => r.runDurationSeconds).filter((d): d is number => typeof d === 'number' && d > 0);
  }
}

function newestFirst(a: BuildRecord, b: BuildRecord): number {
  const d = Date.parse(b.requestedAt) - Date.parse(a.requestedAt);
  if (d !== 0) return d;
  return a.buildId < b.buildId ? -1 : a.buildId > b.buildId ? 1 : 0;
}

/** The app's record store, from the validated configuration and the process-wide clients. */
export function buildRecordsFor(
  config: AppConfig,
  clients: Pick<AzureClients, 'table'> = getAzureClients(config),
): BuildRecordStore {
  return new BuildRecordStore(clients.table(config.records.tableEndpoint, config.records.tableName));
}
