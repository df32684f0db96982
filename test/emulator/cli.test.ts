/**
 * `npm run emulator` (src/cli/commands/emulator.ts) as a process: one JSON line of endpoints, a working
 * ARM endpoint and control API, clean exit 0 on SIGTERM; usage errors exit 2.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BUILD_BEHAVIOUR } from '../../src/local/arm-emulator/context.js';
import { DEFAULT_TIME_SCALE } from '../../src/local/local-azure.js';
import { LocalTestCredential } from '../../src/local/test-credential.js';

function startCli(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'emulator', ...args], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`emulator exited early with ${code}: ${err}`)));
  });
}

function get(url: string, ca: string, token?: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d.toString();
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('emulator CLI', () => {
  it('prints one JSON line, serves ARM and control, and exits 0 on SIGTERM', async () => {
    const child = startCli(['--time-scale', '500']);
    try {
      const info = JSON.parse(await firstLine(child)) as {
        armEndpoint: string;
        caCertPath: string;
        controlEndpoint: string;
        subscriptionId: string;
        storage: { blob: string; queue: string; table: string };
      };
      expect(Object.keys(info).sort()).toEqual([
        'armEndpoint',
        'caCertPath',
        'controlEndpoint',
        'storage',
        'subscriptionId',
      ]);
      expect(Object.keys(info.storage).sort()).toEqual(['blob', 'queue', 'table']);
      const ca = readFileSync(info.caCertPath, 'utf8');
      const token = (await new LocalTestCredential().getToken(`${info.armEndpoint}/.default`)).token;
      const groups = await get(
        `${info.armEndpoint}/subscriptions/${info.subscriptionId}/resourcegroups?api-version=2021-04-01`,
        ca,
        token,
      );
      expect(groups.status).toBe(200);
      expect((groups.body as { value: { name: string }[] }).value.map((g) => g.name)).toContain(
        'rg-imagebuilders',
      );
      const c1 = (await get(`${info.controlEndpoint}/clock`, ca)).body as { nowMs: number; scale: number };
      expect(c1.scale).toBe(500);
      await new Promise((r) => setTimeout(r, 200));
      const c2 = (await get(`${info.controlEndpoint}/clock`, ca)).body as { nowMs: number };
      expect(c2.nowMs - c1.nowMs).toBeGreaterThanOrEqual(50_000);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);

  it('rejects bad options with exit code 2 and a usage error naming the option', async () => {
    const child = startCli(['--time-scale', '0']);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(err).toMatch(/--time-scale must be a positive number/);
  }, 30_000);

  it('default time scale lets a default build finish in under 15 s of real time', () => {
    expect(readFileSync('src/cli/commands/emulator.ts', 'utf8')).toContain(
      `const DEFAULT_TIME_SCALE = ${DEFAULT_TIME_SCALE};`,
    );
    const d = DEFAULT_BUILD_BEHAVIOUR.phaseDurations;
    const simulatedSeconds =
      d.queued + d.building + d.customizing + d.optimizing + d.validating + d.distributing;
    expect(simulatedSeconds / DEFAULT_TIME_SCALE).toBeLessThan(15);
    expect(simulatedSeconds).toBeGreaterThan(20 * 60);
  });
});
