/**
 * The `jumpbox-builder` command dispatcher: one module per command under ./commands.
 * Usage errors: exit 2 with one readable line on stderr.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface CliCommand {
  /** One line for `--help`. */
  readonly summary: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: readonly string[]): Promise<number>;
}

export class UsageError extends Error {}

function commandsDir(): string {
  return `${dirname(fileURLToPath(import.meta.url))}/commands`;
}

function commandNames(): string[] {
  return readdirSync(commandsDir())
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts') && !f.endsWith('.test.ts'))
    .map((f) => f.replace(/\.(ts|js)$/, ''))
    .sort();
}

async function loadCommand(name: string): Promise<CliCommand | undefined> {
  if (!commandNames().includes(name)) return undefined;
  const file = readdirSync(commandsDir()).find((f) => f === `${name}.ts` || f === `${name}.js`)!;
  const mod = (await import(/* @vite-ignore */ pathToFileURL(`${commandsDir()}/${file}`).href)) as {
    command: CliCommand;
  };
  return mod.command;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const lines = ['Usage: jumpbox-builder <command> [options]', '', 'Commands:'];
    for (const n of commandNames()) {
      const c = await loadCommand(n);
      lines.push(`  ${n.padEnd(10)} ${c?.summary ?? ''}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return name ? 0 : 2;
  }
  const command = await loadCommand(name);
  if (!command) {
    process.stderr.write(`jumpbox-builder: unknown command "${name}"; run with --help for the list\n`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`jumpbox-builder ${name}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
