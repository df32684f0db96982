/**
 * A crash at every step: the local Durable host process running the whole app is killed with SIGKILL
 *  - inside activities, right after a mutating ARM call reached the emulator (the effect is applied, the
 *    activity's result is not yet journaled, so the activity runs again), and
 *  - after orchestration episodes,
 * and restarted each time on the same state directory. The ARM emulator and Azurite live in this process
 * (they are Azure: they survive the app's crash). The build must finish, each activity's effect applied
 * once (one template, one image, one record, no duplicate role assignment), no Image Contributor left,
 * the record terminal, the log archived.
 *
 * Two modes, one test each time (nothing skipped):
 *  - default (`npm test`): a sample - the host killed inside the calls that grant, create the template,
 *    start the run and revoke (about four kill-restarts), no episode kills;
 *  - RUN_CRASH_TEST=1: inside the first landing of every distinct mutating call, and after every
 *    CRASH_EVERY-th committed episode (default 20; 1 = each one). CRASH_TRACE=1 prints one line per life.
 * A stall detector fails the test with the instance's state and the last ARM calls when a life makes no
 * progress (no episode, no ARM request) for STALL_TICKS polls.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAzureClients } from '../../src/azure/clients.js';
import { type ArmEmulator, startArmEmulator } from '../../src/local/arm-emulator/index.js';
import { STAGING_ACCOUNT_POOL } from '../../src/local/azurite.js';
import { VirtualClock } from '../../src/local/clock.js';
import { appSettingsFor } from '../../src/local/scenarios/index.js';
import { LocalTestCredential } from '../../src/local/test-credential.js';
import { BuildRecordStore } from '../../src/records/build-records.js';
import { sharedAzurite } from '../support/azurite.js';
import {
  buildInstanceStatus,
  type InstanceStatusView,
  isFinished,
  runJanitor,
  StallDetector,
} from './fixtures/build-watch.js';

const SCALE = 120;
const FULL = process.env.RUN_CRASH_TEST === '1';
const EVERY = FULL ? Number(process.env.CRASH_EVERY ?? 20) : Number.POSITIVE_INFINITY;
/** The sample: kill inside the first landing of these mutating calls only. */
const SAMPLED_CALLS = [
  /^PUT .*\/resourceGroups\/rg-jumpbox-images\/providers\/Microsoft\.Authorization\/roleAssignments\/\{\}$/i,
  /^PUT .*\/imageTemplates\/\{\}$/i,
  /^POST .*\/imageTemplates\/\{\}\/run$/i,
  /^DELETE .*\/resourceGroups\/rg-jumpbox-images\/providers\/Microsoft\.Authorization\/roleAssignments\/\{\}$/i,
];
/** Polls (200 ms apart) without an episode or an ARM request before the test fails as stalled. */
const STALL_TICKS = Number(process.env.CRASH_STALL_TICKS ?? 300);
const CHILD = fileURLToPath(new URL('./fixtures/crash-host.ts', import.meta.url));
const DEF = 'aks-jumpbox';

let emulator: ArmEmulator;
let env: Record<string, string>;
let records: BuildRecordStore;
let archiveCert: string;
const epochVirtual = Date.UTC(2026, 0, 1);
const epochReal = Date.now();
const functionKey = randomUUID().replace(/-/g, '');
const stateDir = mkdtempSync(join(tmpdir(), 'crash-every-step-'));

