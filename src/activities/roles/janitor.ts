/**
 * Image Contributor hygiene. The builder identity is shared by every definition and the grant is on the
 * one destination resource group, so the grant may only go when no build of any definition is running:
 * - `revokeUnlessOthersRunning` (the orchestration's finally) keeps it while another definition's build
 *   still needs it (./shared-grant.ts: two table queries whatever the fleet size, one clock);
 * - `sweepImageContributor` (the janitor timer) asks the Durable task hub which builds run, and removes
 *   every Image Contributor assignment of the builder identity on the destination when none does
 *   (covers terminated instances, crashed hosts, failed revokes).
 */
import type { BuildInput, BuildOutput } from '../../orchestration/contracts.js';
import type { BuildRecordPatch, BuildStatus } from '../../records/build-records.js';
import { type ActivityDeps, recordsOf } from '../deps.js';
import { revokeImageContributor } from './image-contributor.js';
import { otherDefinitionsKeepingGrant } from './shared-grant.js';

type Deps = Pick<ActivityDeps, 'config' | 'clients' | 'log'>;

/**
 * The orchestration's finally: removes the grant unless another definition's build still needs it (the
 * rule and its two queries: ./shared-grant.ts). `now` is the orchestration's currentUtcDateTime (ISO);
 * without it the newest time in the records stands for now.
 */
export async function revokeUnlessOthersRunning(
  deps: Deps,
  input: { principalId: string; definition: string; buildId?: string | undefined; now?: string | undefined },
): Promise<{ removed: string[]; keptFor: string[] }> {
  const others = await otherDefinitionsKeepingGrant(
    { definitions: deps.config.definitions, deadlineMarginMinutes: deps.config.deadlineMarginMinutes },
    recordsOf(deps),
    { definition: input.definition, buildId: input.buildId },
    input.now,
  );
  if (others.length > 0) {
    deps.log(
      `Image Contributor kept: builds of ${others.join(', ')} still running (the last one revokes it)`,
    );
    return { removed: [], keptFor: others };
  }
  const { removed } = await revokeImageContributor(deps, { principalId: input.principalId });
  return { removed, keptFor: [] };
}

export interface JanitorReport {
  readonly running: string[];
  readonly removed: string[];
  readonly skipped: boolean;
  /** Build ids whose record said Queued/Running although their instance no longer runs. */
  readonly closedRecords: string[];
  /** Build ids whose instance ended without a record at all (written now, terminal). */
  readonly writtenRecords?: string[] | undefined;
}

/** The last instance of a definition that is no longer running: its input, and its output if it Completed. */
export interface EndedInstance {
  readonly input: BuildInput;
  readonly output?: BuildOutput | undefined;
}

/**
 * The terminal record of a build the janitor closes: from the instance's output when the instance finished
 * this very build (its record write failed at the time), else Failed/InstanceNotRunning with `orphanMessage`.
 */
function terminalPatch(
  out: BuildOutput | undefined,
  nowIso: string,
  orphanMessage: string,
): BuildRecordPatch {
  const end = { phase: 'done' as const, finishedAt: nowIso };
  if (!out)
    return { ...end, status: 'Failed', error: { code: 'InstanceNotRunning', message: orphanMessage } };
  return {
    ...end,
    status: out.result as BuildStatus,
    imageId: out.imageId,
    templateName: out.templateName,
    sourceImageVersion: out.sourceImageVersion,
    logUrls: [...out.logs],
    error: out.error,
    logArchivalError: out.logArchivalError,
    // The supply-chain links and the SHA-256 the build wrote for each (provenance BUILD_ID checks it).
    sbom: out.sbom,
    sbomSha256: out.sbomSha256,
    provenance: out.provenance,
    provenanceSha256: out.provenanceSha256,
    vulnerabilities: out.vulnerabilities,
    vulnerabilitiesSha256: out.vulnerabilitiesSha256,
  };
}

/**
 * A build whose instance ended but whose record was never written (the records table refused every write
 * while it ran, the entry point's row included): write it now, terminal, from the instance's output, or as
 * Failed with the reason when the instance ended without one. So every build ends with a record.
 */
