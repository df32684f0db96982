/**
 * The build orchestration end to end through the local Durable host, the ARM emulator and Azurite:
 * started by the app's own POST /api/builds, driven on virtual time. After every build: no Image
 * Contributor assignment is left, the record is terminal and correct, logs are archived when produced.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type BuildHost, startBuildHost } from './build-host.js';

let b: BuildHost;
beforeAll(async () => {
  b = await startBuildHost();
});
afterAll(async () => {
  await b?.stop();
});
beforeEach(async () => {
  b.harness.emulator.control.reset();
  await b.prepareStagingLogs();
});

describe('build orchestration end to end', () => {
  it('success: image produced and tagged, logs archived, grant removed, record Succeeded', async () => {
    const buildId = await b.startBuild('aks-jumpbox');
    const { runtimeStatus, output } = await b.finish('aks-jumpbox');
    expect(runtimeStatus).toBe('Completed');
    if (output.result !== 'Succeeded') console.log(JSON.stringify(output, null, 1));
    expect(output).toMatchObject({ buildId, result: 'Succeeded' });
    expect(output.imageId).toMatch(/\/providers\/Microsoft\.Compute\/images\//);
    expect(output.logs.some((l) => l.endsWith(`/aks-jumpbox/${buildId}/customization.log`))).toBe(true);
    expect(b.imageContributorAssignments()).toEqual([]);
    const rec = await b.records.get(buildId);
    expect(rec).toMatchObject({ status: 'Succeeded', phase: 'done', imageId: output.imageId, templateName: output.templateName });
  });
});
