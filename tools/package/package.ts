/**
 * `npm run package`: the one way the deployment package is made (azd runs it as the service's prepackage
 * hook, CI runs it before the tests that unpack it). Steps:
 *   1. compile src/ afresh into .artifact/app/dist (no stale output, no source maps);
 *   2. drop dist/src/local (the stand-ins) and dist/src/cli (the command line): production loads neither;
 *   3. copy host.json, install the production dependencies from package-lock.json (`npm ci --omit=dev`);
 *   4. write a package.json without scripts or devDependencies; drop the lock file (it lists dev packages);
 *   5. zip .artifact/app into .artifact/jumpbox-image-builder.zip (sorted, fixed timestamps: reproducible).
 * It also packs the pipeline CLI (`jumpbox-builder build`, no devDependencies): .artifact/jumpbox-image-builder-cli-<v>.tgz
 * holds the compiled build command and the modules it imports, and depends on @azure/identity only; pipelines
 * install it with `npm install --global <tgz>`. `--cli-only` makes just that and prints its path last.
 * Progress goes to stderr; the zip's absolute path (or, with --cli-only, the tgz's) is the last line on stdout.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeZip } from './zip.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const ARTIFACT_DIR = join(repoRoot, '.artifact');
export const ZIP_NAME = 'jumpbox-image-builder.zip';

/** Compiled folders that must not ship: production never imports them (test/package checks it). */
export const EXCLUDED_DIST_DIRS = ['dist/src/local', 'dist/src/cli', 'dist/src/faults'] as const;

/** The CLI commands a pipeline needs; the CLI package holds them and what they import, nothing else. */
export const CLI_COMMANDS = ['build'] as const;

export interface CliPackageResult {
  readonly tgzPath: string;
  /** Files of the package, relative to its root. */
  readonly files: readonly string[];
}

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

function npm(args: readonly string[], cwd: string, capture = false): string {
  // Under `npm run`, npm_execpath is npm's own CLI script: run it with this Node, on every platform.
  // npm's output goes to stderr (stdout carries only the final path) unless it is captured.
  const execPath = process.env.npm_execpath;
  const stdio: ['ignore', 'pipe' | NodeJS.WriteStream, 'inherit'] = [
    'ignore',
    capture ? 'pipe' : process.stderr,
    'inherit',
  ];
  const out =
    execPath?.endsWith('.js') || execPath?.endsWith('.cjs')
      ? execFileSync(process.execPath, [execPath, ...args], { cwd, stdio })
      : execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, {
          cwd,
          stdio,
          shell: process.platform === 'win32',
        });
  return out ? out.toString() : '';
}

function compile(outDir: string): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(
    process.execPath,
    [tsc, '-p', join(repoRoot, 'tsconfig.build.json'), '--outDir', outDir, '--sourceMap', 'false'],
    { cwd: repoRoot, stdio: ['ignore', process.stderr, 'inherit'] },
  );
}

const SPECIFIER = /(?:from\s*|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g;

/** The static and literal dynamic imports of a compiled module: relative ones resolved, bare ones by package. */
export function importsOf(file: string, text: string): { relative: string[]; packages: string[] } {
  const rel: string[] = [];
  const packages: string[] = [];
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[1]!;
    if (spec.startsWith('.')) rel.push(posix.normalize(posix.join(posix.dirname(file), spec)));
    else if (!spec.startsWith('node:')) {
      const parts = spec.split('/');
      packages.push(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
    }
  }
  return { relative: rel, packages };
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
  compile(join(appDir, 'dist'));
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

/** The pipeline CLI as an npm package (.tgz): compiled CLI commands and their imports, runtime dependencies only. */
export function buildCliPackage(o: { outDir?: string; log?: (line: string) => void } = {}): CliPackageResult {
  const outDir = o.outDir ?? ARTIFACT_DIR;
  const log = o.log ?? ((line: string) => process.stderr.write(`package: ${line}\n`));
  const compiled = join(outDir, 'cli-compiled');
  const cliDir = join(outDir, 'cli');
  rmSync(compiled, { recursive: true, force: true });
  rmSync(cliDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  log('compiling the CLI');
  compile(join(compiled, 'dist'));
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as PackageJson;
  // The import closure of the entry point and the pipeline commands.
  const queue = ['dist/src/cli/main.js', ...CLI_COMMANDS.map((c) => `dist/src/cli/commands/${c}.js`)];
  const files = new Set<string>();
  const packages = new Set<string>();
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    if (!existsSync(join(compiled, file)))
      throw new Error(`package: ${file} is imported but was not compiled`);
    files.add(file);
    const found = importsOf(file, readFileSync(join(compiled, file), 'utf8'));
    queue.push(...found.relative);
    for (const p of found.packages) packages.add(p);
  }
  const dependencies: Record<string, string> = {};
  for (const p of [...packages].sort()) {
    const version = pkg.dependencies?.[p];
    if (!version) throw new Error(`package: the CLI imports ${p}, which is not a production dependency`);
    dependencies[p] = version;
  }
  for (const f of files) {
    mkdirSync(dirname(join(cliDir, f)), { recursive: true });
    cpSync(join(compiled, f), join(cliDir, f));
  }
  const manifest = {
    name: `${pkg.name}-cli`,
    version: pkg.version,
    description: `Pipeline CLI of ${pkg.name}: ${CLI_COMMANDS.map((c) => `jumpbox-builder ${c}`).join(', ')}`,
    private: true,
    type: 'module',
    bin: { 'jumpbox-builder': 'dist/src/cli/main.js' },
    ...(pkg.engines ? { engines: pkg.engines } : {}),
    dependencies,
  };
  writeFileSync(join(cliDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // The versions the app is tested with: start from the project's lock file and let npm drop what the CLI does
  // not need (locked versions that still satisfy are kept); shipped as npm-shrinkwrap.json, which npm honours
  // when it installs the package.
  copyFileSync(join(repoRoot, 'package-lock.json'), join(cliDir, 'package-lock.json'));
  npm(
    ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'],
    cliDir,
  );
  cpSync(join(cliDir, 'package-lock.json'), join(cliDir, 'npm-shrinkwrap.json'));
  rmSync(join(cliDir, 'package-lock.json'));
  const packed = npm(['pack', '--json', '--pack-destination', outDir], cliDir, true);
  const name = (JSON.parse(packed) as { filename: string }[])[0]?.filename;
  if (!name) throw new Error('package: npm pack reported no file');
  rmSync(compiled, { recursive: true, force: true });
  log(`CLI: ${files.size} modules, dependencies: ${Object.keys(dependencies).join(', ') || 'none'}`);
  return { tgzPath: join(outDir, name), files: [...files, 'npm-shrinkwrap.json', 'package.json'].sort() };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const cli = buildCliPackage();
  process.stderr.write(`package: CLI ${cli.tgzPath}\n`);
  if (process.argv.includes('--cli-only')) {
    process.stdout.write(`${cli.tgzPath}\n`);
  } else {
    const result = buildPackage();
    process.stdout.write(`${result.zipPath}\n`);
  }
}
