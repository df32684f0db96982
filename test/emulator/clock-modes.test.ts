/**
 * The build state machine under both clock modes: one jump of the manual clock (as the local Durable host
 * does) applies every phase in order; a scaled clock finishes a build with no one moving the clock.
 */
import { describe, expect, it } from 'vitest';
import { useEmulator } from '../support/emulator.js';
import { createTemplate, FAST } from './helpers.js';

describe('clock modes', () => {
  const harness = useEmulator();

  it('a single jump of the manual clock runs the whole build, logs included', async () => {
    const h = harness();
    const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
    const { rg, name } = await createTemplate(h);
    await ib.run(rg, name, FAST).submitted();
    h.clock.advanceBy(3 * 3600_000);
    const t = await ib.get(rg, name);
    expect(t.lastRunStatus).toMatchObject({ runState: 'Succeeded', runSubState: 'Distributing' });
    const minutes = (t.lastRunStatus!.endTime!.getTime() - t.lastRunStatus!.startTime!.getTime()) / 60_000;
    expect(minutes).toBe((60 + 300 + 1200 + 600) / 60);
    const url = h.emulator.state.imageTemplate(name)!.logUrls[0]!;
    const [account, path] = url.split('/packerlogs/') as [string, string];
    const log = (
      await h.clients
        .blobService(account)
        .getContainerClient('packerlogs')
        .getBlobClient(path)
        .downloadToBuffer()
    ).toString();
    expect(log).toContain("Build 'azure-arm' finished");
  });

  it('a scaled clock finishes a build in real time without anyone moving it', async () => {
    const h = harness();
    const ib = h.clients.imageBuilder.virtualMachineImageTemplates;
    const { rg, name } = await createTemplate(h);
    h.emulator.control.setBuildBehaviour({
      phaseDurations: { queued: 5, building: 5, customizing: 20, distributing: 10 },
    });
    h.emulator.control.setTimeScale(200);
    try {
      await ib.run(rg, name, FAST).pollUntilDone();
      const t = await ib.get(rg, name);
      expect(t.lastRunStatus?.runState).toBe('Succeeded');
    } finally {
      h.emulator.control.setTimeScale(undefined);
      h.emulator.control.setBuildBehaviour({
        phaseDurations: { queued: 60, building: 300, customizing: 1200, distributing: 600 },
      });
    }
  });
});
