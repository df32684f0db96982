/** The sample pipelines call the CLI with options it accepts, and pass the key only through the environment. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_KEY_ENV, parseBuildArgs } from '../../src/cli/commands/build.js';

const SAMPLES = ['github-actions/build-jumpbox-image.yml', 'azure-pipelines/build-jumpbox-image.yml'];

/** The `cli -- build ...` invocation, continuation lines joined, shell variables given sample values. */
function buildArgs(text: string): string[] {
  const start = text.indexOf('cli -- build');
  expect(start).toBeGreaterThan(0);
  const end = text.indexOf(')"', start);
  const command = text
    .slice(start + 'cli -- build'.length, end)
    .replace(/\\\n/g, ' ')
    .replace(/"\$JUMPBOX_APP_URL"/g, 'https://app.example.net')
    .replace(/"\$[A-Z_]+"/g, 'value')
    .replace(/\$[a-z_]+_flag|\$FORCE/g, '--force');
  return command.split(/\s+/).filter(Boolean);
}

describe('sample pipelines', () => {
  for (const sample of SAMPLES) {
    it(`${sample} uses valid CLI options, waits, and maps the key from a secret`, () => {
      const text = readFileSync(new URL(`../../samples/${sample}`, import.meta.url), 'utf8');
      const options = parseBuildArgs(buildArgs(text));
      expect(options).toMatchObject({ wait: true, cancelOnTimeout: true, definition: 'value' });
      expect(options.timeoutMs).toBe(140 * 60_000);
      expect(text).toMatch(
        new RegExp(`${DEFAULT_KEY_ENV}: \\$?[({]{1,2}\\s*(secrets\\.)?${DEFAULT_KEY_ENV}`),
      );
      expect(text).not.toMatch(/code=|x-functions-key/);
    });
  }
});
