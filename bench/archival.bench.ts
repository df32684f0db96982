/**
 * Log archival: the app's copy of a customization log from a staging account to the archive container
 * (`copyBlobServerSide` in src/activities/logs/archive-logs.ts: Put Block From URL in 100 MiB ranges, four
 * in flight, then Put Block List with metadata) against a bare server-side copy of the same blob (one Put
 * Block From URL for the whole blob and a bare Put Block List), for 10 MB, 100 MB and 1 GB logs in Azurite
 * (in memory, HTTPS). A Copy Blob inside the staging account is printed as the lower bound.
 *
 * Figures per size: real seconds of each (median of ARCHIVAL_REPEATS runs, default 3, for sizes under
 * 100 MB; one run from 100 MB up), and this process's RSS growth while copying (peak RSS sampled every
 * 10 ms minus RSS before). Goal: the app's copy within 1.2x the bare copy's time and < 100 MB RSS growth
 * (the bytes never pass through the app). Sizes: ARCHIVAL_SIZES_MB=10,100,1024.
 */

import { copyBlobServerSide } from '../src/activities/logs/archive-logs.js';
import { createAzureClients, setCredentialOverride } from '../src/azure/clients.js';
import { startAzurite } from '../src/local/azurite.js';
import { LocalTestCredential } from '../src/local/test-credential.js';
import { createLocalCertificate } from '../src/local/tls.js';
import { emit, line, round } from './lib/report.js';

const SIZES = (process.env.ARCHIVAL_SIZES_MB ?? '10,100,1024').split(',').map(Number);
const REPEATS = Number(process.env.ARCHIVAL_REPEATS ?? 3);
const MB = 1024 * 1024;

const certificate = await createLocalCertificate();
// A generous start-up timeout: the bench machine is shared and often busy.
const azurite = await startAzurite({ certificate, extraAccounts: ['aibstaging0'], startTimeoutMs: 180_000 });
setCredentialOverride(new LocalTestCredential());
const clients = createAzureClients({
  subscriptionId: '00000000-0000-4000-8000-000000000001',
  armEndpoint: 'https://127.0.0.1:9', // not used: blob calls only
  caCert: { pem: certificate.cert },
  credential: new LocalTestCredential(),
});
const staging = clients.blobService(azurite.blobAccountUrl('aibstaging0')).getContainerClient('packerlogs');
const archive = clients.blobService(azurite.blobAccountUrl()).getContainerClient('aib-logs-bench');
// The source container is readable anonymously here as in the emulator's own copy tests (Azurite's copy
// source check); the app still sends its bearer token as x-ms-copy-source-authorization.
await staging.createIfNotExists({ access: 'blob' });
await archive.createIfNotExists();
const token = await new LocalTestCredential().getToken('https://storage.azure.com/.default');
const bearer = { scheme: 'Bearer', value: token!.token };

/** A source log of `sizeMB` written in 8 MiB blocks of log lines (one buffer reused: low memory here). */
async function writeSource(name: string, sizeMB: number): Promise<number> {
  const chunk = Buffer.from(
    'Dec 02 17:00:00 packer azure-arm: ==> Provisioning with shell script: /tmp/script.sh (apt-get upgrade)\n'
      .repeat(Math.ceil((8 * MB) / 100))
      .slice(0, 8 * MB),
  );
  const blob = staging.getBlockBlobClient(name);
  const ids: string[] = [];
  let left = sizeMB * 1000 * 1000;
  for (let i = 0; left > 0; i++) {
    const n = Math.min(chunk.length, left);
    const id = Buffer.from(`src-${String(i).padStart(6, '0')}`).toString('base64');
    await blob.stageBlock(id, n === chunk.length ? chunk : chunk.subarray(0, n), n);
    ids.push(id);
    left -= n;
  }
  await blob.commitBlockList(ids);
  return sizeMB * 1000 * 1000;
}

