/**
 * The fidelity check itself: oav's LiveValidator against ../shared/specs accepts what the emulator
 * answers and catches an answer that breaks the spec (so the per-file check in useEmulator can fail).
 * Every file that uses useEmulator validates its own recorded traffic after its tests.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RecordedExchange } from '../../src/local/arm-emulator/index.js';
import { useEmulator } from '../support/emulator.js';
import { fidelityIssues, isSpecifiedOperation, specsAvailable } from '../support/oav.js';
import { createTemplate, FAST, pollUntilTerminal } from './helpers.js';

describe.skipIf(!specsAvailable())('REST specification fidelity (oav LiveValidator)', () => {
  const harness = useEmulator();

  it('validates recorded Image Builder, Authorization and Managed Identity traffic with zero errors', async () => {
    const h = harness();
    const { rg, name } = await createTemplate(h);
    await h.clients.imageBuilder.virtualMachineImageTemplates.run(rg, name, FAST).submitted();
    await pollUntilTerminal(h, rg, name);
    for await (const _ of h.clients.imageBuilder.virtualMachineImageTemplates.listByResourceGroup(rg));
    for await (const _ of h.clients.authorization.roleAssignments.listForScope(
      `/subscriptions/${h.emulator.subscriptionId}`,
      { filter: 'atScope()' },
    ));
    await h.clients.imageBuilder.virtualMachineImageTemplates
      .getRunOutput(rg, name, 'nope')
      .catch(() => undefined);
    const exchanges = h.emulator.state.requests();
    const validated = exchanges.filter(isSpecifiedOperation);
    expect(validated.length).toBeGreaterThan(10);
    const kinds = new Set(validated.map((e) => `${e.request.method} ${e.response.statusCode}`));
    for (const k of ['PUT 201', 'POST 202', 'GET 200', 'GET 404']) expect(kinds).toContain(k);
    expect(await fidelityIssues(exchanges)).toEqual([]);
  });

  it('reports an answer that breaks the specification', async () => {
    const h = harness();
    const { name } = await createTemplate(h);
    const get = [...h.emulator.state.requests()]
      .reverse()
      .find(
        (e) =>
          e.request.method === 'GET' &&
          e.request.url.includes(`/imageTemplates/${name}?`) &&
          e.response.statusCode === 200,
      );
    expect(get).toBeDefined();
    const body = structuredClone(get!.response.body) as {
      properties: { provisioningState: string; lastRunStatus?: unknown };
    };
    body.properties.provisioningState = 'Sleeping';
    const broken: RecordedExchange = { ...get!, response: { ...get!.response, body } };
    const issues = await fidelityIssues([broken]);
    expect(issues.join('\n')).toMatch(/provisioningState|Sleeping|ENUM/i);
    const identityPut = h.emulator.state
      .requests()
      .find((e) => e.request.method === 'PUT' && /userAssignedIdentities/.test(e.request.url))!;
    const noId: RecordedExchange = {
      ...identityPut,
      response: {
        ...identityPut.response,
        body: {
          ...(identityPut.response.body as object),
          properties: { principalId: randomUUID().slice(0, 8) },
        },
      },
    };
    expect((await fidelityIssues([noId])).length).toBeGreaterThan(0);
  });
});
