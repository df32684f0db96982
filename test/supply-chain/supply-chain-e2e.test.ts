/**
 * The supply chain end to end (issue 17): local Durable host with the app's registrations, the ARM emulator
 * (whose Image Builder runs the scan customizer's gate from the template: src/local/arm-emulator/aib/
 * scan-output.ts), Azurite, one virtual clock (it starts 2026-01-01T00:00Z).
 * - a clean build: SBOM, report and provenance archived beside the logs and linked from the record and the
 *   output; the record carries the SHA-256 of each archived blob, and the image is tagged with the provenance
 *   URL and the same SHA-256; `provenance BUILD_ID` reads the real record and blob and verifies it;
 * - a fixable finding (CVE-2024-6387 in openssh-server) fails the gate: VulnerabilityGateFailed naming it,
 *   grant removed, logs and report archived;
 * - the same finding allowlisted until 2026-01-03 passes; after that day the same definition fails again;
 * - a definition distributing to a managed image and a gallery: both carry the provenance tags.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ProvenanceJson, runProvenance } from '../../src/cli/commands/provenance.js';
import { type BuildOutput, buildInstanceId } from '../../src/orchestration/contracts.js';
import type { ProvenanceRecord } from '../../src/supply-chain/provenance.js';
import { type BuildHost, startBuildHost } from '../orchestration/build-host.js';

const SUB = '00000000-0000-4000-8000-000000000001';
const GALLERY_RG = 'rg-shared-galleries';
const GALLERY_IMAGE = `/subscriptions/${SUB}/resourceGroups/${GALLERY_RG}/providers/Microsoft.Compute/galleries/galsc/images/jumpbox`;
const FAST = { updateIntervalInMs: 5 };
const CVE = 'CVE-2024-6387';

let b: BuildHost;
beforeAll(async () => {
  b = await startBuildHost({
    definitions: [
      { name: 'aks-jumpbox' },
      {
        name: 'allow-box',
        vulnerabilityGate: {
          allowlist: [
            { id: CVE, expires: '2026-01-03', reason: 'sshd is not exposed; the fixed base image is due' },
          ],
        },
      },
      {
        name: 'both-box',
        distribute: {
          managedImage: true,
          gallery: { imageDefinitionId: GALLERY_IMAGE, targetRegions: [{ name: 'eastus2' }] },
        },
      },
    ],
    env: { GALLERY_RESOURCE_GROUPS: GALLERY_RG },
  });
});
afterAll(async () => {
  await b?.stop();
});
beforeEach(() => {
  b.harness.emulator.control.setBuildBehaviour({ findings: 'typical', outcome: 'success' });
});

/** Lets a build the app's timers started (the monthly rebuild fires on the 1st) finish first. */
async function idle(definition: string): Promise<void> {
  for (let i = 0; i < 20_000; i++) {
    await b.host.settle();
    const s = await b.host.getStatus(buildInstanceId(definition));
    if (!s || !['Pending', 'Running'].includes(s.runtimeStatus)) return;
    b.harness.clock.advanceBy(60_000);
  }
}

async function run(definition: string): Promise<{ buildId: string; output: BuildOutput }> {
  await idle(definition);
  const buildId = await b.startBuild(definition, { force: true });
  const id = buildInstanceId(definition);
  for (let i = 0; i < 20_000; i++) {
    await b.host.settle();
    const s = await b.host.getStatus(id);
    if (s && ['Completed', 'Failed', 'Terminated'].includes(s.runtimeStatus)) {
      expect(s.runtimeStatus).toBe('Completed');
      return { buildId, output: s.output as BuildOutput };
    }
    b.harness.clock.advanceBy(60_000);
  }
  throw new Error('did not finish');
}

function archive() {
  return b.harness.clients
    .blobService(b.env.ARCHIVE_STORAGE_ACCOUNT_URL!)
    .getContainerClient(b.env.ARCHIVE_CONTAINER!);
}

async function blobBytes(url: string): Promise<Buffer> {
  const prefix = `${archive().url}/`;
  expect(url.startsWith(prefix)).toBe(true);
  return archive()
    .getBlockBlobClient(decodeURIComponent(url.slice(prefix.length)))
    .downloadToBuffer();
}

async function blobText(url: string): Promise<string> {
  return (await blobBytes(url)).toString('utf8');
}

const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function imageContributorAssignments() {
  const guid = b.env.IMAGE_CONTRIBUTOR_ROLE_ID!.slice(b.env.IMAGE_CONTRIBUTOR_ROLE_ID!.lastIndexOf('/') + 1);
  return b.harness.emulator.state
    .roleAssignments()
    .filter((a) => a.roleDefinitionId.toLowerCase().endsWith(guid.toLowerCase()));
}

