/**
 * Names and shapes shared by the orchestration, its activities, the entry points and the CLI.
 * Plain data only: no I/O, no host imports.
 */

/** The orchestrator that runs one build of one image definition. */
export const BUILD_ORCHESTRATOR = 'buildImageOrchestrator';
/** External event that asks a running build to cancel. */
export const CANCEL_EVENT = 'cancel';

export type BuildTrigger = 'http' | 'schedule' | 'base-image' | 'event-grid' | 'simulation';

/** Input of BUILD_ORCHESTRATOR. */
export interface BuildInput {
  /** Unique id of this build (also the record's row key). */
  readonly buildId: string;
  readonly definition: string;
  readonly trigger: BuildTrigger;
  readonly reason: string;
  /** Who or what asked (pipeline identity, timer name, event id). */
  readonly requestedBy: string;
  /** Build even when the template is unchanged and the last build succeeded on the same source version. */
  readonly force: boolean;
  /** ISO time the request was accepted. */
  readonly requestedAt: string;
  /** Seconds to wait (durable timer) before the first step: the monthly rebuild's start spread. */
  readonly startDelaySeconds?: number | undefined;
}

export type BuildPhase =
  | 'queued'
  | 'preflight'
  | 'identity'
  | 'roles'
  | 'grant'
  | 'waiting-for-grant'
  | 'template'
  | 'run'
  | 'polling'
  | 'cancelling'
  | 'archiving'
  | 'revoking'
  | 'recording'
  | 'done';

/** Custom status of a running build (what operators and the CLI see). */
export interface BuildProgress {
  readonly buildId: string;
  readonly definition: string;
  readonly phase: BuildPhase;
  readonly runState?: string | undefined;
  readonly runSubState?: string | undefined;
  readonly templateName?: string | undefined;
  readonly startedAt: string;
  readonly elapsedSeconds: number;
  readonly nextPollAt?: string | undefined;
  readonly logLocation?: string | undefined;
  /** When the just-in-time Image Contributor grant was made. */
  readonly grantedAt?: string | undefined;
  /** While waiting for the grant to take effect: seconds since it was made. */
  readonly grantWaitSeconds?: number | undefined;
  /** Once the run was accepted: seconds from the grant to the run's acceptance. */
  readonly grantPropagationSeconds?: number | undefined;
}

/** How the build's just-in-time grant went. */
export interface GrantSummary {
  readonly grantedAt: string;
  /** Seconds from the grant to its removal (absent when the removal failed; the janitor removes it). */
  readonly grantSeconds?: number | undefined;
  /** Seconds from the grant until Image Builder accepted the run (absent when it never did). */
  readonly propagationSeconds?: number | undefined;
  /** Authorization refusals while the grant was not yet effective. */
  readonly refusals: number;
}

export type BuildResult = 'Succeeded' | 'Failed' | 'Canceled' | 'TimedOut';

/** Counts of the image's vulnerability findings by severity, the ones that failed the gate, the report. */
export interface VulnerabilityCounts {
  readonly critical: number;
  readonly high: number;
  readonly medium: number;
  readonly low: number;
  readonly unknown: number;
  /** Findings that fail the gate (`CVE-… (CRITICAL) in pkg version, fixed in …`). */
  readonly blocking: readonly string[];
  /** Archived vulnerability report (Trivy JSON; blob URL, no SAS). */
  readonly report: string;
}

/** The build's supply-chain artifacts (docs/provenance.md). */
export interface SupplyChainFields {
  /** Archived CycloneDX SBOM of the image (blob URL, no SAS). */
  readonly sbom?: string | undefined;
  /** SHA-256 (hex) of the archived SBOM's bytes, as written by the build. */
  readonly sbomSha256?: string | undefined;
  /** Archived provenance record (blob URL, no SAS). */
  readonly provenance?: string | undefined;
  /** SHA-256 (hex) of provenance.json as written; also the image's `jumpbox-provenance-sha256` tag. */
  readonly provenanceSha256?: string | undefined;
  readonly vulnerabilities?: VulnerabilityCounts | undefined;
  /** SHA-256 (hex) of the archived vulnerability report's bytes, as written by the build. */
  readonly vulnerabilitiesSha256?: string | undefined;
}

/** Output of BUILD_ORCHESTRATOR. */
export interface BuildOutput extends SupplyChainFields {
  readonly buildId: string;
  readonly definition: string;
  readonly result: BuildResult;
  readonly imageId?: string | undefined;
  readonly sourceImageVersion?: string | undefined;
  readonly templateName?: string | undefined;
  readonly logs: readonly string[];
  readonly error?: { readonly code: string; readonly message: string } | undefined;
  /** Why the run's logs could not be archived (LogArchivalFailed), when they could not. */
  readonly logArchivalError?: { readonly code: string; readonly message: string } | undefined;
  readonly durations: Readonly<Record<string, number>>;
  readonly grant?: GrantSummary | undefined;
  /**
   * True when nothing was built because the definition is up to date: same template (content hash) and
   * same source version as the last successful build, and the request did not set `force`. imageId is then
   * that build's image.
   */
  readonly upToDate?: boolean | undefined;
}

/**
 * One build per definition at a time: the orchestration instance id is derived from the definition alone.
 * A start for a definition whose instance is Pending/Running is refused (status check first; host.json sets
 * `overridableExistingInstanceStates: NonRunningStates`, so the residual race is refused by the task hub too).
 * The build id (unique per build) travels in the input and keys the build record.
 */
export function buildInstanceId(definition: string): string {
  return `jumpbox-build-${definition}`;
}

/** Activity that posts the terminal summary to the optional webhook (a no-op when none is configured). */
export const NOTIFY_ACTIVITY = 'notifyBuildResult';
