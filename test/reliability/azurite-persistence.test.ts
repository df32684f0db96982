/**
 * Azurite on disk, as `npm run local -- --state DIR` runs it: what a client was told is written survives
 *  - a SIGKILL of Azurite's parent: the parent-death guard makes Azurite stop as on Ctrl+C, which saves its
 *    LokiJS metadata (node_modules/azurite/dist/src/azurite.js `shutdown`; lokijs `Loki.prototype.close`
 *    saves when dirty); otherwise the last autosave interval (5000 ms, LokiTableMetadataStore.js /
 *    LokiBlobMetadataStore.js `autosaveInterval`) of writes would be lost;
 *  - the next start stopping an Azurite still running on DIR (stopOrphanAzurite: SIGTERM, wait).
 * Each time the data is written right before the stop, well inside one autosave interval.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createAzureClients } from '../../src/azure/clients.js';
import { startAzurite } from '../../src/local/azurite.js';
import {
  chooseLocalPorts,
  processIsAlive,
  statePaths,
  stopOrphanAzurite,
} from '../../src/local/local-state.js';
import { LocalTestCredential } from '../../src/local/test-credential.js';
import { createLocalCertificate } from '../../src/local/tls.js';

const CHILD = fileURLToPath(new URL('./fixtures/azurite-parent.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'azurite-persistence-'));
const paths = statePaths(dir);
const children = new Set<ChildProcess>();

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (existsSync(paths.azuritePid)) {
    const saved = JSON.parse(readFileSync(paths.azuritePid, 'utf8')) as { pid: number };
    if (processIsAlive(saved.pid)) process.kill(saved.pid, 'SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
});

async function startParent(config: object): Promise<{ child: ChildProcess; azuritePid: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, AZURITE_PARENT_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  const lines = createInterface({ input: child.stdout! });
  const azuritePid = await new Promise<number>((resolve, reject) => {
    lines.on('line', (l) => resolve((JSON.parse(l) as { ready: number }).ready));
    child.once('exit', (code) =>
      reject(new Error(`the Azurite parent exited (${code}) before it was ready`)),
    );
  });
  return { child, azuritePid };
}

async function waitGone(pid: number, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (processIsAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`${what}: Azurite pid ${pid} is still running`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Azurite on disk (local --state)', () => {
  it('keeps blobs and table entities written just before its parent is SIGKILLed, and before a restart stops it', async () => {
    const certificate = await createLocalCertificate(paths.tls);
    const { blob, queue, table } = await chooseLocalPorts(0);
    const ports = { blob, queue, table };
    const config = {
      location: paths.azurite,
      pidFile: paths.azuritePid,
      ports,
      certPath: certificate.certPath,
      keyPath: certificate.keyPath,
    };
    const clients = createAzureClients({
      subscriptionId: '00000000-0000-4000-8000-000000000001',
      caCert: { pem: certificate.cert },
      credential: new LocalTestCredential(),
      maxRetries: 1,
    });
    const account = (p: number) => `https://127.0.0.1:${p}/devstoreaccount1`;
    const container = clients.blobService(account(blob)).getContainerClient('persisted');
    const records = clients.table(account(table), 'persisted');

    // 1. The parent dies by SIGKILL right after the writes returned.
    const first = await startParent(config);
    await container.create();
    await container.getBlockBlobClient('one.txt').upload('one', 3);
    await records.createTable();
    await records.createEntity({ partitionKey: 'p', rowKey: 'one', value: 1 });
    first.child.kill('SIGKILL');
    await waitGone(first.azuritePid, 'after its parent was killed');

    // 2. A second parent; the next start stops its Azurite while the parent still runs.
    const second = await startParent(config);
    await container.getBlockBlobClient('two.txt').upload('two', 3);
    await records.createEntity({ partitionKey: 'p', rowKey: 'two', value: 2 });
    const log: string[] = [];
    await stopOrphanAzurite(paths, (l) => log.push(l));
    expect(log.join('\n')).toMatch(
      new RegExp(`stopping the Azurite left by the previous run \\(pid ${second.azuritePid}\\)`),
    );
    expect(processIsAlive(second.azuritePid)).toBe(false);
    second.child.kill('SIGKILL');

    // 3. Everything is there for a new Azurite on the same location and ports.
    const third = await startAzurite({
      certificate,
      location: paths.azurite,
      ports,
      pidFile: paths.azuritePid,
    });
    try {
      for (const name of ['one', 'two']) {
        const body = await container.getBlockBlobClient(`${name}.txt`).downloadToBuffer();
        expect(body.toString()).toBe(name);
        expect(await records.getEntity('p', name)).toMatchObject({ value: name === 'one' ? 1 : 2 });
      }
    } finally {
      await third.stop();
    }
  }, 180_000);
});