function tagsOf(id: string): Record<string, string> {
  const all = [...b.harness.emulator.state.images(), ...b.harness.emulator.state.galleryImageVersions()];
  const r = all.find((x) => String(x.id).toLowerCase() === id.toLowerCase());
  return (r?.tags ?? {}) as Record<string, string>;
}

describe('supply chain end to end', () => {
  it('a clean build: SBOM, report and provenance archived and linked; the image tagged with its provenance', async () => {
    const { buildId, output } = await run('aks-jumpbox');
    expect(output.result).toBe('Succeeded');
    const folder = `${archive().url}/aks-jumpbox/${buildId}/`;
    expect(output.sbom).toBe(`${folder}sbom.cdx.json`);
    expect(output.provenance).toBe(`${folder}provenance.json`);
    expect(output.vulnerabilities).toEqual({
      critical: 0,
      high: 0,
      medium: 0,
      low: 3,
      unknown: 0,
      blocking: [],
      report: `${folder}vulnerabilities.json`,
    });
    const rec = await b.records.get(buildId);
    expect(rec).toMatchObject({
      sbom: output.sbom,
      provenance: output.provenance,
      vulnerabilities: output.vulnerabilities,
    });
    // The record carries the SHA-256 of each blob as archived, and so does the output.
    expect(rec?.sbomSha256).toBe(sha256Of(await blobBytes(output.sbom!)));
    expect(rec?.vulnerabilitiesSha256).toBe(sha256Of(await blobBytes(output.vulnerabilities!.report)));
    expect(rec?.provenanceSha256).toBe(sha256Of(await blobBytes(output.provenance!)));
    expect(output).toMatchObject({
      sbomSha256: rec?.sbomSha256,
      provenanceSha256: rec?.provenanceSha256,
      vulnerabilitiesSha256: rec?.vulnerabilitiesSha256,
    });

    const sbom = JSON.parse(await blobText(output.sbom!)) as {
      bomFormat: string;
      components: { name: string }[];
    };
    expect(sbom.bomFormat).toBe('CycloneDX');
    expect(sbom.components.map((c) => c.name)).toEqual(expect.arrayContaining(['openssh-server', 'kubectl']));
    const report = JSON.parse(await blobText(output.vulnerabilities!.report)) as { SchemaVersion: number };
    expect(report.SchemaVersion).toBe(2);

    const provenanceText = await blobText(output.provenance!);
    const p = JSON.parse(provenanceText) as ProvenanceRecord;
    expect(p).toMatchObject({
      buildId,
      definition: 'aks-jumpbox',
      result: 'Succeeded',
      source: { version: output.sourceImageVersion },
      template: { name: output.templateName },
      image: output.imageId,
    });
    expect(p.template.contentHash.slice(0, 12)).toBe(output.templateName!.slice(-12));
    expect(p.scripts.map((s) => s.name)).toContain('jumpbox-scan');
    // Tools as the VM reported them (tools.lock between markers), each with its source and SHA-256.
    const kubectl = p.tools.find((t) => t.id === 'kubectl');
    expect(kubectl).toMatchObject({ reportedByVm: true });
    expect(kubectl?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(p.times.runStartedAt! < p.times.runEndedAt!).toBe(true);

    const tags = tagsOf(output.imageId!);
    expect(tags['jumpbox-provenance']).toBe(output.provenance);
    expect(tags['jumpbox-provenance-sha256']).toBe(createHash('sha256').update(provenanceText).digest('hex'));
    expect(tags['jumpbox-provenance-sha256']).toBe(rec?.provenanceSha256);
    expect(tags['jumpbox-provenance']).not.toMatch(/[?&]sig=/);

    // `provenance BUILD_ID` on this build's real record (as GET /api/builds/{id} answers it) and its
    // archived blob: verified. Then the blob is overwritten in the archive: refused, in one line.
    const cli = (json: boolean) => {
      const out: string[] = [];
      const err: string[] = [];
      const done = runProvenance(
        { buildId, url: 'https://app.example.net', json, keyEnv: 'K', auth: 'key' },
        {
          env: { K: 'function-key' },
          fetch: (async () =>
            new Response(JSON.stringify({ buildId, status: rec?.status, record: rec }), {
              status: 200,
            })) as unknown as typeof fetch,
          stdout: (t) => out.push(t),
          stderr: (t) => err.push(t),
          readBlob: blobBytes,
        },
      );
      return done.then((code) => ({ code, out: out.join(''), err: err.join('') }));
    };
    const genuine = await cli(true);
    expect((JSON.parse(genuine.out) as ProvenanceJson).record).toEqual(p);
    expect(genuine).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(genuine.out)).toMatchObject({
      provenance: output.provenance,
      sha256: rec?.provenanceSha256,
      verified: true,
      record: { buildId },
    });
    const forged = provenanceText.replace('"result": "Succeeded"', '"result": "Succeeded" ');
    expect(forged).not.toBe(provenanceText);
    await archive()
      .getBlockBlobClient(`aks-jumpbox/${buildId}/provenance.json`)
      .upload(forged, Buffer.byteLength(forged));
    const tampered = await cli(false);
    expect(tampered.code).toBe(1);
    expect(tampered.out).toBe('');
    expect(tampered.err).toBe(
      `jumpbox-builder provenance: ${output.provenance} was changed after the build: its sha256 is ${sha256Of(Buffer.from(forged))}, the build record says ${rec?.provenanceSha256} (the image tag jumpbox-provenance-sha256 holds the hash from build time); not shown, do not trust its content\n`,
    );
  });

  it('a fixable High finding fails the gate: VulnerabilityGateFailed names it, grant removed, report archived', async () => {
    b.harness.emulator.control.setBuildBehaviour({ findings: 'openssh' });
    const { buildId, output } = await run('aks-jumpbox');
    expect(output.result).toBe('Failed');
    expect(output.error?.code).toBe('VulnerabilityGateFailed');
    expect(output.error?.message).toContain(
      'CVE-2024-6387 (HIGH) in openssh-server 1:9.6p1-3ubuntu13, fixed in 1:9.6p1-3ubuntu13.3',
    );
    expect(output.vulnerabilities).toMatchObject({ high: 1, blocking: [expect.stringContaining(CVE)] });
    expect(output.imageId).toBeUndefined();
    expect(imageContributorAssignments()).toEqual([]);
    expect(output.logs.some((l) => l.endsWith(`/${buildId}/customization.log`))).toBe(true);
    expect(await blobText(output.vulnerabilities!.report)).toContain(CVE);
    const rec = await b.records.get(buildId);
    expect(rec?.error?.code).toBe('VulnerabilityGateFailed');
    expect(rec?.runSubState).toBe('Customizing');
    const p = JSON.parse(await blobText(output.provenance!)) as ProvenanceRecord;
    expect(p.result).toBe('Failed');
    expect(p.vulnerabilityGate.blocking?.[0]).toContain(CVE);
  });

  it('allowlisted until 2026-01-03: passes; once the entry has expired, the same definition fails again', async () => {
    b.harness.emulator.control.setBuildBehaviour({ findings: 'openssh' });
    const before = await run('allow-box');
    expect(new Date(b.harness.clock.now()).toISOString() < '2026-01-03').toBe(true);
    expect(before.output.result).toBe('Succeeded');
    expect(before.output.vulnerabilities).toMatchObject({ high: 1, blocking: [] });

    b.harness.clock.advanceTo(Date.UTC(2026, 0, 3, 0, 0, 1));
    const after = await run('allow-box');
    expect(after.output.result).toBe('Failed');
    expect(after.output.error?.code).toBe('VulnerabilityGateFailed');
    expect(after.output.error?.message).toContain(CVE);
    expect(imageContributorAssignments()).toEqual([]);
  });

  it('a managed image and a gallery version from one build: both carry the provenance tags', async () => {
    await b.harness.clients.resources.resourceGroups.createOrUpdate(GALLERY_RG, { location: 'eastus2' });
    await b.harness.clients.compute.galleries
      .createOrUpdate(GALLERY_RG, 'galsc', { location: 'eastus2' }, FAST)
      .pollUntilDone();
    await b.harness.clients.compute.galleryImages
      .createOrUpdate(
        GALLERY_RG,
        'galsc',
        'jumpbox',
        {
          location: 'eastus2',
          osType: 'Linux',
          osState: 'Generalized',
          hyperVGeneration: 'V2',
          identifier: { publisher: 'contoso', offer: 'jumpbox', sku: '24_04' },
        },
        FAST,
      )
      .pollUntilDone();
    const { output } = await run('both-box');
    expect(output.result).toBe('Succeeded');
    const versions = b.harness.emulator.state
      .galleryImageVersions()
      .filter((v) => String(v.id).toLowerCase().startsWith(GALLERY_IMAGE.toLowerCase()));
    expect(versions).toHaveLength(1);
    for (const id of [output.imageId!, String(versions[0]!.id)]) {
      expect(tagsOf(id)['jumpbox-provenance']).toBe(output.provenance);
      expect(tagsOf(id)['jumpbox-provenance-sha256']).toMatch(/^[0-9a-f]{64}$/);
      expect(tagsOf(id)['jumpbox-provenance-sha256']).toBe(output.provenanceSha256);
    }
  });
});
