/**
 * `npm run package`: the one way the deployment package is made (azd runs it as the service's prepackage
 * hook, CI runs it before the tests that unpack it). Steps:
 *   1. compile src/ afresh into .artifact/app/dist (no stale output, no source maps);
 *   2. drop dist/src/local (the stand-ins) and dist/src/cli (the command line): production loads neither;
 *   3. copy host.json, install the production dependencies from package-lock.json (`npm ci --omit=dev`);
 *   4. write a package.json without scripts or devDependencies; drop the lock file (it lists dev packages);
 *   5. zip .artifact/app into .artifact/jumpbox-image-builder.zip (sorted, fixed timestamps: reproducible).
 * Progress goes to stderr; the zip's absolute path is the last line on stdout.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeZip } from './zip.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const ARTIFACT_DIR = join(repoRoot, '.artifact');
export const ZIP_NAME = 'jumpbox-image-builder.zip';

/** Compiled folders that must not ship: production never imports them (test/package checks it). */
export const EXCLUDED_DIST_DIRS = ['dist/src/local', 'dist/src/cli'] as const;

export interface PackageResult {
  readonly zipPath: string;
  readonly appDir: string;
  readonly entries: number;
  readonly bytes: number;
}

interface PackageJson {
  name: string;
  version: string;
  description?: string;
  type?: string;
  main: string;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  [key: string]: unknown;
}

function npm(args: readonly string[], cwd: string): void {
  // Under `npm run`, npm_execpath is npm's own CLI script: run it with this Node, on every platform.
  const execPath = process.env.npm_execpath;
  if (execPath?.endsWith('.js') || execPath?.endsWith('.cjs')) {
    execFileSync(process.execPath, [execPath, ...args], { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
  } else {
    execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, {
      cwd,
      stdio: ['ignore', 'inherit', 'inherit'],
      shell: process.platform === 'win32',
    });
  }
}

/** Every file under dir, as sorted forward-slash paths relative to dir; a symlink is an error (zip keeps none). */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const full = join(d, entry);
      const st = lstatSync(full);
      if (st.isSymbolicLink())
        throw new Error(`package: ${relative(dir, full)} is a symbolic link; the zip keeps none`);
      if (st.isDirectory()) walk(full);
      else if (st.isFile()) out.push(relative(dir, full).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

export function buildPackage(o: { outDir?: string; log?: (line: string) => void } = {}): PackageResult {
  const outDir = o.outDir ?? ARTIFACT_DIR;
  const log = o.log ?? ((line: string) => process.stderr.write(`package: ${line}\n`));
  const appDir = join(outDir, 'app');
  const zipPath = join(outDir, ZIP_NAME);
  rmSync(appDir, { recursive: true, force: true });
  rmSync(zipPath, { force: true });
  mkdirSync(appDir, { recursive: true });

  log('compiling src/ (tsconfig.build.json) into the package folder');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(
    process.execPath,
    [
      tsc,
      '-p',
      join(repoRoot, 'tsconfig.build.json'),
      '--outDir',
      join(appDir, 'dist'),
      '--sourceMap',
      'false',
    ],
    { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  for (const d of EXCLUDED_DIST_DIRS) rmSync(join(appDir, d), { recursive: true, force: true });

  copyFileSync(join(repoRoot, 'host.json'), join(appDir, 'host.json'));
  copyFileSync(join(repoRoot, 'package.json'), join(appDir, 'package.json'));
  copyFileSync(join(repoRoot, 'package-lock.json'), join(appDir, 'package-lock.json'));
  log('installing production dependencies (npm ci --omit=dev)');
  npm(
    ['ci', '--omit=dev', '--ignore-scripts', '--no-bin-links', '--no-audit', '--no-fund', '--prefer-offline'],
    appDir,
  );

  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as PackageJson;
  const shipped: PackageJson = {
    name: pkg.name,
    version: pkg.version,
    ...(pkg.description ? { description: pkg.description } : {}),
    private: true,
    type: pkg.type ?? 'commonjs',
    main: pkg.main,
    ...(pkg.engines ? { engines: pkg.engines } : {}),
    dependencies: pkg.dependencies ?? {},
  };
  writeFileSync(join(appDir, 'package.json'), `${JSON.stringify(shipped, null, 2)}\n`);
  rmSync(join(appDir, 'package-lock.json'));

  const files = listFiles(appDir);
  if (!files.includes(pkg.main)) throw new Error(`package: "main" (${pkg.main}) is not in the package`);
  const { entries, bytes } = writeZip(
    zipPath,
    files.map((name) => ({ name, source: join(appDir, name) })),
  );
  log(`${entries} files, ${bytes} bytes (${(bytes / 1024 / 1024).toFixed(1)} MiB)`);
  return { zipPath, appDir, entries, bytes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = buildPackage();
  process.stdout.write(`${result.zipPath}\n`);
}