beforeAll(async () => {
  const a = sharedAzurite();
  archiveCert = a.caCertPem;
  const clock = new VirtualClock(epochVirtual + (Date.now() - epochReal) * SCALE, SCALE);
  emulator = await startArmEmulator({
    certificate: {
      cert: a.caCertPem,
      key: readFileSync(a.keyPath, 'utf8'),
      certPath: a.certPath,
      keyPath: a.keyPath,
    },
    clock,
    storage: {
      blobEndpoint: a.endpoints.blob,
      stagingAccounts: a.accounts.filter((x) => STAGING_ACCOUNT_POOL.includes(x)),
    },
  });
  const suffix = randomUUID().replace(/-/g, '').slice(0, 8);
  env = {
    ...appSettingsFor(emulator, {
      blobAccountUrl: `${a.endpoints.blob}/devstoreaccount1`,
      tableEndpoint: `${a.endpoints.table}/devstoreaccount1`,
    }),
    DURABLE_TASK_HUB_NAME: `crash${suffix}`,
    IMAGE_DEFINITIONS: JSON.stringify([{ name: DEF }]),
    RECORDS_TABLE_NAME: `crash${suffix}`,
    ARCHIVE_CONTAINER: `crash-logs-${suffix}`,
  };
  const clients = createAzureClients({
    subscriptionId: emulator.subscriptionId,
    armEndpoint: emulator.armEndpoint,
    caCert: { pem: a.caCertPem },
    credential: new LocalTestCredential(),
  });
  records = new BuildRecordStore(clients.table(env.RECORDS_TABLE_ENDPOINT!, env.RECORDS_TABLE_NAME!));
});

const children = new Set<ChildProcess>();

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await emulator?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

interface Life {
  readonly child: ChildProcess;
  readonly baseUrl: string;
  episodes: number;
  readonly exited: Promise<void>;
}

