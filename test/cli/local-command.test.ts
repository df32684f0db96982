/** `npm run local`: spawned for real; prints one JSON line, serves the API with its key, stops on SIGTERM. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LOCAL_TIME_SCALE, LocalUsageError, parseLocalArgs } from '../../src/cli/commands/local.js';

describe('local command', () => {
  it('parses its options and rejects bad ones by name', () => {
    expect(parseLocalArgs([])).toMatchObject({ timeScale: DEFAULT_LOCAL_TIME_SCALE, port: 0 });
    expect(parseLocalArgs(['--time-scale', '120', '--port', '7071'])).toMatchObject({
      timeScale: 120,
      port: 7071,
    });
    expect(() => parseLocalArgs(['--time-scale', '0'])).toThrow(/--time-scale/);
    expect(() => parseLocalArgs(['--port', '70000'])).toThrow(/--port/);
    expect(() => parseLocalArgs(['--nope'])).toThrow(LocalUsageError);
  });

  it('prints one JSON line, serves the API with the printed key, and exits 0 on SIGTERM', async () => {
    const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
    const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const child = spawn(tsx, [main, 'local'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          if (stdout.includes('\n')) resolve(stdout.split('\n')[0]!);
        });
        child.on('close', () => reject(new Error(`exited before printing: ${stderr}`)));
      });
      const info = JSON.parse(line) as Record<string, string>;
      expect(Object.keys(info).sort()).toEqual(['armEndpoint', 'baseUrl', 'controlEndpoint', 'functionKey']);
      const defs = await fetch(`${info.baseUrl}/api/definitions`, {
        headers: { 'x-functions-key': info.functionKey! },
      });
      expect(defs.status).toBe(200);
      expect(((await defs.json()) as { definitions: { name: string }[] }).definitions[0]?.name).toBe(
        'aks-jumpbox',
      );
      const denied = await fetch(`${info.baseUrl}/api/definitions`);
      expect(denied.status).toBe(401);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
  }, 120_000);
});
