/**
 * Build ids: `<definition>.<UTC time yyyymmddThhmmssZ>.<8 hex>`, e.g. `aks-jumpbox.20260101T030000Z.3f9a0c1e`.
 * The definition is part of the id so that `GET /api/builds/{id}` can find the definition's orchestration
 * instance before the build record exists; definition names never contain a dot, so the split is unambiguous.
 */
import { randomBytes } from 'node:crypto';

const BUILD_ID = /^([a-z][a-z0-9-]{1,30}[a-z0-9])\.(\d{8}T\d{6}Z)\.([0-9a-f]{8})$/;

function compactUtc(at: Date): string {
  return at
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

export function newBuildId(definition: string, at: Date, random: () => string = randomHex8): string {
  return `${definition}.${compactUtc(at)}.${random()}`;
}

function randomHex8(): string {
  return randomBytes(4).toString('hex');
}

export interface ParsedBuildId {
  readonly definition: string;
  /** ISO time of the request, to the second. */
  readonly requestedAt: string;
}

/** Parses a build id; undefined when it is not one this app issued. */
export function parseBuildId(id: string): ParsedBuildId | undefined {
  const m = BUILD_ID.exec(id);
  if (!m) return undefined;
  const t = m[2]!;
  const iso = `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(9, 11)}:${t.slice(11, 13)}:${t.slice(13, 15)}Z`;
  if (Number.isNaN(Date.parse(iso))) return undefined;
  return { definition: m[1]!, requestedAt: iso };
}
