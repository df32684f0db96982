/** A usage problem: the dispatcher prints `jumpbox-builder <command>: <message>` and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** True for any command's usage-error class (commands may keep their own subclass or local class). */
export function isUsageError(e: unknown): e is Error {
  return e instanceof Error && (e instanceof UsageError || /UsageError$/.test(e.constructor.name));
}