async function startHost(onEpisode: (life: Life) => void): Promise<Life> {
  // node itself with the tsx loader (not the tsx wrapper, whose child would survive a SIGKILL of the wrapper).
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: {
      ...process.env,
      CRASH_HOST_CONFIG: JSON.stringify({
        stateDir,
        env,
        functionKey,
        epochVirtual,
        epochReal,
        scale: SCALE,
      }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const lines = createInterface({ input: child.stdout! });
  return new Promise<Life>((resolve, reject) => {
    let life: Life | undefined;
    lines.on('line', (line) => {
      let msg: { ready?: string; episode?: number };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        return;
      }
      if (msg.ready) {
        life = { child, baseUrl: msg.ready, episodes: 0, exited };
        resolve(life);
      } else if (msg.episode && life) {
        life.episodes = msg.episode;
        onEpisode(life);
      }
    });
    void exited.then(() => {
      if (!life) reject(new Error('the host process exited before it was ready'));
    });
  });
}

function kill(life: Life): void {
  if (life.child.exitCode === null && life.child.signalCode === null) life.child.kill('SIGKILL');
}

const MUTATING = /^(PUT|POST|DELETE|PATCH)$/;
const callKey = (method: string, url: string) =>
  `${method} ${new URL(url).pathname.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/gi, '{}').replace(new RegExp(`${DEF}-[0-9a-f]{8,}`, 'g'), '{}')}`;

function describeStall(lifeNo: number, status: unknown): string {
  const last = emulator.state
    .requests()
    .slice(-8)
    .map((x) => `${x.request.method} ${new URL(x.request.url).pathname} -> ${x.response.statusCode}`);
  return `the build stalled in host life ${lifeNo}: no episode and no ARM request for ${STALL_TICKS} polls; instance ${JSON.stringify(status)}; last ARM calls:\n  ${last.join('\n  ')}`;
}

describe(`SIGKILL of the host ${FULL ? 'at every step' : 'at sampled steps (RUN_CRASH_TEST=1: every step)'}, restart on the same state`, () => {
  it('the build finishes; every effect applied once; no grant left; the record terminal; the log archived', async () => {
    const killedInside = new Set<string>();
    let kills = 0;
    let buildId: string | undefined;
    let status: InstanceStatusView | undefined;
    let seen = 0;
    for (let lifeNo = 0; lifeNo < 400; lifeNo++) {
      let current: Life | undefined;
      let progress = 0;
      const life = await startHost((l) => {
        progress += 1;
        // After an episode commit: crash every EVERY-th one (counted across lives).
        if ((kills + l.episodes) % EVERY === 0) kill(l);
      });
      current = life;
      // Inside an activity: the first time each chosen mutating ARM call lands, crash right away.
      const watch = setInterval(() => {
        const all = emulator.state.requests();
        for (; seen < all.length; seen++) {
          progress += 1;
          const x = all[seen]!;
          if (!MUTATING.test(x.request.method) || x.response.statusCode >= 400) continue;
          const key = callKey(x.request.method, x.request.url);
          if (killedInside.has(key)) continue;
          if (!FULL && !SAMPLED_CALLS.some((p) => p.test(key))) continue;
          killedInside.add(key);
          kill(current!);
        }
      }, 2);
      try {
        if (!buildId) {
          const res = await fetch(`${life.baseUrl}/api/builds`, {
            method: 'POST',
            headers: { 'x-functions-key': functionKey, 'content-type': 'application/json' },
            body: JSON.stringify({ definition: DEF, reason: 'crash test', force: true }),
          });
          const body = (await res.json()) as { buildId: string };
          expect(res.status).toBe(202);
          buildId = body.buildId;
        }
        // Wait for this life to die, or for the build to end; fail clearly when nothing moves.
        const stall = new StallDetector(STALL_TICKS);
        stall.poll(progress);
        for (;;) {
          const dead = await Promise.race([
            life.exited.then(() => true),
            new Promise((r) => setTimeout(() => r(false), 200)),
          ]);
          if (dead) break;
          status = (await buildInstanceStatus(life.baseUrl, functionKey, DEF)) ?? status;
          if (isFinished(status)) break;
          if (stall.poll(progress)) {
            kill(life);
            throw new Error(describeStall(lifeNo, status));
          }
        }
      } finally {
        clearInterval(watch);
      }
      if (isFinished(status)) {
        // Let the janitor run once in this last life, then stop it.
        await runJanitor(life.baseUrl, functionKey);
        await new Promise((r) => setTimeout(r, 1500));
        kill(life);
        await life.exited;
        break;
      }
      await life.exited;
      kills += 1;
      if (process.env.CRASH_TRACE)
        process.stderr.write(
          `life ${lifeNo}: ${life.episodes} episode(s), status ${status?.runtimeStatus}, killed inside ${[...killedInside].at(-1)}\n`,
        );
    }
    expect(status?.runtimeStatus).toBe('Completed');
    if (FULL) {
      expect(kills).toBeGreaterThan(5);
      expect(killedInside.size).toBeGreaterThan(4);
    } else {
      // Every sampled call was killed inside once, and nothing else was.
      expect(killedInside.size).toBe(SAMPLED_CALLS.length);
      expect(kills).toBe(SAMPLED_CALLS.length);
    }

    // Effects applied once.
    const templates = emulator.state.imageTemplates();
    expect(templates).toHaveLength(1);
    expect(emulator.state.images()).toHaveLength(1);
    const assignments = emulator.state
      .roleAssignments()
      .map((a) => `${a.scope.toLowerCase()} ${a.roleDefinitionId.toLowerCase()} ${a.principalId}`);
    expect(new Set(assignments).size).toBe(assignments.length);
    const imageContributor = env
      .IMAGE_CONTRIBUTOR_ROLE_ID!.slice(env.IMAGE_CONTRIBUTOR_ROLE_ID!.lastIndexOf('/') + 1)
      .toLowerCase();
    expect(assignments.filter((a) => a.includes(imageContributor))).toEqual([]);
    const all = await records.list({ definition: DEF, top: 100 });
    expect(all.map((r) => r.buildId)).toEqual([buildId]);
    expect(all[0]).toMatchObject({ status: 'Succeeded', phase: 'done' });
    expect(all[0]?.logUrls.some((u) => u.endsWith(`/${DEF}/${buildId}/customization.log`))).toBe(true);
    void archiveCert;
  }, 1_200_000);
});
