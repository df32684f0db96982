/**
 * `jumpbox-builder build` against the app on the local Durable host (stand-in build orchestrator, real
 * DurableClient, real HTTP): success, failure, 409, bad key, timeout - each with its exit code.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuildIo, EXIT, parseBuildArgs, runBuild } from '../../src/cli/commands/build.js';
import { buildInstanceId } from '../../src/orchestration/contracts.js';
import { type AppHost, startAppHost } from '../api/app-host.js';

let app: AppHost;
beforeAll(async () => {
  app = await startAppHost({ definitions: ['aks-jumpbox', 'ops-box'] });
});
afterAll(async () => {
  await app?.stop();
});

function cli(key: string | undefined = app.host.functionKey) {
  const out: string[] = [];
  const err: string[] = [];
  const io: BuildIo = {
    env: { JUMPBOX_FUNCTION_KEY: key },
    fetch,
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    isTTY: false,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    now: () => Date.now(),
  };
  const run = (definition: string, ...extra: string[]) =>
    runBuild(parseBuildArgs(['--url', app.host.baseUrl, '--definition', definition, ...extra]), io);
  return { run, out, err };
}

/** Drives the build to its end on virtual time once the CLI has started it. */
async function driveWhenStarted(definition: string): Promise<void> {
  const active = async () =>
    /Pending|Running/.test((await app.host.getStatus(buildInstanceId(definition)))?.runtimeStatus ?? '');
  for (let i = 0; i < 500 && !(await active()); i++) await new Promise((r) => setTimeout(r, 10));
  await app.host.waitForInstance(buildInstanceId(definition));
}

describe('jumpbox-builder build against the local host', () => {
  it('exit 0 and the image id on success, with plain progress lines', async () => {
    const c = cli();
    const [code] = await Promise.all([
      c.run('aks-jumpbox', '--wait', '--poll-interval', '50ms', '--timeout', '30s'),
      driveWhenStarted('aks-jumpbox'),
    ]);
    expect(code).toBe(EXIT.ok);
    expect(c.out.join('')).toMatch(/\/providers\/Microsoft\.Compute\/images\/aks-jumpbox\n$/);
    expect(c.err.join('')).toContain('Succeeded');
    expect(c.err.join('').includes('\u001b[')).toBe(false);
    expect(c.err.join('') + c.out.join('')).not.toContain(app.host.functionKey);
  });

  it('exit 1 when the build fails, with the error', async () => {
    const c = cli();
    const [code] = await Promise.all([
      c.run(
        'aks-jumpbox',
        '--wait',
        '--reason',
        'please fail',
        '--poll-interval',
        '50ms',
        '--timeout',
        '30s',
        '--json',
      ),
      driveWhenStarted('aks-jumpbox'),
    ]);
    expect(code).toBe(EXIT.buildFailed);
    expect(JSON.parse(c.out.join(''))).toMatchObject({
      status: 'Failed',
      error: { code: 'CustomizerFailed' },
    });
  });

  it('exit 2 with the problem detail while a build of the definition runs; exit 3 on timeout', async () => {
    const first = cli();
    expect(await first.run('ops-box', '--reason', 'minutes=90')).toBe(EXIT.ok);
    const buildId = first.out.join('').trim();
    const second = cli();
    expect(await second.run('ops-box', '--wait')).toBe(EXIT.usage);
    expect(second.err.join('')).toContain('HTTP 409');
    expect(second.err.join('')).toContain(buildId);

    await app.call('POST', `/api/builds/${buildId}/cancel`);
    await app.host.waitForInstance(buildInstanceId('ops-box'));
    // Virtual time stands still unless the test drives it, so this build cannot end within the 1 s timeout.
    const waiting = cli();
    const code = await waiting.run(
      'ops-box',
      '--wait',
      '--reason',
      'minutes=600',
      '--timeout',
      '1s',
      '--poll-interval',
      '100ms',
      '--cancel-on-timeout',
    );
    expect(code).toBe(EXIT.timeout);
    expect(waiting.err.join('')).toContain('timed out');
    const done = await app.host.waitForInstance(buildInstanceId('ops-box'));
    expect((done.output as { result: string }).result).toBe('Canceled');
  });

  it('exit 2 for a rejected key, through the real executable, without printing the key', async () => {
    const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
    const wrongKey = 'definitely-wrong-key-value';
    const child = spawn(tsx, [main, 'build', '--url', app.host.baseUrl, '--definition', 'aks-jumpbox'], {
      env: { ...process.env, JUMPBOX_FUNCTION_KEY: wrongKey },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(EXIT.usage);
    expect(output).toContain('HTTP 401');
    expect(output).not.toContain(wrongKey);
  });
});
