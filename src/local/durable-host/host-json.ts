/** The host.json settings the local host honours (Functions host defaults when absent). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseTimeSpan } from './timespan.js';

export interface HostSettings {
  readonly path: string | undefined;
  readonly routePrefix: string;
  readonly hubName: string | undefined;
  readonly maxConcurrentActivityFunctions: number;
  readonly overridableExistingInstanceStates: 'NonRunningStates' | 'AnyState';
  /** Azure Storage provider limits (maximumShortTimerDuration / longRunningTimerIntervalDuration). */
  readonly maximumShortTimerMs: number;
  readonly longRunningTimerIntervalMs: number;
  /**
   * host.json `functionTimeout` in ms (undefined: "-1", no limit). Absent: the Consumption plan's default,
   * 00:05:00 — the strictest default the Functions host applies
   * (https://learn.microsoft.com/azure/azure-functions/functions-host-json#functiontimeout).
   */
  readonly functionTimeoutMs: number | undefined;
}

/** Walks up from `startDir` to the nearest host.json. */
export function findHostJson(startDir: string): string | undefined {
  let dir = startDir;
  for (;;) {
    const candidate = join(dir, 'host.json');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});

export function readHostSettings(path: string | undefined): HostSettings {
  const root = path ? obj(JSON.parse(readFileSync(path, 'utf8'))) : {};
  const ext = obj(root.extensions);
  const http = obj(ext.http);
  const durable = obj(ext.durableTask);
  const overridable = String(durable.overridableExistingInstanceStates ?? 'NonRunningStates');
  if (overridable !== 'NonRunningStates' && overridable !== 'AnyState') {
    throw new Error(
      `${path}: extensions.durableTask.overridableExistingInstanceStates is "${overridable}"; use "NonRunningStates" or "AnyState".`,
    );
  }
  const storage = obj(durable.storageProvider);
  const timeoutText = root.functionTimeout === undefined ? '00:05:00' : String(root.functionTimeout);
  const functionTimeoutMs =
    timeoutText.trim() === '-1' ? undefined : parseTimeSpan(timeoutText, `${path}: functionTimeout`);
  if (functionTimeoutMs !== undefined && functionTimeoutMs <= 0) {
    throw new Error(`${path}: functionTimeout "${timeoutText}" must be positive, or "-1" for no limit.`);
  }
  return {
    path,
    routePrefix: typeof http.routePrefix === 'string' ? http.routePrefix : 'api',
    hubName: typeof durable.hubName === 'string' ? durable.hubName : undefined,
    maxConcurrentActivityFunctions:
      typeof durable.maxConcurrentActivityFunctions === 'number'
        ? durable.maxConcurrentActivityFunctions
        : 10,
    overridableExistingInstanceStates: overridable,
    maximumShortTimerMs: parseTimeSpan(
      String(storage.maximumShortTimerDuration ?? '6.00:00:00'),
      'maximumShortTimerDuration',
    ),
    longRunningTimerIntervalMs: parseTimeSpan(
      String(storage.longRunningTimerIntervalDuration ?? '3.00:00:00'),
      'longRunningTimerIntervalDuration',
    ),
    functionTimeoutMs,
  };
}
