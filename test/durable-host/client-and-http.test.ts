/**
 * The real DurableClient (inside the app's HTTP functions) over the host's RPC routes, the status URLs of
 * createCheckStatusResponse through the HTTP front, function keys, and the host.json start policy.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startTestHost } from './support.js';

const { host } = await startTestHost();
afterAll(() => host.stop());

const api = (path: string) => `${host.baseUrl}/api/${path}`;
const withKey = { 'x-functions-key': 'test-key' };

async function json(res: Response): Promise<unknown> {
  const text = await res.text();
  return text ? JSON.parse(text) : undefined;
}

describe('local durable host: durable client and HTTP front', () => {
  it('an HTTP starter returns 202 with status URLs that work through the host', async () => {
    const res = await fetch(api('orchestrators/chain/http-chain-1'), {
      method: 'POST',
      headers: { ...withKey, 'content-type': 'application/json' },
      body: JSON.stringify(['Oslo']),
    });
    expect(res.status).toBe(202);
    const payload = (await json(res)) as Record<string, string>;
    expect(payload.id).toBe('http-chain-1');
    expect(res.headers.get('location')).toBe(payload.statusQueryGetUri);
    for (const key of [
      'statusQueryGetUri',
      'sendEventPostUri',
      'terminatePostUri',
      'purgeHistoryDeleteUri',
    ]) {
      expect(
        payload[key]!.startsWith(`${host.baseUrl}/runtime/webhooks/durabletask/instances/http-chain-1`),
      ).toBe(true);
    }
    await host.waitForInstance('http-chain-1');
    const status = await fetch(payload.statusQueryGetUri!);
    expect(status.status).toBe(200);
    expect(await json(status)).toMatchObject({
      instanceId: 'http-chain-1',
      name: 'chain',
      runtimeStatus: 'Completed',
      input: ['Oslo'],
      output: ['Hello Oslo'],
    });
  });

  it('the status URL answers 202 while running, and raise/terminate URLs act on the instance', async () => {
    const res = await fetch(api('orchestrators/withStatus'), { method: 'POST', headers: withKey });
    const payload = (await json(res)) as Record<string, string>;
    await host.settle();
    const running = await fetch(payload.statusQueryGetUri!);
    expect(running.status).toBe(202);
    expect(await json(running)).toMatchObject({
      runtimeStatus: 'Running',
      customStatus: { phase: 'waiting' },
    });
    const raised = await fetch(payload.sendEventPostUri!.replace('{eventName}', 'go'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify('via webhook'),
    });
    expect(raised.status).toBe(202);
    expect((await host.waitForInstance(payload.id!)).output).toBe('via webhook');
    const again = await fetch(payload.terminatePostUri!.replace('{text}', 'late'), { method: 'POST' });
    expect(again.status).toBe(410);
  });

  it('status URLs without the key are refused', async () => {
    const id = await host.startOrchestration('chain', ['x']);
    const res = await fetch(`${host.baseUrl}/runtime/webhooks/durabletask/instances/${id}`);
    expect(res.status).toBe(401);
  });

  it("enforces the 'function' auth level with the x-functions-key header or the code query", async () => {
    expect((await fetch(api('orchestrators/chain'), { method: 'POST' })).status).toBe(401);
    expect(
      (await fetch(api('orchestrators/chain'), { method: 'POST', headers: { 'x-functions-key': 'wrong' } }))
        .status,
    ).toBe(401);
    expect((await fetch(api('orchestrators/chain?code=test-key'), { method: 'POST' })).status).toBe(202);
    // anonymous routes need no key; unknown routes are 404, wrong methods 405
    expect((await fetch(api('instances?status=Completed'))).status).toBe(200);
    expect((await fetch(api('no/such/route'))).status).toBe(404);
    expect((await fetch(api('status/abc'), { method: 'PUT' })).status).toBe(405);
  });

  it('the real DurableClient gets status with custom status and history, queries, raises, terminates and purges', async () => {
    const a = await host.startOrchestration('withStatus', undefined, 'client-a');
    const b = await host.startOrchestration('withStatus', undefined, 'client-b');
    await host.settle();

    const status = (await json(await fetch(api(`status/${a}?history=true`)))) as Record<string, unknown>;
    expect(status).toMatchObject({
      instanceId: 'client-a',
      runtimeStatus: 'Running',
      customStatus: { phase: 'waiting' },
    });

    const running = await json(await fetch(api('instances?status=Running')));
    expect(running).toEqual(expect.arrayContaining(['client-a', 'client-b']));

    const raise = await fetch(api(`events/${a}/go`), { method: 'POST', body: JSON.stringify({ ok: true }) });
    expect(raise.status).toBe(202);
    expect((await host.waitForInstance(a)).output).toEqual({ ok: true });

    const stop = await fetch(api(`terminate/${b}?reason=enough`), { method: 'POST' });
    expect(stop.status).toBe(202);
    expect((await host.getStatus(b))!).toMatchObject({ runtimeStatus: 'Terminated', output: 'enough' });

    const completed = await json(await fetch(api('instances?status=Completed,Terminated')));
    expect(completed).toEqual(expect.arrayContaining(['client-a', 'client-b']));
    expect(completed).not.toContain('client-c');

    const purged = await json(await fetch(api(`instances/${a}`), { method: 'DELETE' }));
    expect(purged).toEqual({ instancesDeleted: 1 });
    expect(await host.getStatus(a)).toBeUndefined();
  });

  it('refuses to start over a Pending/Running instance (NonRunningStates) but replaces a finished one', async () => {
    const first = await fetch(api('strict/only-one'), { method: 'POST' });
    expect(first.status).toBe(202);
    const second = await fetch(api('strict/only-one'), { method: 'POST' });
    expect(second.status).toBe(409);
    expect(((await json(second)) as { error: string }).error).toMatch(
      /unexpected status code: 409.*An Orchestration instance with the status (Pending|Running) already exists/,
    );
    await host.raiseEvent('only-one', 'approval', 'yes');
    await host.waitForInstance('only-one');
    const before = host.history('only-one').find((e) => e.EventType === 0)!;
    const third = await fetch(api('strict/only-one'), { method: 'POST' });
    expect(third.status).toBe(202);
    await host.settle();
    expect((await host.getStatus('only-one'))!.runtimeStatus).toBe('Running');
    const replaced = host.history('only-one');
    const started = replaced.find((e) => e.EventType === 0)!;
    expect(started.OrchestrationInstance!.ExecutionId).not.toBe(before.OrchestrationInstance!.ExecutionId);
    // the old execution's event is not part of the new one
    expect(replaced.some((e) => e.EventType === 15)).toBe(false);
  });

  it('the RPC query filters by created time and id prefix, and purge by filter removes only finished instances', async () => {
    const rpc = `${host.baseUrl}/durabletask/instances/`;
    const t = (await host.getStatus(await host.startOrchestration('chain', ['q'], 'query-old')))!.createdTime;
    await host.waitForInstance('query-old');
    await host.startOrchestration('withStatus', undefined, 'query-running');
    await host.settle();
    const byPrefix = (await json(await fetch(`${rpc}?instanceIdPrefix=query-`))) as Array<{
      instanceId: string;
    }>;
    expect(byPrefix.map((s) => s.instanceId).sort()).toEqual(['query-old', 'query-running']);
    const until = new Date(Date.parse(t) - 1).toISOString();
    expect(await json(await fetch(`${rpc}?instanceIdPrefix=query-&createdTimeTo=${until}`))).toEqual([]);
    const purged = await fetch(`${rpc}?createdTimeFrom=${t}`, { method: 'DELETE' });
    expect(purged.status).toBe(200);
    expect(await host.getStatus('query-old')).toBeUndefined();
    expect((await host.getStatus('query-running'))!.runtimeStatus).toBe('Running');
    expect((await fetch(rpc, { method: 'DELETE' })).status).toBe(400);
  });

  it('an unknown orchestrator name is a 400 from the start route', async () => {
    const res = await fetch(`${host.baseUrl}/durabletask/orchestrators/noSuchThing`, { method: 'POST' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await json(res))).toContain("The function 'noSuchThing' doesn't exist");
  });
});
