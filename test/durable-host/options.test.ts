/** Bad host options fail at start with an error that names the option and the fix. */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/local/clock.js';
import { startLocalDurableHost } from '../../src/local/durable-host/index.js';
import { FIXTURES } from './support.js';

const clock = new VirtualClock();

describe('startLocalDurableHost options', () => {
  // runs first: nothing has registered in this process yet
  it('explains an entry module set that registers no function', async () => {
    const empty = fileURLToPath(new URL('./fixtures/registers-nothing.ts', import.meta.url));
    await expect(startLocalDurableHost({ clock, entryModules: [empty] })).rejects.toThrow(
      /entryModules: no function was registered.*import src\/local\/durable-host before any registration module/,
    );
  });

  it.each([
    [{ entryModules: [] }, /entryModules: give at least one/],
    [
      { entryModules: ['src/functions/index.ts'] },
      /entryModules: "src\/functions\/index.ts" is not absolute/,
    ],
    [{ entryModules: [FIXTURES], functionKey: 'short' }, /functionKey: use at least 8 characters/],
    [{ entryModules: [FIXTURES], port: 70_000 }, /port: 70000 is not a TCP port/],
    [{ entryModules: [FIXTURES], activityConcurrency: 0 }, /activityConcurrency: 0 must be a whole number/],
    [{ entryModules: [FIXTURES], taskHub: 'my-hub' }, /taskHub: task hub name "my-hub" is invalid/],
  ])('rejects %o', async (options, message) => {
    await expect(startLocalDurableHost({ clock, ...options })).rejects.toThrow(message);
  });

  it('resolves the host.json hub name from app settings and explains a missing one', async () => {
    delete process.env.DURABLE_TASK_HUB_NAME;
    await expect(startLocalDurableHost({ clock, entryModules: [FIXTURES] })).rejects.toThrow(
      /host.json hubName: app setting "DURABLE_TASK_HUB_NAME" referenced as %DURABLE_TASK_HUB_NAME% is not set/,
    );
  });
});
