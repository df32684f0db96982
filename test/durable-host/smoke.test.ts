import { afterAll, expect, it } from 'vitest';
import { startTestHost } from './support.js';

const { host } = await startTestHost();
afterAll(() => host.stop());

it('runs a chain', async () => {
  const id = await host.startOrchestration('chain', ['A', 'B']);
  const st = await host.waitForInstance(id, { timeoutMs: 5000 });
  expect(st.runtimeStatus).toBe('Completed');
  expect(st.output).toEqual(['Hello A', 'Hello B']);
});
