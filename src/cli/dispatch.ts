/**
 * The `jumpbox-builder` command dispatcher: one module per command under ./commands.
 * `<command> --help` (or -h) prints the command's usage and exits 0; usage errors exit 2 with one
 * readable line on stderr. Exit codes are listed in EXIT_CODES (docs/api-and-cli.md shows the same table).
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isUsageError } from './usage-error.js';

export interface CliCommand {
  /** One line for `--help`. */
  readonly summary: string;
  /**
   * Full help text for `<command> --help` (usage line, options, exit codes). When absent, the command's
   * own run() must handle --help.
   */
  readonly usage?: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: readonly string[]): Promise<number>;
}

export { UsageError } from './usage-error.js';

/** The exit codes every command uses (a command documents which of them it can return). */
export const EXIT_CODES = {
  ok: 0,
  /** The build (or simulated build) ended without success: Failed, Canceled, TimedOut in Azure. */
  failed: 1,
  /** Usage, configuration, or HTTP errors (the problem is printed as one readable line). */
  usage: 2,
  /** The CLI's own --timeout expired while the build was still running. */
  timeout: 3,
} as const;

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
    return name ? EXIT_CODES.ok : EXIT_CODES.usage;
  }
  const command = await loadCommand(name);
  if (!command) {
    process.stderr.write(`jumpbox-builder: unknown command "${name}"; run with --help for the list\n`);
    return EXIT_CODES.usage;
  }
  if (command.usage !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(command.usage.endsWith('\n') ? command.usage : `${command.usage}\n`);
    return EXIT_CODES.ok;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (isUsageError(e)) {
      process.stderr.write(`jumpbox-builder ${name}: ${e.message}\n`);
      return EXIT_CODES.usage;
    }
    throw e;
  }
}
