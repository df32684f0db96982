/**
 * Deterministic role-assignment names: a name-based (SHA-1, version 5 layout) GUID of
 * scope + principal + role definition, so that repeated grants hit the same assignment (idempotent PUT,
 * 409 RoleAssignmentExists when another name holds the same triple) and revokes can address it directly.
 * Inputs are normalised: ARM ids are case-insensitive, trailing slashes ignored, role ids reduced to the GUID.
 */
import { createHash } from 'node:crypto';

/** A fixed namespace for this app's assignment names. */
const NAMESPACE = 'b6a1e2f4-5c0d-4b7e-9a51-6f3c2d1e0a97';

function normalise(s: string): string {
  return s.trim().replace(/\/+$/, '').toLowerCase();
}

function roleGuid(roleDefinitionId: string): string {
  const n = normalise(roleDefinitionId);
  return n.slice(n.lastIndexOf('/') + 1);
}

export function roleAssignmentName(scope: string, principalId: string, roleDefinitionId: string): string {
  const ns = Buffer.from(NAMESPACE.replace(/-/g, ''), 'hex');
  const name = Buffer.from(
    `${normalise(scope)}|${normalise(principalId)}|${roleGuid(roleDefinitionId)}`,
    'utf8',
  );
  const hash = createHash('sha1').update(ns).update(name).digest();
  const b = Buffer.from(hash.subarray(0, 16));
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
