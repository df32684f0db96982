/**
 * Builds that survive Azure as it really behaves, end to end through the local Durable host, the ARM
 * emulator and Azurite (started by the app's own POST /api/builds, driven on virtual time):
 * - role assignments take minutes to count (Azure RBAC troubleshooting: up to 10 minutes; the emulator's
 *   rbacPropagationSeconds) and Image Builder refuses a run without effective rights on a distribution target
 *   (MicrosoftDocs/azure-docs issue 99193): the build waits in phase waiting-for-grant, then succeeds;
 * - a grant that never takes effect within GRANT_PROPAGATION_TIMEOUT_MINUTES fails naming propagation;
 * - a forced rebuild whose run fails keeps the previous image, still current; retention keeps N;
 * - a failed template creation reports Image Builder's provisioningError and leaves no template;
 * - an isolated build (container-instance subnet) succeeds; a gallery in another resource group succeeds.
 * After every build: no Image Contributor assignment is left.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CURRENT_TAG } from '../../src/activities/image/promote-image.js';
import { parseImagesArgs, runImages } from '../../src/cli/commands/images.js';
import type { BuildOutput, BuildProgress } from '../../src/orchestration/contracts.js';
import { buildInstanceId } from '../../src/orchestration/contracts.js';
import { type BuildHost, startBuildHost } from './build-host.js';

const DEF = 'aks-jumpbox';

/** Drives virtual time in steps, collecting every custom status seen, until the build ends. */
async function finishWatching(
  b: BuildHost,
  definition = DEF,
  stepSeconds = 30,
): Promise<{ output: BuildOutput; statuses: BuildProgress[] }> {
  const id = buildInstanceId(definition);
  const statuses: BuildProgress[] = [];
  for (let i = 0; i < 20_000; i++) {
    await b.host.settle();
    const s = await b.host.getStatus(id);
    if (s?.customStatus) statuses.push(s.customStatus as BuildProgress);
    if (s && ['Completed', 'Failed', 'Terminated'].includes(s.runtimeStatus)) {
      expect(s.runtimeStatus).toBe('Completed');
      return { output: s.output as BuildOutput, statuses };
    }
    b.harness.clock.advanceBy(stepSeconds * 1000);
  }
  throw new Error(`${id} did not finish`);
}

