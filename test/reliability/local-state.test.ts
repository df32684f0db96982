/**
 * `npm run local -- --state DIR`, killed and restarted (issue #16): the real CLI process (node with the tsx
 * loader, so that SIGKILL reaches the process that holds the app, the ARM emulator and Azurite's parent) is
 * killed with SIGKILL
 *  - once the build's Image Contributor role assignment exists,
 *  - once the Image Builder run has started,
 *  - while the run customizes,
 *  - once the grant is revoked,
 * and started again on the same DIR each time. Everything dies together here (unlike
 * crash-every-step.test.ts, where Azure outlives the app), so this checks the state kept in DIR: the same
 * URLs and key answer, the build finishes Succeeded with each effect applied once (one template, one image,
 * one build record), no Image Contributor left, the log archived and readable from the restarted Azurite,
 * and no Azurite left running after a kill.
 * A stall detector fails the test with the last state when a life makes no progress for STALL_POLLS polls.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createAzureClients } from '../../src/azure/clients.js';
import { SecretScanner } from '../../src/faults/secrets.js';
import { processIsAlive, statePaths } from '../../src/local/local-state.js';
import { IMAGE_CONTRIBUTOR_ROLE_GUID } from '../../src/local/scenarios/default.js';
import { LocalTestCredential } from '../../src/local/test-credential.js';
import {
  buildInstanceStatus,
  type InstanceStatusView,
  isFinished,
  runJanitor,
  StallDetector,
} from './fixtures/build-watch.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const DEF = 'aks-jumpbox';
const SCALE = '120';
/** Polls (200 ms apart) without any change in the emulator or the instance before the test fails as stalled. */
const STALL_POLLS = Number(process.env.LOCAL_STATE_STALL_POLLS ?? 300);
/** RUN_CRASH_TEST=1: crash inside the first landing of every distinct mutating ARM call instead of the sample. */
const FULL = process.env.RUN_CRASH_TEST === '1';
/** In FULL mode, also a kill after every N-th episode a life commits (CRASH_EVERY, default 10). */
const CRASH_EVERY_EPISODES = Number(process.env.CRASH_EVERY ?? 10);
const root = mkdtempSync(join(tmpdir(), 'local-state-e2e-'));
const DIR = join(root, 'state');
const paths = statePaths(DIR);
const children = new Set<ChildProcess>();

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const name of ['state', 'state-discovery', 'state-full']) {
    const pidFile = statePaths(join(root, name)).azuritePid;
    if (!existsSync(pidFile)) continue;
    const { pid } = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number };
    if (processIsAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(root, { recursive: true, force: true });
});

interface Info {
  readonly baseUrl: string;
  readonly functionKey: string;
  readonly armEndpoint: string;
  readonly controlEndpoint: string;
}

interface Life {
  readonly child: ChildProcess;
  readonly info: Info;
  readonly exited: Promise<number | null>;
  stderr(): string;
}

function startLocal(args: readonly string[]): Promise<Life> {
  return startLocalIn(DIR, args);
}

async function startLocalIn(
  dir: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Life> {
  // node itself with the tsx loader (not the tsx wrapper, whose child would survive a SIGKILL of the wrapper).
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'local', '--state', dir, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const lines = createInterface({ input: child.stdout! });
  const info = await new Promise<Info>((resolve, reject) => {
    lines.once('line', (line) => resolve(JSON.parse(line) as Info));
    void exited.then((code) => reject(new Error(`local exited (${code}) before printing: ${stderr}`)));
  });
  return { child, info, exited, stderr: () => stderr };
}

/** The emulator's control API (HTTPS with the certificate kept in DIR/tls). */
function control<T>(info: Info, path: string, post?: unknown): Promise<T> {
  return controlIn<T>(paths.tls, info, path, post);
}

function controlIn<T>(tlsDir: string, info: Info, path: string, post?: unknown): Promise<T> {
  const ca = readFileSync(join(tlsDir, 'local-ca.pem'), 'utf8');
  const method = post === undefined ? 'GET' : 'POST';
  return new Promise<T>((resolve, reject) => {
    const req = request(
      `${info.controlEndpoint}${path}`,
      { ca, method, headers: { 'content-type': 'application/json' } },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => {
          if (res.statusCode! >= 300) reject(new Error(`${method} ${path}: ${res.statusCode} ${body}`));
          else resolve(JSON.parse(body) as T);
        });
      },
    );
    req.on('error', reject);
    req.end(post === undefined ? undefined : JSON.stringify(post));
  });
}

