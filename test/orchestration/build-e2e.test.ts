/**
 * The build orchestration end to end through the local Durable host, the ARM emulator and Azurite:
 * started by the app's own POST /api/builds, driven on virtual time. After every build: no Image
 * Contributor assignment is left, the record is terminal and correct, logs are archived when produced.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BuildOutput } from '../../src/orchestration/contracts.js';
import { buildInstanceId } from '../../src/orchestration/contracts.js';
import { ACTIVITY, JANITOR_TIMER } from '../../src/orchestration/steps.js';
import { type BuildHost, startBuildHost } from './build-host.js';

const DEF = 'aks-jumpbox';
let b: BuildHost;
beforeAll(async () => {
  b = await startBuildHost();
});
afterAll(async () => {
  await b?.stop();
});
beforeEach(async () => {
  b.harness.emulator.control.reset();
});

/** The invariants after every build. */
async function expectCleanEnd(buildId: string, output: BuildOutput, logsExpected: boolean): Promise<void> {
  expect(b.imageContributorAssignments()).toEqual([]);
  const rec = await b.records.get(buildId);
  expect(rec).toMatchObject({ status: output.result, phase: 'done', definition: DEF });
  expect(rec?.finishedAt).toBeDefined();
  expect(rec?.error?.code).toBe(output.error?.code);
  if (logsExpected) {
    expect(output.logs.some((l) => l.endsWith(`/${DEF}/${buildId}/customization.log`))).toBe(true);
    const archive = b.harness.clients
      .blobService(b.env.ARCHIVE_STORAGE_ACCOUNT_URL!)
      .getContainerClient(b.env.ARCHIVE_CONTAINER!);
    const props = await archive.getBlockBlobClient(`${DEF}/${buildId}/customization.log`).getProperties();
    expect(props.metadata).toMatchObject({
      definition: DEF,
      buildid: buildId,
      template: output.templateName,
    });
    expect(props.contentLength).toBeGreaterThan(0);
    expect(rec?.logUrls).toEqual(expect.arrayContaining([...output.logs]));
  } else {
    expect(output.logs).toEqual([]);
  }
}

async function build(body: { force?: boolean } = {}): Promise<{ buildId: string; output: BuildOutput }> {
  const buildId = await b.startBuild(DEF, body);
  const { runtimeStatus, output } = await b.finish(DEF);
  expect(runtimeStatus).toBe('Completed');
  expect(output.buildId).toBe(buildId);
  return { buildId, output };
}