describe('grant propagation and the working image (default scenario)', () => {
  let b: BuildHost;
  beforeAll(async () => {
    b = await startBuildHost({
      env: { GRANT_PROPAGATION_TIMEOUT_MINUTES: '30', IMAGE_RETENTION_COUNT: '2' },
    });
  });
  afterAll(async () => {
    await b?.stop();
  });
  beforeEach(() => {
    b.harness.emulator.control.reset();
    b.harness.emulator.control.setRbacPropagation(0);
  });
  afterEach(() => {
    b.harness.emulator.control.setRbacPropagation(0);
  });

  it.each([0, 300, 900])(
    'role assignments taking %i s to count: Succeeded, the wait visible in status and record, 0 grants left',
    async (delay) => {
      b.harness.emulator.control.setRbacPropagation(delay);
      const buildId = await b.startBuild(DEF, { force: true });
      const { output, statuses } = await finishWatching(b);
      expect(output.result).toBe('Succeeded');
      expect(b.imageContributorAssignments()).toEqual([]);
      const rec = await b.records.get(buildId);
      expect(rec?.status).toBe('Succeeded');
      expect(rec?.grantSeconds).toBeGreaterThan(0);
      expect(rec?.grantPropagationSeconds).toBe(output.grant?.propagationSeconds);
      if (delay === 0) {
        expect(output.grant?.refusals).toBe(0);
        expect(statuses.some((s) => s.phase === 'waiting-for-grant')).toBe(false);
      } else {
        // The grant was made before the template, so part of the delay passes during template creation.
        expect(output.grant?.refusals).toBeGreaterThan(0);
        expect(rec?.grantRefusals).toBe(output.grant?.refusals);
        expect(rec?.grantPropagationSeconds).toBeGreaterThanOrEqual(delay);
        expect(rec?.phaseTimestamps['waiting-for-grant']).toBeDefined();
        const waiting = statuses.filter((s) => s.phase === 'waiting-for-grant');
        expect(waiting.length).toBeGreaterThan(0);
        expect(Math.max(...waiting.map((s) => s.grantWaitSeconds ?? 0))).toBeGreaterThan(0);
      }
    },
  );

  it('a grant that never takes effect within the bound: Failed naming propagation, 0 grants left, no run', async () => {
    b.harness.emulator.control.setRbacPropagation(24 * 3600);
    const buildId = await b.startBuild(DEF, { force: true });
    const { output } = await finishWatching(b, DEF, 60);
    expect(output.result).toBe('Failed');
    expect(output.error?.code).toBe('GrantPropagationTimeout');
    expect(output.error?.message).toMatch(/propagation/);
    expect(output.error?.message).toMatch(/within 30 minutes/);
    expect(b.imageContributorAssignments()).toEqual([]);
    const rec = await b.records.get(buildId);
    expect(rec?.error?.code).toBe('GrantPropagationTimeout');
    expect(rec?.grantSeconds).toBeGreaterThanOrEqual(30 * 60);
  });

  it('forced rebuilds: a new image each time, the newest current, retention keeps N; a failed run keeps the current image', async () => {
    const images: string[] = [];
    for (let i = 0; i < 3; i++) {
      await b.startBuild(DEF, { force: true });
      const { output } = await finishWatching(b, DEF, 120);
      expect(output.result).toBe('Succeeded');
      images.push(output.imageId!);
    }
    expect(new Set(images).size).toBe(3);
    for (const id of images) expect(id).toMatch(new RegExp(`/images/${DEF}-\\d{8}-\\d+$`));
    const names = () =>
      b.harness.emulator.state
        .images()
        .filter((i) => (i.tags as Record<string, string> | undefined)?.['jumpbox-definition'] === DEF)
        .map((i) => ({
          id: String(i.id).toLowerCase(),
          current: (i.tags as Record<string, string>)[CURRENT_TAG],
        }));
    // IMAGE_RETENTION_COUNT=2: the oldest was deleted after the third success; the newest is current.
    /** The two newest images are kept and the newest is the only current one. */
    const expectKeptNewestTwo = () => {
      expect(
        names()
          .map((x) => x.id)
          .sort(),
      ).toEqual(
        images
          .slice(1)
          .map((x) => x.toLowerCase())
          .sort(),
      );
      expect(
        names()
          .filter((x) => x.current === 'true')
          .map((x) => x.id),
      ).toEqual([images[2]!.toLowerCase()]);
    };
    expectKeptNewestTwo();

    b.harness.emulator.control.setBuildBehaviour({ outcome: 'customizer-failure' });
    const failedId = await b.startBuild(DEF, { force: true });
    const failed = await finishWatching(b, DEF, 120);
    expect(failed.output.result).toBe('Failed');
    // The working image is untouched and still the current one; nothing was deleted.
    expectKeptNewestTwo();
    expect(b.imageContributorAssignments()).toEqual([]);
    expect((await b.records.get(failedId))?.status).toBe('Failed');

    // GET /api/definitions shows the current image.
    const res = await fetch(`${b.host.baseUrl}/api/definitions`, {
      headers: { 'x-functions-key': b.host.functionKey },
    });
    const body = (await res.json()) as { definitions?: { name: string; currentImageId?: string }[] };
    expect(body.definitions?.find((d) => d.name === DEF)?.currentImageId?.toLowerCase()).toBe(
      images[2]!.toLowerCase(),
    );
    // …and so does `jumpbox-builder images`, through the same API.
    const out: string[] = [];
    const code = await runImages(parseImagesArgs(['--url', b.host.baseUrl, '--definition', DEF, '--json']), {
      env: { JUMPBOX_FUNCTION_KEY: b.host.functionKey },
      fetch: globalThis.fetch,
      stdout: (t) => out.push(t),
      stderr: (t) => out.push(t),
    });
    expect(code).toBe(0);
    const shown = JSON.parse(out.join('')) as {
      definitions: { currentImageId: string | null; builtBy: string | null }[];
    };
    expect(shown.definitions[0]?.currentImageId?.toLowerCase()).toBe(images[2]!.toLowerCase());
    expect(shown.definitions[0]?.builtBy).not.toBe(failedId);
  });

  it("a failed template creation: Image Builder's reason in the record, the failed template deleted", async () => {
    // A staging group that exists in another region: Image Builder refuses it (BadStagingResourceGroup).
    await b.harness.clients.resources.resourceGroups.createOrUpdate(`rg-jumpbox-staging-${DEF}`, {
      location: 'westeurope',
    });
    const buildId = await b.startBuild(DEF, { force: true });
    const { output } = await finishWatching(b, DEF, 60);
    expect(output.result).toBe('Failed');
    expect(output.error?.code).toBe('TemplateProvisioningFailed');
    expect(output.error?.message).toMatch(/BadStagingResourceGroup/);
    expect(output.error?.message).toMatch(/region/);
    expect(output.error?.message).not.toMatch(/terminal provisioning state/);
    const rec = await b.records.get(buildId);
    expect(rec?.error?.message).toBe(output.error?.message);
    expect(b.harness.emulator.state.imageTemplates()).toEqual([]);
    expect(b.imageContributorAssignments()).toEqual([]);
  });

  it('cancel during Distributing: the partial image is removed (image-builder-troubleshoot.md), the current one kept', async () => {
    await b.startBuild(DEF, { force: true });
    const first = await finishWatching(b, DEF, 120);
    expect(first.output.result).toBe('Succeeded');
    let buildId = '';
    let partialId = '';
    const cancelled = b.whenRunReaches('Distributing', async () => {
      // What a cancelled distribution can leave behind: the image this run was writing.
      const running = b.harness.emulator.state
        .imageTemplates()
        .find((x) => x.lastRunStatus?.runSubState === 'Distributing')!;
      const t = await b.harness.clients.imageBuilder.virtualMachineImageTemplates.get(
        running.resourceGroup,
        running.name,
      );
      const target = (t.distribute ?? []).find((d) => d.type === 'ManagedImage') as { imageId?: string };
      partialId = target.imageId!;
      const name = partialId.slice(partialId.lastIndexOf('/') + 1);
      await b.harness.clients.compute.images
        .createOrUpdate(
          b.env.IMAGE_DESTINATION_RESOURCE_GROUP!,
          name,
          { location: 'eastus2', tags: { 'jumpbox-definition': DEF } },
          { updateIntervalInMs: 5 },
        )
        .pollUntilDone();
      const res = await fetch(`${b.host.baseUrl}/api/builds/${buildId}/cancel`, {
        method: 'POST',
        headers: { 'x-functions-key': b.host.functionKey },
      });
      expect(res.status).toBeLessThan(300);
    });
    buildId = await b.startBuild(DEF, { force: true });
    const { output } = await b.finishStepwise(DEF, 60);
    await cancelled;
    expect(output.result).toBe('Canceled');
    const ids = b.harness.emulator.state.images().map((i) => String(i.id).toLowerCase());
    expect(partialId).not.toBe('');
    expect(ids).not.toContain(partialId.toLowerCase());
    expect(ids).toContain(first.output.imageId!.toLowerCase());
    expect(b.imageContributorAssignments()).toEqual([]);
  });
});
