/**
 * The scenario on the command line: `cli scenario --print-default` (the JSON users start from),
 * `scenario --check FILE`, and `simulate --scenario FILE` / `--rbac-delay SECONDS`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSimulateArgs, runSimulation } from '../../src/cli/commands/simulate.js';
import { main } from '../../src/cli/dispatch.js';
import { CLI_DEFAULT_SCENARIO, DEFAULT_SCENARIO, loadScenario } from '../../src/local/scenarios/index.js';

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = process.stdout.write;
  const e = process.stderr.write;
  process.stdout.write = ((s: string) => out.push(String(s)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => err.push(String(s)) > 0) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'scenario-'));
function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('scenario CLI', () => {
  it('--print-default prints the scenario simulate and local start from, with a realistic propagation delay', async () => {
    const r = await capture(['scenario', '--print-default']);
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.out) as typeof CLI_DEFAULT_SCENARIO;
    expect(printed).toEqual(JSON.parse(JSON.stringify(CLI_DEFAULT_SCENARIO)));
    expect(printed.rbacPropagationSeconds).toEqual({ min: 30, max: 600 });
    expect(printed.app).toEqual(DEFAULT_SCENARIO.app);
    // What it prints loads back unchanged.
    expect(loadScenario(file('printed.json', r.out))).toEqual(printed);
  });

  it('--check names the bad field and exits 1; usage errors exit 2', async () => {
    const bad = file('bad.json', { rbacPropagationSeconds: { min: 60 } });
    const r = await capture(['scenario', '--check', bad]);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(
      /rbacPropagationSeconds must be a number of seconds >= 0 or \{"min": S, "max": S\}/,
    );
    expect((await capture(['scenario', '--check', file('ok.json', { location: 'westeurope' })])).code).toBe(
      0,
    );
    expect((await capture(['scenario'])).code).toBe(2);
  });

  it('simulate parses --scenario and --rbac-delay, refusing a negative or non-numeric delay', () => {
    expect(parseSimulateArgs(['--scenario', 'x.json', '--rbac-delay', '0'])).toMatchObject({
      scenario: 'x.json',
      rbacDelay: 0,
    });
    expect(parseSimulateArgs(['--rbac-delay', '45.5']).rbacDelay).toBe(45.5);
    expect(() => parseSimulateArgs(['--rbac-delay', '-1'])).toThrow(/--rbac-delay must be a number/);
    expect(() => parseSimulateArgs(['--rbac-delay', 'soon'])).toThrow(/--rbac-delay must be a number/);
    expect(parseSimulateArgs([]).rbacDelay).toBeUndefined();
  });

  it('simulate --scenario FILE with an unreadable file is a usage error (exit 2, one line)', async () => {
    const r = await capture(['simulate', '--scenario', join(dir, 'missing.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^jumpbox-builder simulate: scenario .*missing\.json: not a readable JSON scenario/,
    );
  });

  it('simulate --scenario FILE uses the file: propagation 0 from the file, a build that succeeds', async () => {
    const scenario = file('instant.json', { rbacPropagationSeconds: 0, randomSeed: 7 });
    const lines: string[] = [];
    const r = await runSimulation(
      { definition: 'aks-jumpbox', json: true, scenario },
      { out: (s) => lines.push(s), json: () => {}, isTTY: false },
    );
    expect(r).toMatchObject({ status: 'Succeeded', imageContributorAssignmentsLeft: 0 });
  });
});
