/** `jumpbox-builder config [--env-file FILE]`: validates the app settings and prints the parsed result. */
import { readFileSync } from 'node:fs';
import { ConfigError, parseConfig } from '../../config.js';
import { type CliCommand, UsageError } from '../dispatch.js';

function readSettingsFile(path: string): Record<string, string> {
  const json = JSON.parse(readFileSync(path, 'utf8')) as { Values?: Record<string, string> };
  if (!json.Values || typeof json.Values !== 'object') throw new UsageError(`${path} has no "Values" object`);
  return json.Values;
}

export const command: CliCommand = {
  summary: 'validate app settings (process env, or --settings local.settings.json) and print them parsed',
  async run(argv) {
    let env: Record<string, string | undefined> = process.env;
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === '--settings') {
        const file = argv[++i];
        if (!file) throw new UsageError('--settings needs a file path');
        env = { ...readSettingsFile(file) };
      } else throw new UsageError(`unknown option ${argv[i]}`);
    }
    try {
      const config = parseConfig(env);
      process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
      return 0;
    } catch (e) {
      if (e instanceof ConfigError) {
        process.stderr.write(`${e.message}\n`);
        return 2;
      }
      throw e;
    }
  },
};
