/**
 * The client API's `showHistory` view, as the extension renders it (extension v3.x
 * ContextImplementations/DurableClient.cs, GetDurableOrchestrationStatusAsync). `npm run conformance` found
 * the local host returning the raw events instead.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { historyForStatus } from '../../src/local/durable-host/durable-rpc.js';
import { history } from '../../src/local/durable-host/history.js';
import { startTestHost } from './support.js';

const T0 = new Date(Date.UTC(2026, 0, 1));
const T1 = new Date(Date.UTC(2026, 0, 1, 0, 0, 1));

describe('historyForStatus', () => {
  const events = [
    history.orchestratorStarted(T0),
    history.executionStarted(T0, 'chain', 'i', 'e', null, null),
    history.taskScheduled(T0, 0, 'sayHello', 'Tokyo'),
    history.orchestratorCompleted(T0),
    history.orchestratorStarted(T1),
    history.taskCompleted(T1, 0, 'Hello Tokyo'),
    history.taskScheduled(T1, 1, 'sayHello', 'Seattle'),
    history.orchestratorCompleted(T1),
  ];

  it('folds a completed TaskScheduled into its completion and drops the episode markers', () => {
    const view = historyForStatus(events, { showHistoryOutput: false, showInput: false });
    expect(view.map((e) => [e.EventType, e.FunctionName ?? e.Name])).toEqual([
      ['ExecutionStarted', 'chain'],
      ['TaskCompleted', 'sayHello'],
      ['TaskScheduled', 'sayHello'],
    ]);
    const done = view[1]!;
    expect(done.ScheduledTime).toBe(T0.toISOString());
    expect(done).not.toHaveProperty('Result');
    expect(done).not.toHaveProperty('TaskScheduledId');
    for (const e of view) {
      expect(e).not.toHaveProperty('EventId');
      expect(e).not.toHaveProperty('IsPlayed');
      expect(e).not.toHaveProperty('Input');
    }
    expect(view[0]).not.toHaveProperty('Name');
    expect(view[0]).not.toHaveProperty('OrchestrationInstance');
  });

  it('shows results (parsed) and inputs only when asked', () => {
    const view = historyForStatus(events, { showHistoryOutput: true, showInput: true });
    expect(view[1]).toMatchObject({ Result: 'Hello Tokyo', Input: '"Tokyo"' });
  });
});

describe('status with showHistory through the client API', async () => {
  const { host } = await startTestHost();
  afterAll(() => host.stop());

  it('renders a finished sub-orchestration call once, as its completion', async () => {
    const id = await host.startOrchestration('parent', ['Ann', 'Bo']);
    await host.waitForInstance(id);
    const res = await fetch(
      `${host.baseUrl}/durabletask/instances/${id}?showHistory=true&showHistoryOutput=false&showInput=false`,
    );
    const body = (await res.json()) as { historyEvents: Array<Record<string, unknown>> };
    const types = body.historyEvents.map((e) => String(e.EventType));
    expect(types).not.toContain('OrchestratorStarted');
    expect(types).not.toContain('SubOrchestrationInstanceCreated');
    expect(types).not.toContain('TaskScheduled');
    expect(types[0]).toBe('ExecutionStarted');
    expect(types.at(-1)).toBe('ExecutionCompleted');
    const completions = body.historyEvents.filter((e) => e.EventType === 'SubOrchestrationInstanceCompleted');
    expect(completions.length).toBeGreaterThan(0);
    for (const c of completions) expect(c.FunctionName).toBe('child');
  });
});
