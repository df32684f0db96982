/**
 * The deployment package is what is tested: the zip `npm run package` makes (or the one CI made, given as
 * PACKAGE_ZIP) is listed with `unzip`, checked against package-lock.json, checked against .funcignore with
 * git's own ignore matching, unpacked into an empty folder and run there with `npm run local -- --app DIR`:
 * every function registers and a build runs end to end through the HTTP API against the emulator.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuildIo, EXIT, parseBuildArgs, runBuild } from '../../src/cli/commands/build.js';
import { capturedRegistrations, installCoreStandIn } from '../../src/local/durable-host/core-standin.js';
import { buildCliPackage, buildPackage, EXCLUDED_DIST_DIRS } from '../../tools/package/package.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const rootPackage = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  main: string;
  dependencies: Record<string, string>;
};
interface LockEntry {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
}
const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockEntry>;
};

/** name@version of every package under a node_modules folder, nested ones included. */
function installedPackages(nodeModules: string): string[] {
  const names = new Set<string>();
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir)) {
      if (entry.startsWith('.')) continue;
      const scoped = entry.startsWith('@')
        ? readdirSync(join(dir, entry)).map((e) => `${entry}/${e}`)
        : [entry];
      for (const name of scoped) {
        const manifest = join(dir, name, 'package.json');
        if (!existsSync(manifest)) continue;
        names.add(`${name}@${(JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version}`);
        walk(join(dir, name, 'node_modules'));
      }
    }
  };
  walk(nodeModules);
  return [...names].sort();
}

let work: string;
let zipPath: string;
let cliTgz: string;
let appDir: string;
let entries: string[];
let entrySet: Set<string>;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'package-test-'));
  zipPath = process.env.PACKAGE_ZIP ?? buildPackage({ outDir: join(work, 'out'), log: () => {} }).zipPath;
  cliTgz = process.env.PACKAGE_CLI ?? buildCliPackage({ outDir: join(work, 'out'), log: () => {} }).tgzPath;
  entries = execFileSync('unzip', ['-Z1', zipPath], { maxBuffer: 256 * 1024 * 1024 })
    .toString()
    .split('\n')
    .filter((e) => e !== '' && !e.endsWith('/'));
  entrySet = new Set(entries);
  appDir = join(work, 'unpacked');
  mkdirSync(appDir);
  execFileSync('unzip', ['-q', zipPath, '-d', appDir]);
}, 900_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
}, 300_000);