describe('build orchestration end to end', () => {
  it('success: image produced and tagged with the build id, logs archived, grant removed', async () => {
    const { buildId, output } = await build();
    expect(output).toMatchObject({ result: 'Succeeded', definition: DEF });
    expect(output.imageId).toMatch(/\/providers\/Microsoft\.Compute\/images\//);
    expect(output.sourceImageVersion).toMatch(/^\d+\.\d+\.\d+$/);
    expect(output.durations.run).toBeGreaterThan(20 * 60);
    await expectCleanEnd(buildId, output, true);
    const image = b.harness.emulator.state
      .images()
      .find((i) => String(i.id).toLowerCase() === output.imageId!.toLowerCase());
    expect((image?.tags as Record<string, string> | undefined)?.['jumpbox-build-id']).toBe(buildId);
    const rec = await b.records.get(buildId);
    expect(rec).toMatchObject({
      imageId: output.imageId,
      templateName: output.templateName,
      sourceImageVersion: output.sourceImageVersion,
      trigger: 'http',
    });
    expect(Object.keys(rec!.phaseTimestamps)).toEqual(
      expect.arrayContaining([
        'preflight',
        'template',
        'grant',
        'run',
        'polling',
        'archiving',
        'revoking',
        'done',
      ]),
    );
  });

  it.each([
    ['customizer-failure', 'Customizing'],
    ['validation-failure', 'Validating'],
  ] as const)('%s: Failed with the run message, logs archived, grant removed', async (outcome, subState) => {
    b.harness.emulator.control.setBuildBehaviour({ outcome });
    const { buildId, output } = await build();
    expect(output.result).toBe('Failed');
    expect(output.error?.code).toBe('RunFailed');
    expect(output.error?.message).toContain(subState);
    expect(output.imageId).toBeUndefined();
    await expectCleanEnd(buildId, output, true);
  });

  it('distribution failure (Image Contributor removed during the run): Failed at Distributing, logs archived', async () => {
    const removed = b.whenRunReaches('Customizing', async () => {
      for (const a of b.imageContributorAssignments()) {
        await b.harness.clients.authorization.roleAssignments.delete(a.scope, a.name);
      }
    });
    const { buildId, output } = await build();
    await removed;
    expect(output.result).toBe('Failed');
    expect(output.error?.message).toMatch(/^Distributing: .*(Authorization|permission)/i);
    await expectCleanEnd(buildId, output, true);
  });

  it('timeout: Image Builder stops the run at buildTimeoutInMinutes; TimedOut, logs archived, grant removed', async () => {
    b.harness.emulator.control.setBuildBehaviour({ outcome: 'timeout' });
    const { buildId, output } = await build();
    expect(output.result).toBe('TimedOut');
    expect(output.error?.code).toBe('BuildTimedOut');
    await expectCleanEnd(buildId, output, true);
  });

  it('cancel by request: the run is cancelled, Canceled, logs archived, grant removed', async () => {
    let buildId = '';
    const cancelled = b.whenRunReaches('Customizing', async () => {
      const res = await fetch(`${b.host.baseUrl}/api/builds/${buildId}/cancel`, {
        method: 'POST',
        headers: { 'x-functions-key': b.host.functionKey },
      });
      expect(res.status).toBeLessThan(300);
    });
    buildId = await b.startBuild(DEF);
    const { output } = await b.finishStepwise(DEF);
    await cancelled;
    expect(output.result).toBe('Canceled');
    expect(output.error?.code).toBe('CanceledByRequest');
    const cancels = b.harness.emulator.state
      .requests()
      .filter((r) => r.request.method === 'POST' && /\/cancel\?/.test(r.request.url));
    expect(cancels.length).toBe(1);
    await expectCleanEnd(buildId, output, true);
  });

  it('unchanged definition, not forced: nothing is built (up to date), no grant, no run', async () => {
    const first = await build({ force: true });
    const before = b.harness.emulator.state.requests().length;
    const second = await build();
    expect(second.output).toMatchObject({
      result: 'Succeeded',
      upToDate: true,
      imageId: first.output.imageId,
    });
    const later = b.harness.emulator.state.requests().slice(before);
    const writes = later
      .filter((r) => r.request.method !== 'GET')
      .map((r) => `${r.request.method} ${r.request.url}`);
    // Only the idempotent persistent-role PUTs; no template, grant, run or image write.
    expect(
      writes.filter(
        (w) =>
          !/virtualNetworks\/vnet-imagebuilder\/providers\/Microsoft\.Authorization\/roleAssignments|rg-jumpbox-staging-aks-jumpbox\/providers\/Microsoft\.Authorization\/roleAssignments/.test(
            w,
          ),
      ),
    ).toEqual([]);
    await expectCleanEnd(second.buildId, second.output, false);
  });

  it('unchanged definition, forced: the template is reused without any PUT and rebuilt', async () => {
    const first = await build({ force: true });
    expect(first.output.result).toBe('Succeeded');
    const before = b.harness.emulator.state.requests().length;
    const second = await build({ force: true });
    if (second.output.result !== 'Succeeded') console.log(second.output);
    expect(second.output.result).toBe('Succeeded');
    expect(second.output.templateName).toBe(first.output.templateName);
    const later = b.harness.emulator.state.requests().slice(before);
    expect(
      later.filter((r) => r.request.method === 'PUT' && /\/imageTemplates\/[^/?]+\?/.test(r.request.url)),
    ).toEqual([]);
    expect(
      later.filter((r) => r.request.method === 'DELETE' && /\/imageTemplates\//.test(r.request.url)),
    ).toEqual([]);
    await expectCleanEnd(second.buildId, second.output, true);
  });

  it('changed definition (newer base image): new template, the old one archived then deleted', async () => {
    const first = await build({ force: true });
    const firstRuns = b.harness.emulator.state.imageTemplate(first.output.templateName!)!.runs;
    expect(firstRuns.length).toBe(1);
    const [publisher, offer, sku] = ['Canonical', 'ubuntu-24_04-lts', 'server'];
    b.harness.emulator.control.publishImageVersion({ publisher, offer, sku, version: '24.04.209912310' });
    const second = await build();
    expect(second.output.result).toBe('Succeeded');
    expect(second.output.sourceImageVersion).toBe('24.04.209912310');
    expect(second.output.templateName).not.toBe(first.output.templateName);
    const names = b.harness.emulator.state.imageTemplates().map((t) => t.name);
    expect(names).toEqual([second.output.templateName]);
    // Every run of the old template is in the archive before it was deleted (here: archived by the first
    // build already, so the supersede step had nothing left to copy).
    const archive = b.harness.clients
      .blobService(b.env.ARCHIVE_STORAGE_ACCOUNT_URL!)
      .getContainerClient(b.env.ARCHIVE_CONTAINER!);
    const archivedRuns = new Set<string>();
    for await (const blob of archive.listBlobsFlat({ prefix: `${DEF}/`, includeMetadata: true })) {
      const runGuid = blob.metadata?.runguid;
      if (runGuid && firstRuns.includes(runGuid)) archivedRuns.add(runGuid);
    }
    expect([...archivedRuns]).toEqual(firstRuns);
    const deletes = b.harness.emulator.state
      .requests()
      .filter(
        (r) =>
          r.request.method === 'DELETE' &&
          r.request.url.includes(`/imageTemplates/${first.output.templateName}?`),
      );
    expect(deletes.length).toBe(1);
    await expectCleanEnd(second.buildId, second.output, true);
  });

  it('janitor: leaves the grant while a build runs; removes it after the instance was terminated', async () => {
    let seenDuringRun = -1;
    const during = b.whenRunReaches('Customizing', async () => {
      await b.host.fireTimerTrigger(JANITOR_TIMER);
      seenDuringRun = b.imageContributorAssignments().length;
      await b.host.terminate(buildInstanceId(DEF), 'operator terminated the build');
    });
    const buildId = await b.startBuild(DEF, { force: true });
    const { runtimeStatus } = await b.finishStepwise(DEF);
    await during;
    expect(seenDuringRun).toBe(1);
    expect(runtimeStatus).toBe('Terminated');
    // The finally never ran: the grant is still there until the janitor sweeps it, and the record still
    // says Running until the janitor closes it.
    expect(b.imageContributorAssignments()).toHaveLength(1);
    expect((await b.records.get(buildId))?.status).toBe('Running');
    await b.host.fireTimerTrigger(JANITOR_TIMER);
    expect(b.imageContributorAssignments()).toEqual([]);
    expect(await b.records.get(buildId)).toMatchObject({
      status: 'Failed',
      phase: 'done',
      error: { code: 'InstanceNotRunning' },
    });
  });

  it('transient ARM failures (503 beyond the SDK retries) are retried durably after a backoff timer', async () => {
    // The SDK retries 3 times itself; the 5th call succeeds only on the orchestration's second attempt.
    b.harness.emulator.control.injectFault({
      method: 'PUT',
      path: '/imageTemplates/[^/]+$',
      kind: '503',
      times: 4,
      retryAfterSeconds: 0,
    });
    const { buildId, output } = await build({ force: true });
    expect(output.result).toBe('Succeeded');
    const history = b.host.history(buildInstanceId(DEF)) as unknown as {
      EventType?: number;
      Name?: string;
      FireAt?: string;
    }[];
    const deploys = history.filter((e) => e.EventType === 4 && e.Name === ACTIVITY.deployTemplate);
    expect(deploys).toHaveLength(2);
    const i = history.indexOf(deploys[0]!);
    const j = history.indexOf(deploys[1]!);
    expect(history.slice(i, j).some((e) => e.EventType === 10)).toBe(true);
    await expectCleanEnd(buildId, output, true);
  });
});
