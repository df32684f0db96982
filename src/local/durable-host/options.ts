/** Validation of the host options that would otherwise fail late or silently. */

const TASK_HUB = /^[A-Za-z][A-Za-z0-9]{2,44}$/;

export function validateTaskHub(name: string, source: string): string {
  if (!TASK_HUB.test(name)) {
    throw new Error(
      `${source}: task hub name "${name}" is invalid; use 3-45 letters and digits, starting with a letter (Azure Storage task hub rules).`,
    );
  }
  return name;
}

export function validateHostOptions(o: {
  readonly entryModules: readonly string[];
  readonly functionKey?: string | undefined;
  readonly port?: number | undefined;
  readonly activityConcurrency?: number | undefined;
}): void {
  if (o.entryModules.length === 0)
    throw new Error('entryModules: give at least one registration module path.');
  const relative = o.entryModules.find((p) => !p.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(p));
  if (relative !== undefined) {
    throw new Error(
      `entryModules: "${relative}" is not absolute; pass absolute file paths (e.g. fileURLToPath(...)).`,
    );
  }
  if (o.functionKey !== undefined && o.functionKey.length < 8) {
    throw new Error('functionKey: use at least 8 characters (or omit it for a random key).');
  }
  if (o.port !== undefined && !(Number.isInteger(o.port) && o.port >= 0 && o.port <= 65_535)) {
    throw new Error(`port: ${o.port} is not a TCP port; use 0 (any free port) to 65535.`);
  }
  if (
    o.activityConcurrency !== undefined &&
    !(Number.isInteger(o.activityConcurrency) && o.activityConcurrency >= 1)
  ) {
    throw new Error(`activityConcurrency: ${o.activityConcurrency} must be a whole number of at least 1.`);
  }
}
