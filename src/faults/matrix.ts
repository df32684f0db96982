/**
 * The fault matrix: every distinct ARM and Storage call a build makes (discovered from the recorded
 * traffic of a successful build) x {429 with Retry-After, 500, 503, connection reset, a response slower
 * than the client timeout, permanent 403, permanent 404}, on the success path and on each failure path
 * of the run (customizer failure, validation failure, timeout). ARM faults go through the ARM emulator's
 * fault API; Storage faults through a proxy in front of Azurite (records table, archive account).
 *
 * For every cell, after the build's instance ended, the faults were cleared and the janitor ran:
 *  - the build record is terminal (a result status, phase done), and a non-success records its reason;
 *  - no Image Contributor assignment remains on the destination resource group;
 *  - when the run started (so it wrote customization.log), the log is in the archive under the build id.
 * The app runs unmodified: its real registrations on the local Durable host, on a manual virtual clock.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { ContainerClient } from '@azure/storage-blob';
import { createAzureClients, setCredentialOverride, setRequestTimeoutOverride } from '../azure/clients.js';
import type { ArmEmulator, FaultKind } from '../local/arm-emulator/index.js';
import { seededRandom } from '../local/arm-emulator/rbac-propagation.js';
import type { VirtualClock } from '../local/clock.js';
import { type LocalDurableHost, startLocalDurableHost } from '../local/durable-host/index.js';
import { type StorageFaultProxy, startStorageFaultProxy } from '../local/storage-fault-proxy.js';
import { LocalTestCredential } from '../local/test-credential.js';
import { type BuildOutput, buildInstanceId } from '../orchestration/contracts.js';
import { JANITOR_TIMER } from '../orchestration/steps.js';
import { BuildRecordStore } from '../records/build-records.js';
import { SecretScanner } from './secrets.js';

export const FAULT_KINDS = ['429', '500', '503', 'reset', 'slow', '403', '404'] as const;
export type MatrixFault = (typeof FAULT_KINDS)[number];
export const RUN_PATHS = ['success', 'customizer-failure', 'validation-failure', 'timeout'] as const;
export type RunPath = (typeof RUN_PATHS)[number];

/** One distinct call: service, method and a path pattern (names that vary per build generalised). */
export interface AppCall {
  readonly service: 'arm' | 'table' | 'blob';
  readonly method: string;
  /** Anchored regular expression source over the URL path. */
  readonly path: string;
  /** Readable form, e.g. `PUT /subscriptions/{}/resourceGroups/{}/providers/…/imageTemplates/{}`. */
  readonly label: string;
  /** For storage calls: the comp/restype query that tells the operation apart, if any. */
  readonly query?: string | undefined;
}

export interface CellResult {
  readonly call: string;
  readonly fault: MatrixFault;
  readonly runPath: RunPath;
  readonly passed: boolean;
  readonly faultHits: number;
  readonly result: string;
  readonly errorCode?: string | undefined;
  /** The role propagation delay this cell ran with (virtual seconds). */
  readonly rbacDelaySeconds: number;
  readonly leakedGrants: number;
  readonly nonTerminalRecord: boolean;
  readonly lostLogs: boolean;
  /**
   * Not archived by this build, but still in Image Builder's staging account with the reason
   * (LogArchivalFailed) recorded: the template is kept, and its runs are archived before it is ever
   * deleted (the supersede step), so the log is late, not lost.
   */
  readonly deferredLogs: boolean;
  readonly missingReason: boolean;
  readonly problems: readonly string[];
  readonly notes: readonly string[];
}

export interface FaultEnvironmentOptions {
  readonly emulator: ArmEmulator;
  readonly clock: VirtualClock;
  readonly appSettings: Record<string, string>;
  readonly certificate: { readonly cert: string; readonly key: string };
  /** Azurite's blob and table origins (the proxies forward to them). */
  readonly azurite: { readonly blob: string; readonly table: string };
  /** Per-try client timeout for the app, also the "slow" fault's reference (default 1500 ms). */
  readonly clientTimeoutMs?: number | undefined;
  readonly definition?: string | undefined;
  /**
   * Role propagation delay in virtual seconds for every cell; omitted: drawn per cell in
   * [RBAC_DELAY_RANGE.min, RBAC_DELAY_RANGE.max] from a seed derived from the cell (so a cell replays
   * the same delay whatever process or order runs it).
   */
  readonly rbacDelaySeconds?: number | undefined;
}