interface EmulatorState {
  imageTemplates: { name: string; lastRunStatus?: { runState: string; runSubState: string } }[];
  roleAssignments: { scope: string; roleDefinitionId: string; principalId: string }[];
  images: unknown[];
  galleryImageVersions: unknown[];
  requestCount: number;
}

const isImageContributor = (a: { roleDefinitionId: string }) =>
  a.roleDefinitionId.toLowerCase().endsWith(IMAGE_CONTRIBUTOR_ROLE_GUID);

/**
 * How each life ends, in order. `crash` faults (docs/emulator.md, POST /faults) make the emulator answer the
 * call, save its state and SIGKILL the whole `local` process: the effect is applied and the app dies before
 * it records the answer. The third is a SIGKILL from here once the control API shows the run customizing.
 */
const GRANT = 'PUT inside the grant';
const RUN = 'POST inside the start of the run';
const CUSTOMIZING = 'SIGKILL while the run is customizing';
const REVOKE = 'DELETE inside the revoke of the grant';
const KILL_POINTS = [GRANT, RUN, CUSTOMIZING, REVOKE] as const;
const GRANT_PATH =
  '/resourceGroups/rg-jumpbox-images/providers/Microsoft\\.Authorization/roleAssignments/[^/]+$';
const CRASH_FAULTS = [
  { method: 'PUT', path: GRANT_PATH, kind: 'crash', times: 1 },
  { method: 'POST', path: '/imageTemplates/[^/]+/run$', kind: 'crash', times: 1 },
  { method: 'DELETE', path: GRANT_PATH, kind: 'crash', times: 1 },
];
const customizing = (s: EmulatorState) =>
  s.imageTemplates.some((t) => t.lastRunStatus?.runSubState === 'Customizing');

async function appGet(info: Info, path: string): Promise<Response> {
  return fetch(`${info.baseUrl}${path}`, { headers: { 'x-functions-key': info.functionKey } });
}