/** Real seconds and peak RSS growth (MB) of `f`. */
async function measure(f: () => Promise<unknown>): Promise<{ seconds: number; rssGrowthMB: number }> {
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  const t = performance.now();
  await f();
  const seconds = (performance.now() - t) / 1000;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { seconds, rssGrowthMB: (peak - before) / MB };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: {
  sizeMB: number;
  seconds: number;
  bareSeconds: number;
  rssGrowthMB: number;
  bareRssGrowthMB: number;
}[] = [];
line('size      app copy s  bare copy s  app/bare  app RSS growth MB  bare RSS growth MB  Copy Blob s');
for (const sizeMB of SIZES) {
  const name = `run-${sizeMB}/customization.log`;
  const size = await writeSource(name, sizeMB);
  const source = staging.getBlockBlobClient(name).url;
  const app: { seconds: number; rssGrowthMB: number }[] = [];
  const bare: { seconds: number; rssGrowthMB: number }[] = [];
  const copyBlob: { seconds: number; rssGrowthMB: number }[] = [];
  const repeats = sizeMB >= 100 ? 1 : REPEATS;
  for (let i = 0; i < repeats; i++) {
    // Alternate the order so that neither always runs on a warmer (or busier) Azurite.
    const runs = [
      async () =>
        app.push(
          await measure(() =>
            copyBlobServerSide(clients, source, size, archive.getBlockBlobClient(`app/${name}`), {
              definition: 'bench',
              buildid: `b${i}`,
            }),
          ),
        ),
      async () =>
        bare.push(
          await measure(async () => {
            // The same server-side mechanism without the app around it: one Put Block From URL for the
            // whole blob (a block may hold up to 4000 MiB) and a bare Put Block List.
            const dst = archive.getBlockBlobClient(`bare/${name}`);
            const id = Buffer.from('bare-000000').toString('base64');
            await dst.stageBlockFromURL(id, source, 0, size, { sourceAuthorization: bearer });
            await dst.commitBlockList([id]);
          }),
        ),
      async () =>
        copyBlob.push(
          await measure(async () => {
            // Copy Blob inside the staging account (Azurite answers 500 to a cross-account Copy Blob):
            // Azurite copies in its own memory, the lower bound of any server-side copy here.
            const poller = await staging
              .getBlockBlobClient(`copy/${name}`)
              .beginCopyFromURL(source, { intervalInMs: 20 });
            await poller.pollUntilDone();
          }),
        ),
    ];
    if (i % 2) runs.reverse();
    for (const r of runs) await r();
    await archive.getBlockBlobClient(`app/${name}`).deleteIfExists();
    await archive.getBlockBlobClient(`bare/${name}`).deleteIfExists();
    await staging.getBlockBlobClient(`copy/${name}`).deleteIfExists();
  }
  await staging.getBlockBlobClient(name).deleteIfExists();
  const row = {
    sizeMB,
    seconds: round(median(app.map((x) => x.seconds)), 2),
    bareSeconds: round(median(bare.map((x) => x.seconds)), 2),
    rssGrowthMB: round(Math.max(...app.map((x) => x.rssGrowthMB))),
    bareRssGrowthMB: round(Math.max(...bare.map((x) => x.rssGrowthMB))),
    copyBlobSeconds: round(median(copyBlob.map((x) => x.seconds)), 2),
  };
  rows.push(row);
  line(
    `${`${sizeMB} MB`.padEnd(9)} ${String(row.seconds).padStart(10)} ${String(row.bareSeconds).padStart(12)} ${`×${(row.seconds / row.bareSeconds).toFixed(2)}`.padStart(9)} ${String(row.rssGrowthMB).padStart(18)} ${String(row.bareRssGrowthMB).padStart(19)} ${String(row.copyBlobSeconds).padStart(12)}`,
  );
}
line(`(under 100 MB: medians of ${REPEATS} alternating runs; from 100 MB: one run)`);
line('goal: app copy ≤ 1.2x the bare copy, RSS growth < 100 MB');
emit('archival', rows);
await azurite.stop();
process.exit(0);
