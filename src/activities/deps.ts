/**
 * What every activity needs, passed explicitly so that each can be tested (and reused by the HTTP dry
 * run) with its own settings and clients. Production takes them from the process-wide config and clients.
 */
import { type AzureClients, getAzureClients } from '../azure/clients.js';
import { type AppConfig, getConfig } from '../config.js';
import type { ImageDefinition } from '../image/definition.js';
import { BuildRecordStore } from '../records/build-records.js';

export interface ActivityDeps {
  readonly config: AppConfig;
  readonly clients: AzureClients;
  /** Structured-enough log line (the Functions host adds the invocation context). */
  readonly log: (message: string) => void;
  /** Real-time wait between polls of a short Azure long-running operation. */
  readonly sleep: (ms: number) => Promise<void>;
  /** Longest interval (ms) between polls of a short Azure long-running operation inside an activity. */
  readonly lroPollIntervalMs: number;
}

export function defaultActivityDeps(log: (message: string) => void = console.log): ActivityDeps {
  const config = getConfig();
  return {
    config,
    clients: getAzureClients(config),
    log,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    lroPollIntervalMs: 15_000,
  };
}

export function recordsOf(deps: Pick<ActivityDeps, 'config' | 'clients'>): BuildRecordStore {
  return new BuildRecordStore(
    deps.clients.table(deps.config.records.tableEndpoint, deps.config.records.tableName),
  );
}

/** The definition by name, or a permanent error naming the setting to fix. */
export function definitionOf(config: AppConfig, name: string): ImageDefinition {
  const d = config.definitions.find((x) => x.name === name);
  if (!d) {
    throw new DefinitionNotFoundError(
      `image definition "${name}" is not configured; IMAGE_DEFINITIONS has: ${config.definitions.map((x) => x.name).join(', ')}`,
    );
  }
  return d;
}

export class DefinitionNotFoundError extends Error {
  readonly code = 'DefinitionNotFound';
}