async function waitGone(pid: number, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (processIsAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`${what}: pid ${pid} still runs`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

if (!FULL)
  describe('local --state DIR: SIGKILL at the grant, the run, while customizing and at the revoke; restart on the same DIR', () => {
    it('same URLs and key; the build finishes once; no grant left; the log archived', async () => {
      const lives: Info[] = [];
      const killedAt: string[] = [];
      let buildId: string | undefined;
      let status: InstanceStatusView | undefined;
      let last: EmulatorState | undefined;
      let life: Life | undefined;
      for (let lifeNo = 0; lifeNo <= KILL_POINTS.length; lifeNo++) {
        // The first start sets the scale; the second restates it (no change); later ones keep the saved one.
        life = await startLocal(lifeNo < 2 ? ['--time-scale', SCALE] : []);
        lives.push(life.info);
        const azuritePid = (JSON.parse(readFileSync(paths.azuritePid, 'utf8')) as { pid: number }).pid;
        // The key and URL saved in DIR work in every life.
        expect((await appGet(life.info, '/api/definitions')).status).toBe(200);
        if (!buildId) {
          for (const fault of CRASH_FAULTS) await control(life.info, '/faults', fault);
          const res = await fetch(`${life.info.baseUrl}/api/builds`, {
            method: 'POST',
            headers: { 'x-functions-key': life.info.functionKey, 'content-type': 'application/json' },
            body: JSON.stringify({ definition: DEF, reason: 'local --state test', force: true }),
          });
          expect(res.status).toBe(202);
          buildId = ((await res.json()) as { buildId: string }).buildId;
        }
        const killPoint = KILL_POINTS[lifeNo];
        const stall = new StallDetector(STALL_POLLS);
        for (;;) {
          await new Promise((r) => setTimeout(r, 200));
          if (life.child.exitCode !== null || life.child.signalCode !== null) {
            // Only a crash fault kills it; anything else is a failure of `local` itself.
            if (life.child.signalCode !== 'SIGKILL' || killPoint === undefined || killPoint === CUSTOMIZING) {
              throw new Error(
                `local died (${life.child.exitCode ?? life.child.signalCode}) in life ${lifeNo}: ${life.stderr().slice(-2000)}`,
              );
            }
            killedAt.push(killPoint);
            break;
          }
          try {
            last = await control<EmulatorState>(life.info, '/state');
            status = (await buildInstanceStatus(life.info.baseUrl, life.info.functionKey, DEF)) ?? status;
          } catch {
            continue; // the process is going down (a crash fault): seen at the next poll
          }
          if (killPoint === CUSTOMIZING && customizing(last)) {
            life.child.kill('SIGKILL');
            await life.exited;
            killedAt.push(killPoint);
            break;
          }
          if (isFinished(status)) break;
          if (stall.poll(JSON.stringify([last, status]))) {
            throw new Error(
              `life ${lifeNo} stalled${killPoint ? ` before "${killPoint}"` : ''}: instance ${JSON.stringify(status)}; emulator ${JSON.stringify(last)}; stderr:\n${life.stderr().slice(-2000)}`,
            );
          }
        }
        if (life.child.signalCode === 'SIGKILL') {
          // Azurite's parent-death guard stops it (saving its data); nothing is left holding DIR's ports.
          await waitGone(azuritePid, `Azurite after the kill (${killPoint})`);
          continue;
        }
        if (isFinished(status)) break;
      }
      expect(
        { killedAt, runtimeStatus: status?.runtimeStatus },
        `instance ${JSON.stringify(status)}; stderr:\n${life?.stderr().slice(-2000)}`,
      ).toEqual({ killedAt: [...KILL_POINTS], runtimeStatus: 'Completed' });
      const first = lives[0]!;
      for (const l of lives) expect(l).toEqual(first);
      const info = life!.info;

      // Let the janitor run once, then wait (bounded) until no Image Contributor assignment is left.
      await runJanitor(info.baseUrl, info.functionKey);
      const deadline = Date.now() + 30_000;
      let state = await control<EmulatorState>(info, '/state');
      while (state.roleAssignments.some(isImageContributor) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        state = await control<EmulatorState>(info, '/state');
      }

      // Each crash fault fired once, inside the call it names.
      const faults = await control<{ value: { path: string; hits: number }[] }>(info, '/faults');
      expect(faults.value.map((f) => [f.path, f.hits])).toEqual(CRASH_FAULTS.map((f) => [f.path, 1]));

      // Each effect once.
      expect(state.imageTemplates).toHaveLength(1);
      expect(state.images.length + state.galleryImageVersions.length).toBe(1);
      const keys = state.roleAssignments.map((a) =>
        `${a.scope} ${a.roleDefinitionId} ${a.principalId}`.toLowerCase(),
      );
      expect(new Set(keys).size).toBe(keys.length);
      expect(state.roleAssignments.filter(isImageContributor)).toEqual([]);
      const list = (await (await appGet(info, `/api/builds?definition=${DEF}&top=100`)).json()) as {
        builds: { buildId: string; status: string; logUrls: string[] }[];
      };
      expect(list.builds.map((b) => b.buildId)).toEqual([buildId]);
      expect(list.builds[0]).toMatchObject({ status: 'Succeeded' });

      // The archived log is in the restarted Azurite.
      const logUrl = list.builds[0]!.logUrls.find((u) => u.endsWith(`/${DEF}/${buildId}/customization.log`));
      expect(logUrl).toBeDefined();
      const clients = createAzureClients({
        subscriptionId: '00000000-0000-4000-8000-000000000001',
        caCert: { pem: readFileSync(join(paths.tls, 'local-ca.pem'), 'utf8') },
        credential: new LocalTestCredential(),
        maxRetries: 1,
      });
      const url = new URL(logUrl!);
      const [account, container, ...blob] = url.pathname.slice(1).split('/');
      const log = await clients
        .blobService(`${url.origin}/${account}`)
        .getContainerClient(container!)
        .getBlobClient(blob.join('/'))
        .downloadToBuffer();
      expect(log.length).toBeGreaterThan(0);

      // No credential in what DIR keeps for the emulator and the host, nor in what local printed: the only
      // secret in DIR is the function key in local.json (0600), by design.
      const scanner = new SecretScanner([info.functionKey]);
      const files = [paths.armState, paths.scenario, ...filesUnder(paths.durable)];
      for (const f of files) scanner.scan(f, readFileSync(f, 'utf8'));
      scanner.scan('local stderr', life!.stderr());
      // The emulator's state, the scenario and at least one instance journal.
      expect(files.length).toBeGreaterThan(2);
      expect(scanner.findings).toEqual([]);

      // A graceful stop still exits 0 and stops Azurite.
      const azurite = JSON.parse(readFileSync(paths.azuritePid, 'utf8')) as { pid: number };
      life!.child.kill('SIGTERM');
      expect(await life!.exited).toBe(0);
      await waitGone(azurite.pid, 'Azurite after SIGTERM');
      expect(existsSync(paths.lock)).toBe(false);
    }, 600_000);
  });

/** A crash fault's path for a call seen in the discovery build: names that vary per build become `[^/]+`. */
function callPattern(pathname: string): string {
  const generic = (seg: string) =>
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(seg) ||
    new RegExp(`${DEF}-[0-9a-z]{6,}`, 'i').test(seg) ||
    /^IT_/i.test(seg);
  const segments = decodeURIComponent(pathname)
    .split('/')
    .map((seg) => (generic(seg) ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return `^${segments.join('/')}$`;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** Mutating calls every build makes (so the build under test must have died inside each). */
const EVERY_BUILD = [
  /^PUT .*virtualNetworks.*roleAssignments/,
  /^PUT .*rg-jumpbox-images.*roleAssignments/,
  /^PUT .*imageTemplates\/\[\^\/\]\+\$$/,
  /^POST .*imageTemplates.*\/run\$$/,
  /^DELETE .*rg-jumpbox-images.*roleAssignments/,
  /^PATCH .*tags\/default\$$/,
];

interface Exchange {
  request: { method: string; url: string };
  response: { statusCode: number };
}

if (FULL)
  describe('local --state DIR: SIGKILL inside the first landing of every distinct mutating ARM call, restart on the same DIR', () => {
    it('the build finishes after a kill inside each of its mutating calls; no fault twice; no grant left; each effect once', async () => {
      // Discovery on a DIR of its own: one build without faults, then its distinct mutating calls from the
      // emulator's recording. The build under test then runs on a new DIR, so it makes the same calls (a
      // second build on the same DIR would reuse the image template and make fewer).
      const discoveryDir = join(root, 'state-discovery');
      const dir = join(root, 'state-full');
      const fullPaths = statePaths(dir);
      // ...and after every CRASH_EVERY-th orchestration episode a life commits (LOCAL_CRASH_EVERY_EPISODES).
      const start = (args: readonly string[]) =>
        startLocalIn(dir, args, { LOCAL_CRASH_EVERY_EPISODES: String(CRASH_EVERY_EPISODES) });
      let life = await startLocalIn(discoveryDir, ['--time-scale', SCALE]);
      const post = async (info: Info) => {
        const res = await fetch(`${info.baseUrl}/api/builds`, {
          method: 'POST',
          headers: { 'x-functions-key': info.functionKey, 'content-type': 'application/json' },
          body: JSON.stringify({ definition: DEF, reason: 'local --state every call', force: true }),
        });
        expect(res.status).toBe(202);
        return ((await res.json()) as { buildId: string }).buildId;
      };
      const first = await post(life.info);
      const stall = new StallDetector(STALL_POLLS);
      let status: InstanceStatusView | undefined;
      for (;;) {
        await new Promise((r) => setTimeout(r, 200));
        status = (await buildInstanceStatus(life.info.baseUrl, life.info.functionKey, DEF)) ?? status;
        if (isFinished(status)) break;
        if (stall.poll(JSON.stringify(status)))
          throw new Error(`the discovery build stalled: ${JSON.stringify(status)}`);
      }
      expect(status?.runtimeStatus).toBe('Completed');
      const recorded = await controlIn<{ value: Exchange[] }>(
        statePaths(discoveryDir).tls,
        life.info,
        '/requests',
      );
      const patterns = new Map<string, { method: string; path: string }>();
      for (const x of recorded.value) {
        if (!/^(PUT|POST|DELETE|PATCH)$/.test(x.request.method) || x.response.statusCode >= 400) continue;
        const path = callPattern(new URL(x.request.url).pathname);
        patterns.set(`${x.request.method} ${path}`, { method: x.request.method, path });
      }
      life.child.kill('SIGTERM');
      expect(await life.exited).toBe(0);
      // The build under test: it dies inside each call's first landing, and is restarted each time. Its first
      // life takes the faults and the start without episode kills (so the start is answered); every restart
      // also dies after every CRASH_EVERY-th episode.
      life = await startLocalIn(dir, ['--time-scale', SCALE]);
      for (const p of patterns.values()) {
        await controlIn(fullPaths.tls, life.info, '/faults', { ...p, kind: 'crash', times: 1 });
      }
      const second = await post(life.info);
      let kills = 0;
      let episodeKills = 0;
      status = undefined;
      for (let lifeNo = 0; lifeNo < 1000; lifeNo++) {
        const lifeStall = new StallDetector(STALL_POLLS);
        for (;;) {
          await new Promise((r) => setTimeout(r, 200));
          if (life.child.exitCode !== null || life.child.signalCode !== null) break;
          const now = await buildInstanceStatus(life.info.baseUrl, life.info.functionKey, DEF);
          if (now) status = now;
          if (isFinished(status) && status !== undefined) break;
          if (lifeStall.poll(JSON.stringify(now ?? null))) {
            throw new Error(
              `life ${lifeNo} stalled: instance ${JSON.stringify(status)}; stderr:\n${life.stderr().slice(-2000)}`,
            );
          }
        }
        if (life.child.signalCode === 'SIGKILL') {
          if (/LOCAL_CRASH_EVERY_EPISODES=\d+: SIGKILL after episode/.test(life.stderr())) episodeKills += 1;
          else kills += 1;
          // A restart can itself die after its first episode (an instance resumed at start), before it
          // prints its line: that is one more episode kill, and the next restart carries on.
          for (;;) {
            try {
              life = await start([]);
              break;
            } catch (e) {
              if (!/LOCAL_CRASH_EVERY_EPISODES=\d+: SIGKILL after episode/.test(String(e))) throw e;
              episodeKills += 1;
            }
          }
          status = undefined;
          continue;
        }
        if (life.child.exitCode !== null) throw new Error(`local exited: ${life.stderr().slice(-2000)}`);
        break;
      }
      expect(status?.runtimeStatus).toBe('Completed');
      const info = life.info;
      await runJanitor(info.baseUrl, info.functionKey);
      const deadline = Date.now() + 30_000;
      let state = await controlIn<EmulatorState>(fullPaths.tls, info, '/state');
      while (state.roleAssignments.some(isImageContributor) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        state = await controlIn<EmulatorState>(fullPaths.tls, info, '/state');
      }
      const faults = await controlIn<{ value: { method: string; path: string; hits: number }[] }>(
        fullPaths.tls,
        info,
        '/faults',
      );
      const fired = faults.value.filter((f) => f.hits > 0);
      process.stderr.write(
        `local --state, every call: ${patterns.size} distinct mutating ARM calls, ${kills} kills inside calls, ${fired.length} crash faults fired, ${episodeKills} kills after every ${CRASH_EVERY_EPISODES} episodes of a life\n${faults.value.map((f) => `  ${f.hits} ${f.method} ${f.path}`).join('\n')}\n`,
      );
      // One kill per fired fault, none twice. Every call each build makes fired; a conditional one (the
      // discovery build's clean-up of a template, e.g.) may not recur in the build under test.
      expect(faults.value.filter((f) => f.hits > 1)).toEqual([]);
      expect(kills).toBe(fired.length);
      expect(episodeKills).toBeGreaterThan(0);
      for (const must of EVERY_BUILD) {
        expect(
          faults.value.filter((f) => must.test(`${f.method} ${f.path}`)).map((f) => f.hits),
          String(must),
        ).toEqual([1]);
      }
      const keys = state.roleAssignments.map((a) =>
        `${a.scope} ${a.roleDefinitionId} ${a.principalId}`.toLowerCase(),
      );
      expect(new Set(keys).size).toBe(keys.length);
      expect(state.roleAssignments.filter(isImageContributor)).toEqual([]);
      expect(new Set(state.imageTemplates.map((t) => t.name)).size).toBe(state.imageTemplates.length);
      expect(state.imageTemplates).toHaveLength(1);
      expect(state.images.length + state.galleryImageVersions.length).toBe(1);
      const list = (await (await appGet(info, `/api/builds?definition=${DEF}&top=100`)).json()) as {
        builds: { buildId: string; status: string; logUrls: string[] }[];
      };
      expect(list.builds.map((b) => b.buildId)).toEqual([second]);
      expect(first).not.toBe(second);
      const b = list.builds[0]!;
      expect(b.status).toBe('Succeeded');
      expect(b.logUrls.some((u) => u.endsWith(`/${DEF}/${second}/customization.log`))).toBe(true);
      life.child.kill('SIGTERM');
      expect(await life.exited).toBe(0);
    }, 1_800_000);
  });
