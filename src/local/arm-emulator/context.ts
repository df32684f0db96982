/** Shared state and settings of one emulator instance, handed to every provider module. */
import type { VirtualClock } from '../clock.js';
import type { BuildLogWriter } from './aib/build-logs.js';
import type { ScanFindings } from './aib/scan-output.js';
import { OperationRegistry } from './operations.js';
import { RbacPropagation } from './rbac-propagation.js';
import { ResourceStore } from './store.js';

export type BuildOutcome = 'success' | 'customizer-failure' | 'validation-failure' | 'timeout';

/** Simulated seconds each build phase lasts. */
export interface PhaseDurations {
  readonly queued: number;
  readonly building: number;
  readonly customizing: number;
  readonly optimizing: number;
  readonly validating: number;
  readonly distributing: number;
  readonly canceling: number;
}

export interface BuildBehaviour {
  readonly phaseDurations: PhaseDurations;
  readonly outcome: BuildOutcome;
  /** Approximate size of customization.log in bytes. */
  readonly logBytes: number;
  /** What the image's vulnerability scan finds (aib/scan-output.ts): typical, or also a fixable openssh CVE. */
  readonly findings: ScanFindings;
}

/** Default: about 43 simulated minutes from run to Succeeded, like a typical AIB Linux build. */
export const DEFAULT_BUILD_BEHAVIOUR: BuildBehaviour = {
  phaseDurations: {
    queued: 60,
    building: 300,
    customizing: 1200,
    optimizing: 120,
    validating: 300,
    distributing: 600,
    canceling: 120,
  },
  outcome: 'success',
  logBytes: 32 * 1024,
  findings: 'typical',
};

export interface TimingSettings {
  /** Observations (polls or reads) after which a provisioning operation completes. */
  readonly provisioningPolls: number;
  /** Retry-After (seconds) sent on 201/202 answers of long-running operations. */
  readonly lroRetryAfterSeconds: number;
  /** Simulated seconds after an identity's creation during which its principal is not yet replicated. */
  readonly principalReplicationSeconds: number;
}

export const DEFAULT_TIMING: TimingSettings = {
  provisioningPolls: 1,
  lroRetryAfterSeconds: 0,
  principalReplicationSeconds: 30,
};

export interface StagingStorage {
  readonly blobEndpoint: string;
  readonly stagingAccounts: readonly string[];
}

export interface ArmRequest {
  readonly method: string;
  /** URL path, percent-decoded, without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly apiVersion: string;
  /** Object id from the bearer token. */
  readonly callerObjectId: string | undefined;
}

export interface ArmResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

/** The context's own settings and directory state as plain data (persistence.ts). */
export interface ContextSnapshot {
  readonly build: BuildBehaviour;
  readonly timing: TimingSettings;
  readonly marketplace: readonly [string, string[]][];
  readonly knownPrincipals: readonly [string, { createdAtMs: number }][];
  readonly stagingCursor: number;
  readonly registeredProviders: readonly string[];
  readonly callerAuthorization: boolean;
}

export class EmulatorContext {
  readonly store = new ResourceStore();
  readonly operations: OperationRegistry;
  /** Propagation of role assignment changes to authorization decisions (see rbac-propagation.ts). */
  readonly rbac: RbacPropagation;
  build: BuildBehaviour = DEFAULT_BUILD_BEHAVIOUR;
  timing: TimingSettings = DEFAULT_TIMING;
  /** Marketplace image versions: key `publisher|offer|sku` (lower case) -> versions. */
  readonly marketplace = new Map<string, string[]>();
  /** Principals that exist in the directory besides the identities (e.g. the app, operators). */
  readonly knownPrincipals = new Map<string, { createdAtMs: number }>();
  private stagingCursor = 0;
  baseUrl = '';
  /** Resource provider namespaces registered on the subscription (lower case). */
  readonly registeredProviders = new Set<string>();
  /** When on, every ARM call is authorized against the caller's role assignments (see caller-authorization.ts). */
  callerAuthorization = false;

  constructor(
    readonly subscriptionId: string,
    readonly tenantId: string,
    readonly defaultLocation: string,
    readonly clock: VirtualClock,
    readonly storage: StagingStorage,
    readonly logs: BuildLogWriter,
  ) {
    this.operations = new OperationRegistry(() => clock.now());
    this.rbac = new RbacPropagation(() => clock.now());
  }

  now(): number {
    return this.clock.now();
  }

  isoNow(): string {
    return new Date(this.clock.now()).toISOString();
  }

  /** The next staging storage account of the pool (round robin). */
  nextStagingAccount(): string {
    const pool = this.storage.stagingAccounts;
    if (pool.length === 0) throw new Error('the emulator has no staging storage accounts configured');
    const account = pool[this.stagingCursor % pool.length]!;
    this.stagingCursor += 1;
    return account;
  }

  blobAccountUrl(account: string): string {
    return `${this.storage.blobEndpoint.replace(/\/$/, '')}/${account}`;
  }

  asyncOperationUrl(namespace: string, location: string, operationId: string, apiVersion: string): string {
    return `${this.baseUrl}/subscriptions/${this.subscriptionId}/providers/${namespace}/locations/${location}/operations/${operationId}?api-version=${apiVersion}`;
  }

  operationResultUrl(namespace: string, location: string, operationId: string, apiVersion: string): string {
    return `${this.baseUrl}/subscriptions/${this.subscriptionId}/providers/${namespace}/locations/${location}/operationResults/${operationId}?api-version=${apiVersion}`;
  }

  marketplaceKey(publisher: string, offer: string, sku: string): string {
    return `${publisher}|${offer}|${sku}`.toLowerCase();
  }

  snapshot(): ContextSnapshot {
    return structuredClone({
      build: this.build,
      timing: this.timing,
      marketplace: [...this.marketplace.entries()],
      knownPrincipals: [...this.knownPrincipals.entries()],
      stagingCursor: this.stagingCursor,
      registeredProviders: [...this.registeredProviders],
      callerAuthorization: this.callerAuthorization,
    });
  }

  restore(saved: ContextSnapshot): void {
    const s = structuredClone(saved);
    this.build = s.build;
    this.timing = s.timing;
    this.marketplace.clear();
    for (const [k, v] of s.marketplace) this.marketplace.set(k, v);
    this.knownPrincipals.clear();
    for (const [k, v] of s.knownPrincipals) this.knownPrincipals.set(k, v);
    this.stagingCursor = s.stagingCursor;
    this.registeredProviders.clear();
    for (const ns of s.registeredProviders) this.registeredProviders.add(ns);
    this.callerAuthorization = s.callerAuthorization;
  }
}
