/**
 * `jumpbox-builder config [--settings FILE]`: validates the app settings (the process environment, or the
 * "Values" of a local.settings.json) and prints them parsed. Exit 0 valid, 2 invalid settings or an
 * unreadable file (one readable line per problem, never a stack trace).
 */
import { readFileSync } from 'node:fs';
import { ConfigError, parseConfig } from '../../config.js';
import { type CliCommand, EXIT_CODES, UsageError } from '../dispatch.js';

export const CONFIG_USAGE = `usage: jumpbox-builder config [--settings FILE]

Validates the app settings and prints them parsed (JSON on stdout).
  --settings FILE   read the "Values" object of a local.settings.json instead of the process environment

Exit codes: 0 the settings are valid; 2 invalid settings (each problem names the setting and the fix),
an unreadable or malformed --settings file, or a usage error.
`;

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
};

/** Reads the settings file; every failure is a UsageError with one readable line. */
export function readSettingsFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new UsageError(
      `cannot read --settings ${path}: ${READ_ERRORS[code] ?? (e as Error).message}${code ? ` (${code})` : ''}; pass the path of a local.settings.json (copy local.settings.sample.json)`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--settings ${path} is not valid JSON (${(e as Error).message})`);
  }
  const values = (json as { Values?: unknown } | null)?.Values;
  if (!values || typeof values !== 'object' || Array.isArray(values)) {
    throw new UsageError(
      `--settings ${path} has no "Values" object; app settings go under "Values" as in local.settings.sample.json`,
    );
  }
  return values as Record<string, string>;
}

export const command: CliCommand = {
  summary: 'validate app settings (process env, or --settings local.settings.json) and print them parsed',
  usage: CONFIG_USAGE,
  async run(argv) {
    let env: Record<string, string | undefined> = process.env;
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === '--settings') {
        const file = argv[++i];
        if (!file) throw new UsageError('--settings needs a file path');
        env = { ...readSettingsFile(file) };
      } else throw new UsageError(`unknown option ${argv[i]}; run with --help`);
    }
    try {
      const config = parseConfig(env);
      process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
      return EXIT_CODES.ok;
    } catch (e) {
      if (e instanceof ConfigError) {
        process.stderr.write(`jumpbox-builder config: ${e.message}\n`);
        return EXIT_CODES.usage;
      }
      throw e;
    }
  },
};
