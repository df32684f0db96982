/**
 * `npm run simulate` from the command line, each variant in its own process (as a user runs it): exit
 * code, the final JSON line, the grant removed, logs archived, the reason printed. Their real time is a
 * figure in bench/simulate.bench.ts, not an assertion here.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  parseSimulateArgs,
  progressPercent,
  runSimulation,
  summaryLines,
} from '../../src/cli/commands/simulate.js';
import { main } from '../../src/cli/dispatch.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function simulate(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'simulate', ...args], {
      cwd: ROOT,
      env: { ...process.env, LOCAL_DURABLE_HOST_LOG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function finalJson(r: Run): Record<string, unknown> {
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

describe('npm run simulate', () => {
  it('default, as a user runs it: Succeeded, exit 0, one JSON line, grant removed', async () => {
    // --rbac-delay 0 until the build flow retries a Run whose grant has not propagated yet (docs/simulate.md).
    const r = await simulate('--json', '--rbac-delay', '0');
    expect(r.code, r.stderr).toBe(0);
    const j = finalJson(r);
    expect(j).toMatchObject({ status: 'Succeeded', imageContributorAssignmentsLeft: 0 });
    expect(j.imageId).toMatch(/\/providers\/Microsoft\.Compute\/images\//);
    expect((j.logs as string[]).some((l) => l.endsWith('/customization.log'))).toBe(true);
    expect(j.armRequests).toBeGreaterThan(10);
    expect(j.simulatedMinutes).toBeGreaterThan(20);
    expect(Object.keys(j).sort()).toEqual(
      [
        'armRequests',
        'buildId',
        'imageContributorAssignmentsLeft',
        'imageId',
        'logs',
        'simulatedMinutes',
        'status',
        'sbom',
        'provenance',
        'vulnerabilities',
      ].sort(),
    );
    expect(r.stderr).toMatch(/Image Contributor: +removed/);
    // The supply chain: SBOM and provenance archived beside the logs, counts by severity (docs/provenance.md).
    const folder = (j.logs as string[])[0]!.replace(/[^/]+$/, '');
    expect(j.sbom).toBe(`${folder}sbom.cdx.json`);
    expect(j.provenance).toBe(`${folder}provenance.json`);
    expect(j.vulnerabilities).toMatchObject({ critical: 0, high: 0, blocking: [] });
  });

  it('--fail vulnerability, as a user runs it: exit 1, the finding named, grant removed, report archived', async () => {
    const r = await simulate('--fail', 'vulnerability', '--json', '--rbac-delay', '0');
    expect(r.code, r.stderr).toBe(1);
    const j = finalJson(r);
    expect(j).toMatchObject({ status: 'Failed', imageId: null, imageContributorAssignmentsLeft: 0 });
    expect(j.error).toMatchObject({ code: 'VulnerabilityGateFailed' });
    expect(r.stderr).toMatch(
      /reason: +VulnerabilityGateFailed: the vulnerability gate stopped the build: CVE-2024-6387 \(HIGH\) in openssh-server 1:9\.6p1-3ubuntu13, fixed in 1:9\.6p1-3ubuntu13\.3/,
    );
    expect(r.stderr).toMatch(/blocking: +CVE-2024-6387/);
    expect((j.logs as string[]).some((l) => l.endsWith('/customization.log'))).toBe(true);
    expect((j.vulnerabilities as { report: string }).report).toMatch(/\/vulnerabilities\.json$/);
  });

  it('--fail customizer, as a user runs it: exit 1, plain progress lines (not a TTY), the reason printed', async () => {
    const r = await simulate('--fail', 'customizer', '--definition', 'ops-box', '--rbac-delay', '0');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/build ops-box\.\S+ of ops-box accepted/);
    expect(r.stdout).toMatch(/\[ +\d+\.\d min\] polling \/ Customizing\n/);
    expect(r.stdout).toMatch(/Build ops-box\.\S+: Failed/);
    expect(r.stdout).toMatch(/reason: +RunFailed: Customizing/);
    expect(r.stdout).toMatch(/archived logs: +https:\/\/\S+\/ops-box\/ops-box\.\S+\//);
    expect(r.stdout).toMatch(/Image Contributor: +removed \(0 assignments left\)/);
    expect(r.stdout.includes('\r') || r.stdout.includes(String.fromCharCode(27))).toBe(false);
  });

  it.each([
    ['none', 'Succeeded', undefined],
    ['validation', 'Failed', /^Validating: /],
    ['distribution', 'Failed', /^Distributing: .*AuthorizationFailed/],
    ['timeout', 'TimedOut', /buildTimeoutInMinutes/],
  ] as const)(
    '--fail %s: %s, logs archived, grant removed, the reason kept',
    async (fail, status, reason) => {
      const lines: string[] = [];
      const r = await runSimulation(
        { fail: fail === 'none' ? undefined : fail, definition: 'aks-jumpbox', json: true, rbacDelay: 0 },
        { out: (x) => lines.push(x), json: () => {}, isTTY: false },
      );
      expect(r).toMatchObject({ status, imageContributorAssignmentsLeft: 0 });
      expect(r.logs.some((l) => l.endsWith('/customization.log'))).toBe(true);
      if (reason) {
        expect(r.imageId).toBeNull();
        expect(r.error?.message).toMatch(reason);
        expect(summaryLines(r).join('\n')).toMatch(/reason: /);
      } else {
        expect(r.imageId).toMatch(/\/images\//);
        expect(r.error).toBeUndefined();
      }
    },
  );

  it('usage errors exit 2 with a clear message', async () => {
    const err: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => {
      err.push(String(s));
      return true;
    }) as typeof process.stderr.write;
    try {
      expect(await main(['simulate', '--fail', 'network'])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(err.join('')).toMatch(/--fail must be one of customizer, validation, distribution, timeout/);
    expect(() => parseSimulateArgs(['--definition', 'Bad_Name'])).toThrow(/--definition must be/);
    expect(() => parseSimulateArgs(['--bogus'])).toThrow(/unknown option --bogus/);
  });

  it('progress is monotonic over the phases and run sub-states', () => {
    const seq = [
      { phase: 'preflight' },
      { phase: 'template' },
      { phase: 'polling', runSubState: 'Queued' },
      { phase: 'polling', runSubState: 'Customizing' },
      { phase: 'polling', runSubState: 'Validating' },
      { phase: 'polling', runSubState: 'Distributing' },
      { phase: 'archiving' },
      { phase: 'done' },
    ] as const;
    const ps = seq.map((s) => progressPercent(s));
    expect([...ps].sort((a, b) => a - b)).toEqual(ps);
    expect(ps.at(-1)).toBe(100);
  });
});
