/**
 * Shell code blocks in README.md and the docs are tested: every ```bash block must parse (`bash -n`, after `<name>`
 * placeholders, which stand for values the reader fills in, are replaced by a word); every CLI call in
 * them (`npm run cli -- COMMAND …`) must name an existing command and only options that the command's
 * `--help` lists, and calls with `--help` are run and must exit 0; every `npm run SCRIPT` must be a script
 * of package.json. Commands that need Azure (az …, curl to a deployed app) are only parsed, not run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/dispatch.js';

const docsDir = fileURLToPath(new URL('../../docs/', import.meta.url));
const scripts = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts;

interface Block {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

function bashBlocks(markdown: string, file: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```bash') continue;
    const start = i + 1;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i]!.trim() !== '```'; i++) body.push(lines[i]!);
    out.push({ file, line: start, text: body.join('\n') });
  }
  return out;
}

/** Logical lines: backslash continuations joined. */
function logicalLines(text: string): string[] {
  return text.replace(/\\\n\s*/g, ' ').split('\n');
}

const readme = fileURLToPath(new URL('../../README.md', import.meta.url));
const blocks = [
  ...bashBlocks(readFileSync(readme, 'utf8'), 'README.md'),
  ...readdirSync(docsDir)
    .filter((f) => f.endsWith('.md'))
    .flatMap((f) => bashBlocks(readFileSync(join(docsDir, f), 'utf8'), f)),
];

const CLI = /(?:^|&&\s*|\|\s*)npm run (?:--silent )?cli -- (\S+)(.*)$/;

async function helpOf(command: string): Promise<{ code: number; text: string }> {
  const out: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((s: string) => out.push(String(s)) > 0) as typeof process.stdout.write;
  try {
    const code = await main(command === '--help' ? ['--help'] : [command, '--help']);
    return { code, text: out.join('') };
  } finally {
    process.stdout.write = write;
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'docs-bash-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('docs code blocks', () => {
  it('the docs have bash blocks with CLI calls (the checks below are not vacuous)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    expect(blocks.some((b) => logicalLines(b.text).some((l) => CLI.test(l.trim())))).toBe(true);
  });

  it.each(blocks.map((b) => [`${b.file}:${b.line}`, b] as const))(
    '%s parses with bash -n',
    (_where, block) => {
      const file = join(tmp, `block-${block.file}-${block.line}.sh`);
      writeFileSync(file, block.text.replace(/<[A-Za-z][\w .-]*>/g, 'PLACEHOLDER'));
      const r = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    },
  );

  const calls = blocks.flatMap((b) =>
    logicalLines(b.text)
      .map((l) => CLI.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ where: `${b.file}:${b.line}`, command: m[1]!, rest: m[2]! })),
  );

  it.each(calls.map((c) => [`${c.where} ${c.command}${c.rest}`, c] as const))(
    '%s: a real command with known options (run when --help)',
    async (_label, call) => {
      const help = await helpOf(call.command);
      expect(help.code, `${call.command} --help`).toBe(0);
      const options = [...call.rest.matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)]
        .map((m) => m[1]!)
        .filter((o) => o !== '--help');
      for (const option of options) expect(help.text, `${call.command} ${option}`).toContain(option);
    },
  );

  it('every `npm run SCRIPT` in a bash block is a package.json script', () => {
    for (const b of blocks) {
      for (const m of b.text.matchAll(/npm run (?:--silent )?([a-z:]+)/g)) {
        expect(Object.keys(scripts), `${b.file}:${b.line} npm run ${m[1]}`).toContain(m[1]);
      }
    }
  });

  it('`npm run --silent cli -- --help` through npm itself exits 0 and lists the commands', () => {
    const r = spawnSync('npm', ['run', '--silent', 'cli', '--', '--help'], {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Commands:\n {2}build/);
  });
});