describe('deployment package (zip)', () => {
  it('holds main, host.json and package.json, and none of src/, tests, the stand-ins or the CLI', () => {
    const bytes = statSync(zipPath).size;
    console.log(
      `package: ${zipPath}: ${entries.length} entries, ${bytes} bytes (${(bytes / 2 ** 20).toFixed(1)} MiB)`,
    );
    expect(entries).toContain('dist/src/functions/index.js');
    expect(entries).toContain(rootPackage.main);
    expect(entries).toContain('host.json');
    expect(entries).toContain('package.json');
    const own = entries.filter((e) => !e.startsWith('node_modules/'));
    expect(own.filter((e) => /(^|\/)src\/local\//.test(e))).toEqual([]);
    for (const d of EXCLUDED_DIST_DIRS) expect(own.filter((e) => e.startsWith(`${d}/`))).toEqual([]);
    // Only compiled JS (and the JSON data modules it imports) under dist/src, plus the two manifests: no sources, maps, tests, settings, infra.
    expect(
      own.filter((e) => !/^dist\/src\/.+\.(js|json)$/.test(e) && e !== 'host.json' && e !== 'package.json'),
    ).toEqual([]);
    expect(readFileSync(join(appDir, 'host.json'), 'utf8')).toBe(
      readFileSync(join(repoRoot, 'host.json'), 'utf8'),
    );
  });

  it('ships package.json without scripts or devDependencies, with the same dependencies and main', () => {
    const shipped = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(shipped.devDependencies).toBeUndefined();
    expect(shipped.scripts).toBeUndefined();
    expect(shipped.dependencies).toEqual(rootPackage.dependencies);
    expect(shipped.main).toBe(rootPackage.main);
    expect(shipped.type).toBe('module');
  });

  it('has every production package of package-lock.json and no dev-only package', () => {
    const devOnly = Object.entries(lock.packages).filter(([path, e]) => path !== '' && e.dev === true);
    const production = Object.entries(lock.packages).filter(
      ([path, e]) => path !== '' && !e.dev && !e.optional && !e.devOptional && !e.peer,
    );
    expect(devOnly.map(([p]) => p)).toEqual(
      expect.arrayContaining(['node_modules/vitest', 'node_modules/azurite']),
    );
    const shippedDev = devOnly
      .filter(([path]) => entries.some((e) => e.startsWith(`${path}/`)))
      .map(([p]) => p);
    expect(shippedDev).toEqual([]);
    const missing = production.filter(([path]) => !entrySet.has(`${path}/package.json`)).map(([p]) => p);
    expect(missing).toEqual([]);
  });

  it('every relative import of the compiled app resolves inside the package', () => {
    const unresolved: string[] = [];
    const specifier = /(?:from\s*|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g;
    for (const e of entries.filter((x) => x.startsWith('dist/') && x.endsWith('.js'))) {
      const text = readFileSync(join(appDir, e), 'utf8');
      for (const m of text.matchAll(specifier)) {
        const target = posix.normalize(posix.join(posix.dirname(e), m[1]!));
        if (!entrySet.has(target)) unresolved.push(`${e} -> ${m[1]}`);
      }
    }
    expect(unresolved).toEqual([]);
  });

  it(".funcignore, read with git's own ignore matching, ignores no file of the package", () => {
    // A separate git directory: the unpacked package stays untouched.
    const gitDir = join(work, 'funcignore.git');
    execFileSync('git', ['init', '-q', '--bare', gitDir]);
    const git = (args: string[], input: string) => {
      try {
        return execFileSync(
          'git',
          [
            `--git-dir=${gitDir}`,
            `--work-tree=${appDir}`,
            '-c',
            `core.excludesFile=${join(repoRoot, '.funcignore')}`,
            'check-ignore',
            '--no-index',
            '--stdin',
            ...args,
          ],
          { input, cwd: appDir },
        ).toString();
      } catch (e) {
        // Exit 1 = nothing ignored.
        if ((e as { status?: number }).status === 1) return '';
        throw e;
      }
    };
    expect(git(['-v'], `${entries.join('\n')}\n`)).toBe('');
    // The matcher is live: the files the project keeps out of any package are ignored.
    const probes = ['local.settings.json', 'local.settings.sample.json', '.funcignore'];
    expect(
      git([], `${probes.join('\n')}\n`)
        .trim()
        .split('\n')
        .sort(),
    ).toEqual([...probes].sort());
  });
});

describe('the unpacked package on the local host', () => {
  let child: ChildProcess | undefined;
  let stderr = '';
  let info: Record<string, string>;
  let exited: Promise<number | null>;

  beforeAll(async () => {
    const tsx = join(repoRoot, 'node_modules/.bin/tsx');
    const main = join(repoRoot, 'src/cli/main.ts');
    child = spawn(tsx, [main, 'local', '--app', appDir, '--time-scale', '600'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: work,
    });
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    exited = new Promise((r) => child?.on('close', r));
    let stdout = '';
    // Ready once the JSON line is on stdout and the function list on stderr.
    const line = await new Promise<string>((resolve, reject) => {
      const check = () => {
        if (stdout.includes('\n') && /local: functions: .*\n/.test(stderr)) resolve(stdout.split('\n')[0]!);
      };
      child?.stdout?.on('data', (d: Buffer) => {
        stdout += d.toString();
        check();
      });
      child?.stderr?.on('data', check);
      child?.on('close', () => reject(new Error(`local --app exited before printing: ${stderr}`)));
    });
    info = JSON.parse(line) as Record<string, string>;
  }, 180_000);

  afterAll(async () => {
    child?.kill('SIGTERM');
    await exited;
  });

  it("loads the package's main and registers every function the source tree registers", async () => {
    expect(stderr).toContain(`from ${appDir}`);
    const listed = /local: functions: (.*)\n/.exec(stderr)?.[1]?.split(', ') ?? [];
    installCoreStandIn();
    await import('../../src/functions/index.js');
    const fromSource = [...capturedRegistrations().keys()].sort();
    expect(fromSource.length).toBeGreaterThan(20);
    expect(listed).toEqual(fromSource);
  }, 120_000);

  it('the pipeline CLI package installs without devDependencies and runs a dry run against the package', async () => {
    const prefix = join(work, 'cli-install');
    mkdirSync(prefix);
    execFileSync(
      'npm',
      ['install', '--prefix', prefix, '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', cliTgz],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const installed = installedPackages(join(prefix, 'node_modules'));
    // None of the project's devDependencies; the CLI's own dependencies are production dependencies.
    const devDependencies = Object.keys(
      (
        JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
          devDependencies: Record<string, string>;
        }
      ).devDependencies,
    );
    const names = installed.map((p) => p.slice(0, p.lastIndexOf('@')));
    expect(names).toContain('@azure/identity');
    expect(names.filter((n) => devDependencies.includes(n))).toEqual([]);
    expect(names.filter((n) => ['durable-functions', '@azure/functions', 'zod'].includes(n))).toEqual([]);
    const production = new Set(
      Object.entries(lock.packages)
        .filter(([path, e]) => path !== '' && !e.dev)
        .map(([path, e]) => `${path.split('node_modules/').pop()}@${e.version}`),
    );
    const floated = installed.filter(
      (p) => !p.startsWith('jumpbox-image-builder-cli@') && !production.has(p),
    );
    console.log(
      `CLI install: ${installed.length} packages; not at a locked version: ${floated.join(', ') || 'none'}`,
    );
    const bin = join(prefix, 'node_modules/.bin/jumpbox-builder');
    const dryRun = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const c = spawn(
        bin,
        ['build', '--url', info.baseUrl!, '--definition', 'aks-jumpbox', '--dry-run', '--json'],
        {
          env: { ...process.env, JUMPBOX_FUNCTION_KEY: info.functionKey! },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      let err = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.stderr.on('data', (d: Buffer) => (err += d.toString()));
      c.on('close', (code) => resolve({ code, out, err }));
    });
    expect(dryRun.code, dryRun.err).toBe(0);
    expect(JSON.parse(dryRun.out)).toMatchObject({ dryRun: true, definition: 'aks-jumpbox' });
  }, 300_000);

  it('runs a build end to end through the HTTP API (CLI --wait) and stops cleanly', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io: BuildIo = {
      env: { JUMPBOX_FUNCTION_KEY: info.functionKey! },
      fetch,
      stdout: (s) => out.push(s),
      stderr: (s) => err.push(s),
      isTTY: false,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      now: () => Date.now(),
    };
    const code = await runBuild(
      parseBuildArgs([
        '--url',
        info.baseUrl!,
        '--definition',
        'aks-jumpbox',
        // --follow: the packaged app's base-image timer (every 6 h = 36 s on the x600 clock) may already have
        // started a build of this definition; a pipeline follows that build instead of failing on 409.
        '--follow',
        '--poll-interval',
        '200ms',
        '--timeout',
        '300s',
      ]),
      io,
    );
    expect(code, `${err.join('')}\n${stderr}`).toBe(EXIT.ok);
    const imageId = out.join('').trim();
    expect(imageId).toMatch(/\/providers\/Microsoft\.Compute\/images\//i);
    const listed = await fetch(`${info.baseUrl}/api/builds?definition=aks-jumpbox&status=Succeeded`, {
      headers: { 'x-functions-key': info.functionKey! },
    });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { builds: { imageId: string }[] }).builds[0]?.imageId).toBe(imageId);
    child?.kill('SIGTERM');
    expect(await exited).toBe(0);
    child = undefined;
  }, 400_000);
});
