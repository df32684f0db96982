/**
 * Template provisioning states and reruns, through the real SDK clients:
 * - a template Creating or Deleting cannot be deleted (409) until it settles; a hanging creation is
 *   scripted with the control API (PUT /template-creation). No public source settles what Image Builder
 *   answers to a DELETE during creation; the emulator takes the stricter answer (409), as
 *   docs/emulator.md says.
 * - a rerun updates lastRunStatus.startTime and the previous run's outputs stay until the new run
 *   distributes (Image Builder 2025-10-01 REST spec: lastRunStatus, runOutputs;
 *   https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-json#properties-distribute).
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { useEmulator } from '../support/emulator.js';
import {
  controlCall,
  FAST,
  grantImageContributor,
  newBuilderIdentity,
  pollUntilTerminal,
  templateBody,
} from './helpers.js';

describe('template provisioning states and reruns (real SDK clients)', () => {
  const harness = useEmulator();
  afterEach(async () => {
    const h = harness();
    await controlCall(h, 'PUT', '/template-creation', { hold: false });
    h.emulator.control.setTiming({ provisioningPolls: 1 });
  });

  it('refuses (409) to delete a template while its creation hangs, and deletes it once created', async () => {
    const h = harness();
    const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
    const rg = h.appSettings.IMAGE_BUILDER_RESOURCE_GROUP!;
    const identity = await newBuilderIdentity(h);
    const name = `t-${randomUUID().slice(0, 8)}`;
    expect((await controlCall(h, 'PUT', '/template-creation', { hold: true })).body).toEqual({
      hold: true,
      held: [],
    });
    const creating = ib.createOrUpdate(rg, name, templateBody(h, identity.id!, `img-${name}`), FAST);
    await creating.submitted();
    for (let i = 0; i < 3; i++) await creating.poll();
    expect(creating.isDone).toBe(false);
    expect((await ib.get(rg, name)).provisioningState).toBe('Creating');
    h.clock.advanceBy(3600_000); // time alone does not end a held creation
    expect((await ib.get(rg, name)).provisioningState).toBe('Creating');
    await expect(ib.delete(rg, name, FAST).pollUntilDone()).rejects.toMatchObject({
      statusCode: 409,
      message: expect.stringContaining("is in provisioning state 'Creating'"),
    });

    expect((await controlCall(h, 'PUT', '/template-creation', { hold: false })).status).toBe(200);
    expect((await creating.pollUntilDone()).provisioningState).toBe('Succeeded');
    await ib.delete(rg, name, FAST).pollUntilDone();
    await expect(ib.get(rg, name)).rejects.toMatchObject({ statusCode: 404 });
  });

  it('shows Deleting until the deletion settles; a second DELETE or a PUT meanwhile is refused (409)', async () => {
    const h = harness();
    const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
    const rg = h.appSettings.IMAGE_BUILDER_RESOURCE_GROUP!;
    const identity = await newBuilderIdentity(h);
    const name = `t-${randomUUID().slice(0, 8)}`;
    const body = templateBody(h, identity.id!, `img-${name}`);
    await ib.createOrUpdate(rg, name, body, FAST).pollUntilDone();
    h.emulator.control.setTiming({ provisioningPolls: 4 });
    const deleting = ib.delete(rg, name, FAST);
    await deleting.submitted();
    expect((await ib.get(rg, name)).provisioningState).toBe('Deleting');
    await expect(ib.delete(rg, name, FAST).submitted()).rejects.toMatchObject({ statusCode: 409 });
    await expect(ib.createOrUpdate(rg, name, body, FAST).submitted()).rejects.toMatchObject({
      statusCode: 409,
      message: expect.stringContaining('is being deleted'),
    });
    await deleting.pollUntilDone();
    await expect(ib.get(rg, name)).rejects.toMatchObject({ statusCode: 404 });
  });

  it('a rerun updates lastRunStatus.startTime; the previous output stays until the new run distributes', async () => {
    const h = harness();
    const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
    const rg = h.appSettings.IMAGE_BUILDER_RESOURCE_GROUP!;
    const identity = await newBuilderIdentity(h);
    await grantImageContributor(h, identity.principalId!);
    const name = `t-${randomUUID().slice(0, 8)}`;
    await ib
      .createOrUpdate(
        rg,
        name,
        templateBody(h, identity.id!, `img-${name}`, {
          distribute: [{ type: 'VHD', runOutputName: 'vhd' }],
        }),
        FAST,
      )
      .pollUntilDone();
    await ib.run(rg, name, FAST).submitted();
    const first = await pollUntilTerminal(h, rg, name);
    expect(first.template.lastRunStatus?.runState).toBe('Succeeded');
    const firstOutput = (await ib.getRunOutput(rg, name, 'vhd')).artifactUri;
    expect(firstOutput).toMatch(/\.vhd$/);

    h.clock.advanceBy(3600_000);
    await ib.run(rg, name, FAST).submitted();
    const rerun = await ib.get(rg, name);
    expect(rerun.lastRunStatus?.runState).toBe('Running');
    expect(rerun.lastRunStatus?.startTime).toEqual(h.clock.nowDate());
    expect(rerun.lastRunStatus?.startTime?.getTime()).toBeGreaterThan(
      first.template.lastRunStatus!.startTime!.getTime(),
    );
    expect(rerun.lastRunStatus?.endTime).toBeUndefined();
    h.clock.advanceBy(20 * 60_000); // customizing: nothing distributed yet
    expect((await ib.getRunOutput(rg, name, 'vhd')).artifactUri).toBe(firstOutput);
    const second = await pollUntilTerminal(h, rg, name);
    expect(second.template.lastRunStatus?.runState).toBe('Succeeded');
    const secondOutput = (await ib.getRunOutput(rg, name, 'vhd')).artifactUri;
    expect(secondOutput).not.toBe(firstOutput);
    expect(secondOutput).toContain(h.emulator.state.imageTemplate(name)!.runs[1]!);
  });
});
