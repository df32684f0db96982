/** How far a build is, from its custom status (phase and Image Builder sub-state), for progress bars. */
import type { BuildProgress } from '../orchestration/contracts.js';

/** Percent done for a progress bar, from the phase and the run's sub-state. */
export function progressPercent(
  p: Partial<Pick<BuildProgress, 'phase' | 'runSubState'>> | undefined,
): number {
  if (!p?.phase) return 0;
  const before: Record<string, number> = {
    queued: 0,
    preflight: 2,
    identity: 4,
    roles: 6,
    template: 8,
    grant: 12,
    run: 14,
  };
  if (p.phase in before) return before[p.phase]!;
  if (p.phase === 'polling' || p.phase === 'cancelling') {
    const sub: Record<string, number> = {
      Queued: 16,
      Building: 20,
      Customizing: 30,
      Optimizing: 70,
      Validating: 75,
      Distributing: 85,
    };
    return sub[p.runSubState ?? 'Queued'] ?? 16;
  }
  const after: Record<string, number> = { archiving: 94, revoking: 96, recording: 98, done: 100 };
  return after[p.phase] ?? 0;
}
