/**
 * The CLI friction points of issue #15, one test each: --help on every command, one option name per
 * concept, documented exit codes for a missing settings file, build --follow on 409, "up to date, nothing
 * built", archived log URLs on failure, network errors with their cause.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BuildIo, EXIT, parseBuildArgs, runBuild } from '../../src/cli/commands/build.js';
import { parseEmulatorArgs } from '../../src/cli/commands/emulator.js';
import { main } from '../../src/cli/dispatch.js';

const COMMANDS = readdirSync(fileURLToPath(new URL('../../src/cli/commands', import.meta.url)))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort();

/** Captures process.stdout/stderr writes made by the in-process dispatcher. */
let captured: { out: string[]; err: string[] };
const originals = { out: process.stdout.write, err: process.stderr.write };
beforeEach(() => {
  captured = { out: [], err: [] };
  process.stdout.write = ((s: string) => captured.out.push(String(s)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => captured.err.push(String(s)) > 0) as typeof process.stderr.write;
});
afterEach(() => {
  process.stdout.write = originals.out;
  process.stderr.write = originals.err;
});

function runExecutable(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
  const entry = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(tsx, [entry, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function scriptedIo(replies: { status: number; body: unknown }[]) {
  const out: string[] = [];
  const err: string[] = [];
  const requests: { method: string; url: string }[] = [];
  let i = 0;
  const io: BuildIo = {
    env: { JUMPBOX_FUNCTION_KEY: 'k' },
    fetch: (async (url: string, init: RequestInit) => {
      requests.push({ method: String(init.method), url });
      const r = replies[Math.min(i++, replies.length - 1)]!;
      return new Response(JSON.stringify(r.body), { status: r.status });
    }) as unknown as typeof fetch,
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    isTTY: false,
    sleep: async () => {},
    now: () => 0,
  };
  return { io, out, err, requests };
}

const BASE = 'https://app.example.net';
const args = (...extra: string[]) => parseBuildArgs(['--url', BASE, '--definition', 'aks-jumpbox', ...extra]);

describe('CLI friction points', () => {
  it('the command list is what this test covers', () => {
    expect(COMMANDS).toEqual(
      expect.arrayContaining(['build', 'config', 'egress', 'emulator', 'local', 'simulate', 'template']),
    );
  });

  it.each(COMMANDS)('`%s --help` exits 0 and prints a usage line on stdout', async (name) => {
    expect(await main([name, '--help'])).toBe(0);
    expect(captured.out.join('')).toMatch(/usage: jumpbox-builder/i);
    expect(captured.out.join('')).toContain(name);
    expect(captured.err.join('')).toBe('');
  });

  it('`--help` alone lists every command and exits 0; no command at all exits 2', async () => {
    expect(await main(['--help'])).toBe(0);
    for (const name of COMMANDS) expect(captured.out.join('')).toContain(`  ${name}`);
    expect(await main([])).toBe(2);
  });

  it('one option name per concept: the scenario file is --scenario in emulator as in local', () => {
    expect(parseEmulatorArgs(['--scenario', 's.json'])).toMatchObject({ scenario: 's.json' });
    expect(() => parseEmulatorArgs(['--seed', 's.json'])).toThrow(/--seed is now --scenario/);
  });

  it('`config --settings missing.json`: one readable line and exit 2 (through the real executable)', async () => {
    const r = await runExecutable(['config', '--settings', 'does-not-exist/missing.json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^jumpbox-builder config: cannot read --settings does-not-exist\/missing\.json: no such file \(ENOENT\)/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('`config --settings` with broken JSON or without "Values": exit 2, one line naming the problem', async () => {
    const dir = fileURLToPath(new URL('../fixtures/', import.meta.url));
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const tmp = mkdtempSync(`${dir}cfg-`);
    writeFileSync(`${tmp}/bad.json`, '{ "Values": ');
    writeFileSync(`${tmp}/novalues.json`, '{ "IsEncrypted": false }');
    expect(await main(['config', '--settings', `${tmp}/bad.json`])).toBe(2);
    expect(captured.err.join('')).toMatch(/is not valid JSON/);
    expect(await main(['config', '--settings', `${tmp}/novalues.json`])).toBe(2);
    expect(captured.err.join('')).toMatch(/has no "Values" object/);
    const { rmSync } = await import('node:fs');
    rmSync(tmp, { recursive: true, force: true });
  });

  it('build --follow: a 409 follows the running build (no second start) and exits with its result', async () => {
    const running = 'aks-jumpbox.20260101T030000Z.0000aaaa';
    const statusUrl = `${BASE}/api/builds/${running}`;
    const api = scriptedIo([
      {
        status: 409,
        body: { title: 'Conflict', detail: 'a build is running', runningBuildId: running, statusUrl },
      },
      { status: 200, body: { buildId: running, status: 'Running', terminal: false } },
      { status: 200, body: { buildId: running, status: 'Succeeded', terminal: true, imageId: '/img/1' } },
    ]);
    expect(await runBuild(args('--follow'), api.io)).toBe(EXIT.ok);
    expect(api.out.join('')).toBe('/img/1\n');
    expect(api.err.join('')).toContain(`build ${running} of aks-jumpbox is already running; following it`);
    expect(api.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(api.requests.slice(1).every((r) => r.url === statusUrl)).toBe(true);
  });

  it('build without --follow: a 409 exits 2 and says --follow would wait for it', async () => {
    const api = scriptedIo([
      { status: 409, body: { detail: 'running', runningBuildId: 'b', statusUrl: `${BASE}/api/builds/b` } },
    ]);
    expect(await runBuild(args('--wait'), api.io)).toBe(EXIT.usage);
    expect(api.err.join('')).toContain('pass --follow');
  });

  it('build --wait of an up-to-date definition says "up to date, nothing built" and exits 0', async () => {
    const api = scriptedIo([
      { status: 202, body: { buildId: 'b2', statusUrl: `${BASE}/api/builds/b2` } },
      {
        status: 200,
        body: {
          buildId: 'b2',
          status: 'Succeeded',
          terminal: true,
          imageId: '/img/old',
          record: { upToDate: true, logUrls: [] },
        },
      },
    ]);
    expect(await runBuild(args('--wait'), api.io)).toBe(EXIT.ok);
    expect(api.err.join('')).toContain('build b2: up to date, nothing built');
    expect(api.err.join('')).toContain('current image: /img/old; pass --force to build anyway');
    const json = scriptedIo([
      { status: 202, body: { buildId: 'b2', statusUrl: `${BASE}/api/builds/b2` } },
      {
        status: 200,
        body: { buildId: 'b2', status: 'Succeeded', terminal: true, record: { upToDate: true } },
      },
    ]);
    await runBuild(args('--wait', '--json'), json.io);
    expect(JSON.parse(json.out.join(''))).toMatchObject({ upToDate: true });
  });

  it('a failed build prints its archived log URLs (not only the staging URL), also in --json', async () => {
    const archived = [
      'https://stlogs.blob.core.windows.net/build-logs/aks-jumpbox/b3/customization.log',
      'https://stlogs.blob.core.windows.net/build-logs/aks-jumpbox/b3/packerlog.txt',
    ];
    const failed = {
      status: 200,
      body: {
        buildId: 'b3',
        status: 'Failed',
        terminal: true,
        error: { code: 'RunFailed', message: 'Customizing: script exited 1' },
        record: { logUrls: archived },
        runtime: { customStatus: { logLocation: 'https://staging.example/packerlogs' } },
      },
    };
    const api = scriptedIo([
      { status: 202, body: { buildId: 'b3', statusUrl: `${BASE}/api/builds/b3` } },
      failed,
    ]);
    expect(await runBuild(args('--wait'), api.io)).toBe(EXIT.buildFailed);
    for (const url of archived) expect(api.err.join('')).toContain(`  ${url}\n`);
    const json = scriptedIo([
      { status: 202, body: { buildId: 'b3', statusUrl: `${BASE}/api/builds/b3` } },
      failed,
    ]);
    await runBuild(args('--wait', '--json'), json.io);
    expect(JSON.parse(json.out.join(''))).toMatchObject({ logs: archived });
  });

  it('`build --url http://127.0.0.1:1` names the network cause and exits 2', async () => {
    const r = await runExecutable(['build', '--url', 'http://127.0.0.1:1', '--definition', 'aks-jumpbox'], {
      ...process.env,
      JUMPBOX_FUNCTION_KEY: 'not-printed-key',
    });
    expect(r.code).toBe(2);
    // Port 1 is on the Fetch standard's blocked list: undici fails with "bad port" before connecting.
    expect(r.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1: bad port \(fetch refuses this port/);
    expect(r.stderr).not.toContain('not-printed-key');
  });

  it('a refused connection is named as such (ECONNREFUSED and the address)', async () => {
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise((r) => server.close(r));
    const api = scriptedIo([]);
    const code = await runBuild(
      parseBuildArgs(['--url', `http://127.0.0.1:${port}`, '--definition', 'aks-jumpbox']),
      { ...api.io, fetch },
    );
    expect(code).toBe(EXIT.usage);
    expect(api.err.join('')).toContain(
      `cannot reach http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port} (nothing listens there`,
    );
  });
});
