/**
 * Start spread of the monthly rebuild: a fleet of definitions must not ask ARM for every preflight, identity
 * and role read in the same second (ARM throttles per subscription and per principal with token buckets,
 * https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling).
 *
 * The builds are ordered by a hash of their build id and put into slots of at most MAX_STARTS_AT_ONCE;
 * the slots are spread evenly over the window (the first starts at once, the last at the window's end;
 * a window too short for one second per slot is stretched to that).
 * A fleet that fits one slot starts at once. Each build carries its delay in its input and waits it with a
 * durable timer at the top of its orchestration (src/orchestration/start-delay.ts), so the delay survives
 * restarts and replays the same way.
 */

/** Builds that may start in the same instant. */
export const MAX_STARTS_AT_ONCE = 16;

/** 32-bit FNV-1a of a string: a stable, well-spread order that does not depend on the definitions' order. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Start delay in seconds of each build id, spread over `windowMinutes`. */
export function fleetStartDelays(
  buildIds: readonly string[],
  windowMinutes: number,
  maxAtOnce = MAX_STARTS_AT_ONCE,
): Map<string, number> {
  const ordered = [...buildIds].sort((a, b) => fnv1a(a) - fnv1a(b) || (a < b ? -1 : a > b ? 1 : 0));
  const slots = Math.ceil(ordered.length / maxAtOnce);
  // Whole seconds, at least one apart (a window shorter than the slots need is stretched to one second
  // per slot), so that no two slots share a start.
  const spacing = slots <= 1 ? 0 : Math.max(1, (windowMinutes * 60) / (slots - 1));
  const delays = new Map<string, number>();
  ordered.forEach((id, rank) => {
    delays.set(id, Math.floor(Math.floor(rank / maxAtOnce) * spacing));
  });
  return delays;
}