/**
 * Azure: "it can take up to 10 minutes for changes to take effect" for role assignments
 * (https://learn.microsoft.com/azure/role-based-access-control/troubleshooting#symptom---role-assignment-changes-are-not-being-detected);
 * the matrix draws from 30 s to that bound, as `npm run local` does (REALISTIC_RBAC_PROPAGATION).
 */
export const RBAC_DELAY_RANGE = { min: 30, max: 600 } as const;

/** The delay a cell runs with: the fixed override, or a draw seeded by the cell's identity. */
export function cellRbacDelaySeconds(cellKey: string, fixed?: number): number {
  if (fixed !== undefined) return fixed;
  let h = 2166136261;
  for (let i = 0; i < cellKey.length; i++) h = Math.imul(h ^ cellKey.charCodeAt(i), 16777619);
  const r = seededRandom(h >>> 0)();
  return Math.round(RBAC_DELAY_RANGE.min + (RBAC_DELAY_RANGE.max - RBAC_DELAY_RANGE.min) * r);
}

export interface FaultEnvironment {
  readonly host: LocalDurableHost;
  readonly emulator: ArmEmulator;
  readonly env: Record<string, string>;
  readonly records: BuildRecordStore;
  /** The archive container, read directly (not through the proxy). */
  readonly archive: ContainerClient;
  readonly proxies: { readonly blob: StorageFaultProxy; readonly table: StorageFaultProxy };
  readonly scanner: SecretScanner;
  /** Every webhook payload the app posted. */
  readonly notifications: unknown[];
  readonly definition: string;
  readonly clientTimeoutMs: number;
  readonly rbacDelaySeconds: number | undefined;
  stop(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('../functions/index.ts', import.meta.url));
const WEBHOOK = `https://hooks.example.test/services/T0/B0/${randomUUID()}`;
const TERMINAL = ['Succeeded', 'Failed', 'Canceled', 'TimedOut'];

export async function startFaultEnvironment(o: FaultEnvironmentOptions): Promise<FaultEnvironment> {
  const definition = o.definition ?? 'aks-jumpbox';
  const clientTimeoutMs = o.clientTimeoutMs ?? 1500;
  const blob = await startStorageFaultProxy({
    target: o.azurite.blob,
    service: 'blob',
    certificate: o.certificate,
  });
  const table = await startStorageFaultProxy({
    target: o.azurite.table,
    service: 'table',
    certificate: o.certificate,
  });
  const viaProxy = (url: string | undefined, proxy: StorageFaultProxy) =>
    url ? `${proxy.origin}${new URL(url).pathname}`.replace(/\/$/, '') : url;
  const suffix = randomUUID().replace(/-/g, '').slice(0, 8);
  const env: Record<string, string> = {
    ...o.appSettings,
    DURABLE_TASK_HUB_NAME: `faults${suffix}`,
    IMAGE_DEFINITIONS: JSON.stringify([{ name: definition }]),
    RECORDS_TABLE_NAME: `faults${suffix}`,
    ARCHIVE_CONTAINER: `fault-logs-${suffix}`,
    ARCHIVE_STORAGE_ACCOUNT_URL: viaProxy(o.appSettings.ARCHIVE_STORAGE_ACCOUNT_URL, blob)!,
    RECORDS_TABLE_ENDPOINT: viaProxy(o.appSettings.RECORDS_TABLE_ENDPOINT, table)!,
    NOTIFICATION_WEBHOOK_URL: WEBHOOK,
  };
  const credential = new LocalTestCredential();
  const token = (await credential.getToken('https://management.azure.com/.default')).token;
  setCredentialOverride(credential);
  setRequestTimeoutOverride(clientTimeoutMs);

  // The webhook: payloads captured in-process (the notify activity uses the global fetch).
  const notifications: unknown[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    if (String(input) === WEBHOOK) {
      notifications.push(JSON.parse(String(init?.body)));
      return new Response(null, { status: 204 });
    }
    return realFetch(input, init);
  }) as typeof fetch;

