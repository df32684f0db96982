/**
 * End to end through the entry points with the REAL build orchestration: the CLI starts a build over HTTP
 * on the local host, the orchestration drives the ARM emulator, and the CLI reports the managed image;
 * then `provenance BUILD_ID` reads the record over HTTP and verifies the archived blob against its SHA-256.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type BuildIo, EXIT, parseBuildArgs, runBuild } from '../../src/cli/commands/build.js';
import { parseProvenanceArgs, runProvenance } from '../../src/cli/commands/provenance.js';
import { buildInstanceId } from '../../src/orchestration/contracts.js';
import { APP_ENTRY, type AppHost, startAppHost } from './app-host.js';

const WEBHOOK = 'https://hooks.example.test/services/T0/B0/secret-token';
/** What reached the webhook (the app's activities call the global fetch in this process). */
const deliveries: { status: number; body: Record<string, unknown> }[] = [];
const realFetch = globalThis.fetch;

let app: AppHost;
beforeAll(async () => {
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    if (String(input) !== WEBHOOK) return realFetch(input, init);
    // The first delivery attempt fails: the activity must retry with backoff.
    const status = deliveries.length === 0 ? 503 : 204;
    deliveries.push({ status, body: JSON.parse(String(init?.body)) as Record<string, unknown> });
    return new Response(null, { status });
  });
  app = await startAppHost({ entryModules: [APP_ENTRY], env: { NOTIFICATION_WEBHOOK_URL: WEBHOOK } });
});
afterAll(async () => {
  vi.restoreAllMocks();
  await app?.stop();
});

describe('a real build through the HTTP API', () => {
  it('CLI --wait exits 0 with the image id; the record is Succeeded; a second start while running was 409', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io: BuildIo = {
      env: { JUMPBOX_FUNCTION_KEY: app.host.functionKey },
      fetch,
      stdout: (s) => out.push(s),
      stderr: (s) => err.push(s),
      isTTY: false,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      now: () => Date.now(),
    };
    const args = [
      '--url',
      app.host.baseUrl,
      '--definition',
      'aks-jumpbox',
      '--wait',
      '--poll-interval',
      '100ms',
    ];
    const cli = runBuild(parseBuildArgs([...args, '--timeout', '60s']), io);
    let conflict = 0;
    for (let i = 0; i < 500; i++) {
      const s = await app.host.getStatus(buildInstanceId('aks-jumpbox'));
      if (s && /Pending|Running/.test(s.runtimeStatus)) {
        conflict = (await app.call('POST', '/api/builds', { body: { definition: 'aks-jumpbox' } })).status;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(conflict).toBe(409);
    const final = await app.host.waitForInstance(buildInstanceId('aks-jumpbox'), { timeoutMs: 60_000 });
    const code = await cli;
    expect(final.runtimeStatus, JSON.stringify(final.output)).toBe('Completed');
    expect(code, err.join('')).toBe(EXIT.ok);
    const imageId = out.join('').trim();
    expect(imageId).toMatch(/\/providers\/Microsoft\.Compute\/images\//i);
    expect(
      app.harness.emulator.state.images().map((i) => String((i as { id: string }).id).toLowerCase()),
    ).toContain(imageId.toLowerCase());
    const listed = await app.call('GET', '/api/builds?definition=aks-jumpbox&status=Succeeded');
    const built = (listed.body as { builds: { imageId: string; buildId: string }[] }).builds[0];
    expect(built?.imageId).toBe(imageId);

    // GET /api/builds/{id} carries the SHA-256 the build wrote for provenance.json; the provenance
    // command reads the record over HTTP and the blob from the archive, and verifies it.
    const detail = (await app.call('GET', `/api/builds/${built!.buildId}`)).body as {
      record: { provenance: string; provenanceSha256: string };
    };
    expect(detail.record.provenanceSha256).toMatch(/^[0-9a-f]{64}$/);
    const container = app.harness.clients
      .blobService(app.harness.appSettings.ARCHIVE_STORAGE_ACCOUNT_URL!)
      .getContainerClient(app.harness.appSettings.ARCHIVE_CONTAINER!);
    const readBlob = (url: string) =>
      container
        .getBlockBlobClient(decodeURIComponent(url.slice(container.url.length + 1)))
        .downloadToBuffer();
    const blob = await readBlob(detail.record.provenance);
    expect(createHash('sha256').update(blob).digest('hex')).toBe(detail.record.provenanceSha256);
    const shown: string[] = [];
    const warned: string[] = [];
    const provenanceCode = await runProvenance(
      parseProvenanceArgs([built!.buildId, '--url', app.host.baseUrl, '--json']),
      { ...io, stdout: (t) => shown.push(t), stderr: (t) => warned.push(t), readBlob },
    );
    expect(provenanceCode, warned.join('')).toBe(EXIT.ok);
    expect(JSON.parse(shown.join(''))).toMatchObject({
      verified: true,
      sha256: detail.record.provenanceSha256,
      record: { buildId: built!.buildId, image: imageId },
    });

    // The terminal summary reached the webhook on the second attempt.
    expect(deliveries.map((d) => d.status)).toEqual([503, 204]);
    expect(deliveries[1]?.body).toMatchObject({ kind: 'jumpbox-image-build', result: 'Succeeded', imageId });
  });
});