async function recordEndedBuilds(
  deps: Deps,
  notRunning: readonly string[],
  nowIso: string,
  ended: (definition: string) => Promise<EndedInstance | undefined>,
): Promise<string[]> {
  const records = recordsOf(deps);
  const written: string[] = [];
  for (const definition of notRunning) {
    const last = await ended(definition);
    if (!last?.input?.buildId || (await records.get(last.input.buildId))) continue;
    const ref = { buildId: last.input.buildId, definition, requestedAt: last.input.requestedAt };
    const out = last.output?.buildId === ref.buildId ? last.output : undefined;
    await records.update(ref, {
      trigger: last.input.trigger,
      reason: last.input.reason,
      requestedBy: last.input.requestedBy,
      ...terminalPatch(
        out,
        nowIso,
        'the build stopped without finishing and without a record (its orchestration instance was terminated or lost); recorded by the janitor',
      ),
    });
    written.push(ref.buildId);
  }
  if (written.length > 0)
    deps.log(`janitor: wrote ${written.length} missing build record(s): ${written.join(', ')}`);
  return written;
}

/**
 * Records of builds whose instance ended without finishing them (terminated, or lost) stay Queued/Running
 * forever otherwise: close them as Failed with a reason, for every definition that has no running instance.
 */
async function closeOrphanedRecords(
  deps: Deps,
  notRunning: readonly string[],
  nowIso: string,
  finishedOutput: (definition: string) => Promise<BuildOutput | undefined>,
): Promise<string[]> {
  const records = recordsOf(deps);
  const closed: string[] = [];
  for (const definition of notRunning) {
    let out: BuildOutput | undefined;
    let outRead = false;
    for (const status of ['Running', 'Queued'] as const) {
      for (const r of await records.list({ definition, status, top: 20 })) {
        // The instance finished this very build but could not write its record (storage failing at the
        // time): close the record from the instance's output, not as a failure. Read once per definition.
        if (!outRead) [out, outRead] = [await finishedOutput(definition), true];
        await records.update(
          r,
          terminalPatch(
            out?.buildId === r.buildId ? out : undefined,
            nowIso,
            'the build stopped without finishing (its orchestration instance was terminated or lost); closed by the janitor',
          ),
        );
        closed.push(r.buildId);
      }
    }
  }
  if (closed.length > 0)
    deps.log(`janitor: closed ${closed.length} unfinished build record(s): ${closed.join(', ')}`);
  return closed;
}

/** `isRunning(definition)` answers from the task hub (Pending/Running/ContinuedAsNew/Suspended). */
export async function sweepImageContributor(
  deps: Deps,
  isRunning: (definition: string) => Promise<boolean>,
  principalId: () => Promise<string | undefined>,
  /** The output of the definition's instance when it Completed (its record is closed from it). */
  finishedOutput: (definition: string) => Promise<BuildOutput | undefined> = async () => undefined,
  /** The definition's instance when it ended (any terminal status), for builds that have no record. */
  endedInstance: (definition: string) => Promise<EndedInstance | undefined> = async () => undefined,
): Promise<JanitorReport> {
  const running: string[] = [];
  const idle: string[] = [];
  for (const d of deps.config.definitions) ((await isRunning(d.name)) ? running : idle).push(d.name);
  const nowIso = new Date().toISOString();
  const closedRecords = await closeOrphanedRecords(deps, idle, nowIso, finishedOutput);
  const writtenRecords = await recordEndedBuilds(deps, idle, nowIso, endedInstance);
  if (running.length > 0) {
    deps.log(`janitor: builds running (${running.join(', ')}); Image Contributor left in place`);
    return { running, removed: [], skipped: true, closedRecords, writtenRecords };
  }
  const principal = await principalId();
  if (!principal) {
    deps.log('janitor: the builder identity does not exist; nothing to remove');
    return { running, removed: [], skipped: true, closedRecords, writtenRecords };
  }
  const { removed } = await revokeImageContributor(deps, { principalId: principal });
  deps.log(
    removed.length > 0
      ? `janitor: removed ${removed.length} Image Contributor assignment(s): ${removed.join(', ')}`
      : 'janitor: no Image Contributor assignment to remove',
  );
  return { running, removed, skipped: false, closedRecords, writtenRecords };
}