  const logLines: string[] = [];
  const stateDir = mkdtempSync(join(tmpdir(), 'jumpbox-faults-'));
  const host = await startLocalDurableHost({
    entryModules: [ENTRY],
    clock: o.clock,
    env,
    stateDir,
    log: (fn, level, category, message) => {
      logLines.push(`${level} ${fn} ${category} ${message}`);
    },
  });
  const scanner = new SecretScanner([
    host.functionKey,
    token,
    new URL(WEBHOOK).pathname,
    'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
  ]);
  const direct = createAzureClients({
    subscriptionId: o.emulator.subscriptionId,
    armEndpoint: o.emulator.armEndpoint,
    caCert: { pem: o.certificate.cert },
    credential,
  });
  const records = new BuildRecordStore(
    direct.table(o.appSettings.RECORDS_TABLE_ENDPOINT!, env.RECORDS_TABLE_NAME!),
  );
  const archive = direct
    .blobService(o.appSettings.ARCHIVE_STORAGE_ACCOUNT_URL!)
    .getContainerClient(env.ARCHIVE_CONTAINER!);
  let stopped = false;
  const environment: FaultEnvironment = {
    host,
    emulator: o.emulator,
    env,
    records,
    archive,
    proxies: { blob, table },
    scanner,
    notifications,
    definition,
    clientTimeoutMs,
    rbacDelaySeconds: o.rbacDelaySeconds,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Everything the runs produced goes through the scanner before the environment goes away.
      for (const line of logLines.splice(0)) scanner.scan('log', line);
      for (const n of notifications) scanner.scanJson('notification', n);
      for (const r of await records.list({ top: 1000 })) scanner.scanJson(`record ${r.buildId}`, r);
      try {
        for await (const b of archive.listBlobsFlat({ includeMetadata: true })) {
          scanner.scan('archived blob name', b.name);
          scanner.scanJson(`archived blob metadata ${b.name}`, b.metadata);
        }
      } catch {
        // no archive container: nothing archived
      }
      await host.stop();
      globalThis.fetch = realFetch;
      setRequestTimeoutOverride(undefined);
      await blob.stop();
      await table.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return environment;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Generalises the per-build parts of an ARM path: GUIDs, template names, operation ids. */
function armPattern(path: string, definition: string): { path: string; label: string } {
  const segs = path.split('/');
  const out: { re: string; label: string }[] = segs.map((s, i) => {
    const prev = segs[i - 1]?.toLowerCase() ?? '';
    const vary =
      GUID.test(s) ||
      new RegExp(`^${definition}-[0-9a-f]{8,}$`, 'i').test(s) ||
      /operation|asyncoperations|operationresults|operationstatuses/.test(prev) ||
      /^[0-9a-f]{24,}$/i.test(s);
    return vary ? { re: '[^/]+', label: '{}' } : { re: s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), label: s };
  });
  return { path: `^${out.map((x) => x.re).join('/')}$`, label: out.map((x) => x.label).join('/') };
}

function storagePattern(service: 'table' | 'blob', path: string): { path: string; label: string } {
  const [, account, first] = path.split('/');
  if (service === 'table') {
    if (!first) return { path: `^/${account}/?$`, label: `/${account}` };
    if (/^Tables/i.test(first)) return { path: `^/${account}/Tables.*$`, label: `/${account}/Tables` };
    if (first.includes('('))
      return { path: `^/${account}/[^/(]+\\(.+\\)$`, label: `/${account}/{table}(PartitionKey,RowKey)` };
    return { path: `^/${account}/[^/(]+(\\(\\))?$`, label: `/${account}/{table}` };
  }
  const depth = path.split('/').length - 2;
  if (depth <= 1) return { path: `^/${account}/[^/]+/?$`, label: `/${account}/{container}` };
  return { path: `^/${account}/[^/]+/.+$`, label: `/${account}/{container}/{blob}` };
}

/** Starts a build over the app's own HTTP API; returns its id. */
async function startBuild(e: FaultEnvironment): Promise<string> {
  const res = await fetch(`${e.host.baseUrl}/api/builds`, {
    method: 'POST',
    headers: { 'x-functions-key': e.host.functionKey, 'content-type': 'application/json' },
    body: JSON.stringify({ definition: e.definition, reason: 'fault matrix', force: true }),
  });
  const body = (await res.json()) as { buildId?: string };
  e.scanner.scanJson('http response', body);
  if (res.status !== 202 || !body.buildId)
    throw new Error(`start failed: ${res.status} ${JSON.stringify(body)}`);
  return body.buildId;
}

function setRunPath(e: FaultEnvironment, runPath: RunPath, rbacDelaySeconds: number): void {
  e.emulator.control.reset();
  e.emulator.control.setBuildBehaviour({ outcome: runPath });
  // Role changes take effect only after this delay (reset() sets it back to 0).
  e.emulator.control.setRbacPropagation(rbacDelaySeconds);
  e.proxies.blob.clearFaults();
  e.proxies.table.clearFaults();
}

/**
 * Runs one successful build with recording on and returns every distinct call it made, ARM first, in
 * the order of first use.
 */
export async function discoverCalls(e: FaultEnvironment): Promise<AppCall[]> {
  setRunPath(e, 'success', cellRbacDelaySeconds('discovery', e.rbacDelaySeconds));
  const before = { blob: e.proxies.blob.exchanges.length, table: e.proxies.table.exchanges.length };
  await startBuild(e);
  const s = await e.host.waitForInstance(buildInstanceId(e.definition), { timeoutMs: 120_000 });
  const out = s.output as BuildOutput | undefined;
  if (out?.result !== 'Succeeded')
    throw new Error(`the discovery build did not succeed: ${JSON.stringify(s.output)}`);
  const calls = new Map<string, AppCall>();
  const armBase = new URL(e.emulator.armEndpoint).pathname.replace(/\/$/, '');
  for (const x of e.emulator.state.requests()) {
    const url = new URL(x.request.url);
    const p = armPattern(url.pathname.slice(armBase.length), e.definition);
    const key = `arm ${x.request.method} ${p.path}`;
    if (!calls.has(key))
      calls.set(key, {
        service: 'arm',
        method: x.request.method,
        path: p.path,
        label: `${x.request.method} ${p.label}`,
      });
  }
  for (const service of ['table', 'blob'] as const) {
    for (const x of e.proxies[service].exchanges.slice(before[service])) {
      const p = storagePattern(service, x.path);
      const comp = /(?:^|&)(comp=[^&]+|restype=[^&]+)/.exec(x.query)?.[1];
      const key = `${service} ${x.method} ${p.path} ${comp ?? ''}`;
      if (!calls.has(key))
        calls.set(key, {
          service,
          method: x.method,
          path: p.path,
          query: comp,
          label: `${service} ${x.method} ${p.label}${comp ? `?${comp}` : ''}`,
        });
    }
  }
  return [...calls.values()];
}

function inject(e: FaultEnvironment, call: AppCall, fault: MatrixFault): void {
  const slowMs = e.clientTimeoutMs + 500;
  const transient = fault === '429' || fault === '500' || fault === '503' || fault === 'reset';
  // Transient faults outlast the SDK's own retries (3) so the orchestration's durable retry is exercised.
  const times = transient ? 4 : fault === 'slow' ? 2 : undefined;
  if (call.service === 'arm') {
    const kind: FaultKind = fault === 'slow' ? 'delay' : fault;
    e.emulator.control.injectFault({
      method: call.method,
      path: call.path,
      kind,
      ...(times ? { times } : {}),
      ...(fault === 'slow' ? { delayMs: slowMs } : {}),
      ...(fault === '429' || fault === '503' ? { retryAfterSeconds: 1 } : {}),
    });
  } else {
    e.proxies[call.service].inject({
      method: call.method,
      path: call.path,
      query: call.query ? call.query.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : undefined,
      kind: fault === 'slow' ? 'delay' : fault,
      times,
      ...(fault === 'slow' ? { delayMs: slowMs } : {}),
      ...(fault === '429' || fault === '503' ? { retryAfterSeconds: 1 } : {}),
    });
  }
}

function faultHits(e: FaultEnvironment, call: AppCall): number {
  if (call.service === 'arm') return e.emulator.control.faults().reduce((n, f) => n + f.hits, 0);
  return e.proxies[call.service].hits();
}

/** Runs one cell and checks the guarantees. */
export async function runCell(
  e: FaultEnvironment,
  call: AppCall,
  fault: MatrixFault,
  runPath: RunPath,
): Promise<CellResult> {
  const rbacDelaySeconds = cellRbacDelaySeconds(`${runPath} ${fault} ${call.label}`, e.rbacDelaySeconds);
  setRunPath(e, runPath, rbacDelaySeconds);
  // Runs that exist before this cell (a reused template keeps its earlier runs) are not this build's.
  const runsBefore = new Set(e.emulator.state.imageTemplates().flatMap((t) => t.runs ?? []));
  const hitsBefore = call.service === 'arm' ? 0 : e.proxies[call.service].hits();
  inject(e, call, fault);
  const problems: string[] = [];
  const notes: string[] = [];
  let buildId: string | undefined;
  let output: BuildOutput | undefined;
  try {
    buildId = await startBuild(e);
  } catch (err) {
    problems.push(`start: ${(err as Error).message}`);
  }
  if (buildId) {
    try {
      const s = await e.host.waitForInstance(buildInstanceId(e.definition), { timeoutMs: 180_000 });
      output = s.output as BuildOutput | undefined;
      if (s.runtimeStatus !== 'Completed') problems.push(`instance ${s.runtimeStatus}`);
    } catch (err) {
      problems.push(`wait: ${(err as Error).message}`);
      await e.host
        .terminate(buildInstanceId(e.definition), 'fault matrix: did not finish')
        .catch(() => undefined);
    }
  }
  const hits = faultHits(e, call) - hitsBefore;
  // Did this build's run start (and so write customization.log)? Read before the emulator is reset.
  const runStarted = e.emulator.state
    .imageTemplates()
    .some((t) => (t.runs ?? []).some((r) => !runsBefore.has(r)));
  const templateKept = !!output?.templateName && !!e.emulator.state.imageTemplate(output.templateName);
  // The fault condition ends; the janitor runs as its timer would.
  e.emulator.control.clearFaults();
  e.proxies.blob.clearFaults();
  e.proxies.table.clearFaults();
  await e.host.fireTimerTrigger(JANITOR_TIMER);
  await e.host.settle();

  const leakedGrants = imageContributorAssignments(e);
  const record = buildId ? await e.records.get(buildId) : undefined;
  const nonTerminalRecord =
    !!buildId && !(record && TERMINAL.includes(record.status) && record.phase === 'done');
  const missingReason =
    !!record && record.status !== 'Succeeded' && !(record.error?.code && record.error.message);
  let lostLogs = false;
  let deferredLogs = false;
  if (buildId && runStarted) {
    const name = `${e.definition}/${buildId}/customization.log`;
    const archived = await e.archive.getBlockBlobClient(name).exists();
    const missing = !archived || !(record?.logUrls ?? []).some((u) => u.endsWith(`/${name}`));
    deferredLogs =
      missing &&
      templateKept &&
      (record?.logArchivalError?.code === 'LogArchivalFailed' || record?.error?.code === 'LogArchivalFailed');
    lostLogs = missing && !deferredLogs;
  }
  if (leakedGrants > 0) problems.push(`${leakedGrants} Image Contributor assignment(s) left`);
  if (nonTerminalRecord)
    problems.push(`record not terminal: ${record ? `${record.status}/${record.phase}` : 'absent'}`);
  if (missingReason) problems.push('no reason recorded');
  if (lostLogs) problems.push('customization.log not archived');
  if (deferredLogs) notes.push('log archival deferred: kept in staging, LogArchivalFailed recorded');
  // A delayed request the client gave up on is still held by the server; let it land now, so that it
  // cannot reach the next cell's fresh state (e.g. a late run request starting a run on its template).
  if (fault === 'slow') await delay(e.clientTimeoutMs + 500);
  return {
    call: call.label,
    fault,
    runPath,
    passed: problems.length === 0,
    faultHits: hits,
    result: record?.status ?? output?.result ?? 'none',
    errorCode: record?.error?.code,
    rbacDelaySeconds,
    leakedGrants,
    nonTerminalRecord,
    lostLogs,
    deferredLogs,
    missingReason,
    problems,
    notes,
  };
}

function imageContributorAssignments(e: FaultEnvironment): number {
  const destination =
    `/subscriptions/${e.emulator.subscriptionId}/resourceGroups/${e.env.IMAGE_DESTINATION_RESOURCE_GROUP}`.toLowerCase();
  const role = e.env.IMAGE_CONTRIBUTOR_ROLE_ID!;
  const guid = role.slice(role.lastIndexOf('/') + 1).toLowerCase();
  return e.emulator.state
    .roleAssignments()
    .filter((a) => a.scope.toLowerCase() === destination && a.roleDefinitionId.toLowerCase().endsWith(guid))
    .length;
}

export interface MatrixSummary {
  readonly cells: number;
  readonly passed: number;
  readonly leakedGrants: number;
  readonly nonTerminalRecords: number;
  readonly lostLogs: number;
}

export function summarize(results: readonly CellResult[]): MatrixSummary {
  return {
    cells: results.length,
    passed: results.filter((r) => r.passed).length,
    leakedGrants: results.reduce((n, r) => n + r.leakedGrants, 0),
    nonTerminalRecords: results.filter((r) => r.nonTerminalRecord).length,
    lostLogs: results.filter((r) => r.lostLogs).length,
  };
}
