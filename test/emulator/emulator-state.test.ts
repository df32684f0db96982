/**
 * The ARM emulator's state file (src/local/arm-emulator/persistence.ts), which `npm run local -- --state DIR`
 * uses so that the emulated Azure outlives a crash of the process it runs in.
 *
 * A SIGKILL is emulated by copying the state file right after an answer arrived (what the disk holds at
 * that moment) and starting a new emulator from the copy, on the same port and clock. What must hold is
 * what Azure gives a client whose process died: an operation URL it was handed keeps answering, a run it
 * started keeps running on the clock and ends with its image, its logs and its run output, and role
 * assignment changes keep their pending propagation (up to 10 minutes,
 * https://learn.microsoft.com/azure/role-based-access-control/troubleshooting#symptom---role-assignment-changes-are-not-being-detected)
 * with the same seeded delays as without the restart. A client polls the Azure-AsyncOperation URL it was given
 * until the operation ends, and the operation runs in Azure meanwhile
 * (https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations); no source states how
 * long ARM keeps an operation's status, so the emulator keeps it (docs/emulator.md, "State on disk").
 */
import { randomUUID } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FaultInjector } from '../../src/local/arm-emulator/faults.js';
import type { PropagationSpec } from '../../src/local/arm-emulator/index.js';
import { RbacPropagation } from '../../src/local/arm-emulator/rbac-propagation.js';
import { VirtualClock } from '../../src/local/clock.js';
import { armRequest, type EmulatorHarness, startTestEmulator } from '../support/emulator.js';
import { newBuilderIdentity, templateBody } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'emulator-state-'));
const running: EmulatorHarness[] = [];
afterAll(async () => {
  for (const h of running) await h.emulator.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const IB = '2025-10-01';
const AUTH = '2022-04-01';

/** Starts an emulator on `file`; `from` (the disk as a crash left it) is copied there first. */
async function start(
  file: string,
  o: { from?: string; port?: number; clock?: VirtualClock; rbac?: PropagationSpec } = {},
) {
  if (o.from) copyFileSync(o.from, file);
  const h = await startTestEmulator({
    stateFile: file,
    ...(o.port !== undefined ? { port: o.port } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
    rbacPropagationSeconds: o.rbac ?? 0,
  });
  running.push(h);
  return h;
}

/** What a SIGKILL right now would leave on disk. */
function crashCopy(file: string): string {
  const copy = `${file}.crash-${randomUUID().slice(0, 8)}`;
  copyFileSync(file, copy);
  return copy;
}

/** The emulator stops serving; its state file is not touched again (the copy is what counts). */
async function die(h: EmulatorHarness) {
  running.splice(running.indexOf(h), 1);
  await h.emulator.stop();
}

function operationPath(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}

describe('ARM emulator state file: a restart keeps what clients were told', () => {
  it('answers an operation URL from before the restart, and a run started before it ends on the clock with its image, logs and run output', async () => {
    const file = join(dir, 'run.json');
    const clock = new VirtualClock();
    let h = await start(file, { clock });
    const s = h.appSettings;
    const rg = s.IMAGE_BUILDER_RESOURCE_GROUP!;
    const identity = await newBuilderIdentity(h);
    const name = `jumpbox-${randomUUID().slice(0, 8)}`;
    const imageName = `img-${name}`;
    const templatePath = `/subscriptions/${s.AZURE_SUBSCRIPTION_ID}/resourceGroups/${rg}/providers/Microsoft.VirtualMachineImages/imageTemplates/${name}`;
    const body = JSON.parse(JSON.stringify(templateBody(h, identity.id!, imageName))) as Record<
      string,
      unknown
    >;
    const { location, identity: templateIdentity, ...properties } = body;
    const put = await armRequest(h, 'PUT', `${templatePath}?api-version=${IB}`, {
      location,
      identity: templateIdentity,
      properties,
    });
    expect(put.status).toBe(201);
    const createOp = put.headers['azure-asyncoperation']!;
    expect(createOp).toMatch(/operations\//);

    // Crash 1: right after the PUT was answered, before its operation was polled.
    const port = Number(new URL(h.emulator.armEndpoint).port);
    let disk = crashCopy(file);
    await die(h);
    h = await start(file, { from: disk, port, clock });
    expect(h.emulator.armEndpoint).toContain(`:${port}`);
    // The round trip is exact: the restored emulator's own save finds nothing to change.
    expect(readFileSyncSafe(file)).toBe(readFileSyncSafe(disk));
    const created = await armRequest(h, 'GET', operationPath(createOp));
    expect(created).toMatchObject({ status: 200, body: { status: 'Succeeded' } });
    const template = await armRequest(h, 'GET', `${templatePath}?api-version=${IB}`);
    expect(template.body).toMatchObject({ properties: { provisioningState: 'Succeeded' } });

    await h.clients.authorization.roleAssignments.create(
      `/subscriptions/${s.AZURE_SUBSCRIPTION_ID}/resourceGroups/${s.IMAGE_DESTINATION_RESOURCE_GROUP}`,
      randomUUID(),
      {
        roleDefinitionId: s.IMAGE_CONTRIBUTOR_ROLE_ID!,
        principalId: identity.principalId!,
        principalType: 'ServicePrincipal',
      },
    );
    const run = await armRequest(h, 'POST', `${templatePath}/run?api-version=${IB}`);
    expect(run.status).toBe(202);
    const runOp = run.headers['azure-asyncoperation']!;
    clock.advanceBy(10 * 60_000);
    const midway = await armRequest(h, 'GET', `${templatePath}?api-version=${IB}`);
    expect(midway.body).toMatchObject({ properties: { lastRunStatus: { runState: 'Running' } } });

    // Crash 2: in the middle of the run. The clock goes on while the process is down, as Azure's would.
    disk = crashCopy(file);
    await die(h);
    clock.advanceBy(60 * 60_000);
    h = await start(file, { from: disk, port, clock });
    const done = await armRequest(h, 'GET', operationPath(runOp));
    expect(done).toMatchObject({ status: 200, body: { status: 'Succeeded' } });
    const after = await armRequest(h, 'GET', `${templatePath}?api-version=${IB}`);
    const lastRun = (after.body as { properties: { lastRunStatus: { runState: string; startTime: string } } })
      .properties.lastRunStatus;
    expect(lastRun.runState).toBe('Succeeded');
    expect(lastRun.startTime).toBe(
      (midway.body as { properties: { lastRunStatus: { startTime: string } } }).properties.lastRunStatus
        .startTime,
    );
    const output = await h.clients.imageBuilder.virtualMachineImageTemplates.getRunOutput(
      rg,
      name,
      'managed',
    );
    expect(output.artifactId).toMatch(new RegExp(`/images/${imageName}$`, 'i'));
    expect(h.emulator.state.images().filter((i) => i.name === imageName)).toHaveLength(1);
    const view = h.emulator.state.imageTemplate(name)!;
    expect(view.runs).toHaveLength(1);
    const log = await fetchText(h, view.logUrls[0]!);
    expect(log).toMatch(/Build 'azure-arm' finished after/);
  });

  it('keeps pending role assignment propagation, and later delays are the ones an uninterrupted emulator draws', async () => {
    const spec = { min: 30, max: 600 };
    const clock = new VirtualClock();
    const file = join(dir, 'rbac.json');
    let h = await start(file, { clock, rbac: spec });
    const s = h.appSettings;
    const scope = `/subscriptions/${s.AZURE_SUBSCRIPTION_ID}/resourceGroups/${s.IMAGE_DESTINATION_RESOURCE_GROUP}`;
    const grant = async (n: string) => {
      const identity = await newBuilderIdentity(h, { networkRole: false });
      await h.clients.authorization.roleAssignments.create(scope, n, {
        roleDefinitionId: s.IMAGE_CONTRIBUTOR_ROLE_ID!,
        principalId: identity.principalId!,
        principalType: 'ServicePrincipal',
      });
    };
    await grant(randomUUID());
    const pendingBefore = h.emulator.state.rbacPropagation().pending;
    expect(pendingBefore).toHaveLength(1);
    const port = Number(new URL(h.emulator.armEndpoint).port);
    const disk = crashCopy(file);
    await die(h);
    // A second emulator on the same scenario without the restart: the delay it draws next.
    const fresh = new RbacPropagation(() => 0);
    fresh.configure(spec, 1);
    fresh.drawDelayMs();
    const expectedNext = fresh.drawDelayMs();

    h = await start(file, { from: disk, port, clock, rbac: 0 });
    expect(h.emulator.state.rbacPropagation()).toEqual({ propagationSeconds: spec, pending: pendingBefore });
    const second = randomUUID();
    await grant(second);
    const next = h.emulator.state.rbacPropagation().pending.find((p) => p.id.endsWith(second))!;
    expect(next.effectiveAtMs - clock.now()).toBe(expectedNext);
  });

  it('keeps faults (a permanent one stays permanent), throttling and build behaviour', async () => {
    const file = join(dir, 'settings.json');
    const clock = new VirtualClock();
    let h = await start(file, { clock });
    h.emulator.control.injectFault({ path: '/imageTemplates/[^/]+/run$', kind: '503' });
    h.emulator.control.injectFault({ path: '/roleAssignments/', kind: '429', times: 2 });
    h.emulator.control.setThrottling({ reads: { capacity: 40, refillPerSecond: 4 } });
    h.emulator.control.setBuildBehaviour({ outcome: 'customizer-failure', logBytes: 1024 });
    // Control calls made in-process reach the disk with the next tick's save (at most 200 ms later).
    await waitFor(() => readFileSyncSafe(file).includes('customizer-failure'));
    const port = Number(new URL(h.emulator.armEndpoint).port);
    const disk = crashCopy(file);
    await die(h);
    h = await start(file, { from: disk, port, clock });
    expect(h.emulator.control.faults().map((f) => [f.kind, f.remaining])).toEqual([
      ['503', Number.POSITIVE_INFINITY],
      ['429', 2],
    ]);
    const status = await armRequest(
      h,
      'POST',
      `/subscriptions/${h.appSettings.AZURE_SUBSCRIPTION_ID}/resourceGroups/x/providers/Microsoft.VirtualMachineImages/imageTemplates/y/run?api-version=${IB}`,
    );
    expect(status.status).toBe(503);
    const read = await armRequest(
      h,
      'GET',
      `/subscriptions/${h.appSettings.AZURE_SUBSCRIPTION_ID}/resourceGroups/${h.appSettings.IMAGE_BUILDER_RESOURCE_GROUP}/providers/Microsoft.Authorization/roleAssignments?api-version=${AUTH}`,
    );
    expect(Number(read.headers['x-ms-ratelimit-remaining-subscription-reads'])).toBeLessThan(40);
    expect(h.emulator.control.setBuildBehaviour({})).toMatchObject({
      outcome: 'customizer-failure',
      logBytes: 1024,
    });
  });

  it('accepts a crash fault only where the state outlives the process, and only a counted one', async () => {
    const h = await start(join(dir, 'crash.json'));
    // This emulator runs inside the test process: it was started without crashFaults.
    expect(() => h.emulator.control.injectFault({ path: '/run$', kind: 'crash', times: 1 })).toThrow(
      /only an emulator with a state file accepts it \(npm run local -- --state DIR\)/,
    );
    const injector = new FaultInjector(true);
    expect(() => injector.add({ path: '/run$', kind: 'crash' })).toThrow(/a crash fault needs times/);
    expect(injector.add({ path: '/run$', kind: 'crash', times: 1 })).toMatchObject({ remaining: 1 });
    await expect(startTestEmulator({ crashFaults: true })).rejects.toThrow(/crashFaults needs a stateFile/);
  });

  it('writes atomically and owner-only: no temporary file is left, the file is mode 0600', async () => {
    const file = join(dir, 'mode.json');
    const h = await start(file);
    await newBuilderIdentity(h, { networkRole: false });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((f) => f.includes('mode.json') && f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses a state file it cannot read, naming the file and the fix, and starts nothing', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"version": 1, "subscr');
    await expect(start(bad)).rejects.toThrow(
      /bad\.json: the emulator state is not valid JSON .*delete the file/,
    );
    const old = join(dir, 'old.json');
    writeFileSync(old, JSON.stringify({ version: 0 }));
    await expect(start(old)).rejects.toThrow(/old\.json: emulator state version 0 is not 1/);
    const other = join(dir, 'other.json');
    const h = await start(other);
    await die(h);
    const text = readFileSyncSafe(other).replace(
      new RegExp(h.appSettings.AZURE_SUBSCRIPTION_ID!, 'g'),
      '00000000-0000-4000-8000-000000000000',
    );
    writeFileSync(other, text);
    await expect(start(other)).rejects.toThrow(/subscription 00000000-0000-4000-8000-000000000000/);
  });
});

describe('RbacPropagation snapshot (property)', () => {
  it('a restore at any point continues with the same delays and the same pending changes', () => {
    const action = fc.oneof(
      fc.record({ kind: fc.constant('create' as const), n: fc.nat(5) }),
      fc.record({ kind: fc.constant('delete' as const), n: fc.nat(5) }),
      fc.record({ kind: fc.constant('advance' as const), seconds: fc.nat(900) }),
    );
    fc.assert(
      fc.property(
        fc.array(action, { maxLength: 30 }),
        fc.nat(30),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        (actions, cut, seed) => {
          const run = (restartAt: number | undefined) => {
            let now = 1_000_000;
            let p = new RbacPropagation(() => now);
            p.configure({ min: 30, max: 600 }, seed);
            actions.forEach((a, i) => {
              if (i === restartAt) {
                const saved = JSON.parse(JSON.stringify(p.snapshot()));
                p = new RbacPropagation(() => now);
                p.restore(saved);
              }
              const id = `/x/roleAssignments/${'n' in a ? a.n : 0}`;
              const body = { properties: { principalId: 'p', scope: '/x', roleDefinitionId: 'r' } };
              if (a.kind === 'create') p.created(id, body);
              else if (a.kind === 'delete') p.deleted(id, body);
              else now += a.seconds * 1000;
            });
            return { pending: p.pending(), next: p.drawDelayMs() };
          };
          expect(run(Math.min(cut, actions.length))).toEqual(run(undefined));
        },
      ),
      { numRuns: 200 },
    );
  });
});

function readFileSyncSafe(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setTimeout(r, 50));
  expect(condition()).toBe(true);
}

async function fetchText(h: EmulatorHarness, url: string): Promise<string> {
  const { request } = await import('node:https');
  const { readFile } = await import('node:fs/promises');
  const ca = await readFile(h.emulator.caCertPath, 'utf8');
  return new Promise((resolve, reject) => {
    request(url, { ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    })
      .on('error', reject)
      .end();
  });
}
