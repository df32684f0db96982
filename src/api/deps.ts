/** What the API handlers need, as narrow ports (real implementations in src/functions, fakes in tests). */
import type { ImageDefinition } from '../image/definition.js';
import type { BuildRecordStore } from '../records/build-records.js';
import type { BuildOrchestrations } from '../triggers/orchestration-port.js';

export type BuildRecordsPort = Pick<BuildRecordStore, 'create' | 'get' | 'list' | 'lastSuccessful'>;

export interface DryRunPlan {
  readonly preflight: {
    readonly ok: boolean;
    readonly checks: readonly { readonly name: string; readonly ok: boolean; readonly message?: string }[];
  };
  readonly template: {
    readonly name: string;
    readonly action: 'reuse' | 'replace' | 'create';
    readonly replaces?: string | undefined;
    readonly sourceImageVersion?: string | undefined;
  } | null;
  readonly egress: readonly { readonly fqdn: string; readonly port: number; readonly why: string }[];
}

export interface ApiLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface ApiDeps {
  readonly definitions: readonly ImageDefinition[];
  readonly orchestrations: BuildOrchestrations;
  readonly records: BuildRecordsPort;
  /** Newest marketplace version of a definition's source image. */
  readonly newestBaseImageVersion: (definition: ImageDefinition) => Promise<string | undefined>;
  /** Read-only preflight + template plan; undefined when the app cannot plan (HTTP 501). */
  readonly dryRun?: ((definition: ImageDefinition) => Promise<DryRunPlan>) | undefined;
  readonly now?: (() => Date) | undefined;
  readonly log?: ApiLogger | undefined;
}

export function buildLinks(requestUrl: string, buildId: string): { status: string; cancel: string } {
  const origin = new URL(requestUrl).origin;
  const base = `${origin}/api/builds/${encodeURIComponent(buildId)}`;
  return { status: base, cancel: `${base}/cancel` };
}
