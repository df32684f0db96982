/**
 * The sample pipelines: the build samples install the packed CLI (no devDependencies), sign in with federated
 * credentials (no stored key) and call the CLI with options it accepts; the deploy sample provisions with azd and
 * deploys the zip `npm run package` made.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_KEY_ENV, parseBuildArgs } from '../../src/cli/commands/build.js';
import { parseToolsArgs } from '../../src/cli/commands/tools.js';

const BUILD_SAMPLES = ['github-actions/build-jumpbox-image.yml', 'azure-pipelines/build-jumpbox-image.yml'];
const read = (sample: string) => readFileSync(new URL(`../../samples/${sample}`, import.meta.url), 'utf8');

/** The `jumpbox-builder build ...` invocation, continuation lines joined, shell variables given sample values. */
function buildArgs(text: string): string[] {
  const start = text.indexOf('$(jumpbox-builder build');
  expect(start).toBeGreaterThan(0);
  const end = text.indexOf(')"', start);
  const command = text
    .slice(start + '$(jumpbox-builder build'.length, end)
    .replace(/\\\n/g, ' ')
    .replace(/"\$JUMPBOX_APP_URL"/g, 'https://app.example.net')
    .replace(/"\$JUMPBOX_API_AUDIENCE"/g, 'api://00000000-0000-0000-0000-000000000000')
    .replace(/"\$[A-Z_]+"/g, 'value')
    .replace(/\$[a-z_]+_flag|\$FORCE/g, '--force');
  return command.split(/\s+/).filter(Boolean);
}

describe('sample pipelines', () => {
  for (const sample of BUILD_SAMPLES) {
    it(`${sample}: packed CLI, federated sign-in, Entra token, valid options, no key`, () => {
      const text = read(sample);
      const options = parseBuildArgs(buildArgs(text));
      expect(options).toMatchObject({
        wait: true,
        cancelOnTimeout: true,
        definition: 'value',
        auth: 'entra',
        audience: 'api://00000000-0000-0000-0000-000000000000',
      });
      expect(options.timeoutMs).toBe(140 * 60_000);
      // The CLI package is made once and installed without devDependencies where it runs.
      expect(text).toContain('npm run --silent package -- --cli-only');
      expect(text).toMatch(/npm install --global \S*jumpbox-image-builder-cli-\*\.tgz/);
      expect(text).not.toMatch(/npm run --silent cli|npx tsx/);
      // No stored key anywhere.
      expect(text).not.toContain(DEFAULT_KEY_ENV);
      expect(text).not.toMatch(/code=|x-functions-key|secrets\./);
    });
  }

  it('GitHub Actions signs in with its OIDC token; Azure Pipelines through an AzureCLI@2 service connection', () => {
    const gh = read('github-actions/build-jumpbox-image.yml');
    expect(gh).toContain('id-token: write');
    expect(gh).toContain('uses: azure/login@v2');
    expect(gh).not.toMatch(/client-secret|creds:/);
    const ado = read('azure-pipelines/build-jumpbox-image.yml');
    expect(ado).toContain('task: AzureCLI@2');
    expect(ado).toContain('azureSubscription: $(JUMPBOX_SERVICE_CONNECTION)');
  });

  it('the deploy sample provisions with azd and deploys the packaged zip, signed in with OIDC', () => {
    const text = read('github-actions/deploy.yml');
    expect(text).toContain('id-token: write');
    expect(text).toContain('--federated-credential-provider github');
    expect(text).toContain('azd provision --no-prompt');
    expect(text).toMatch(/zip=\$\(npm run --silent package \| tail -n 1\)/);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a JavaScript one
    expect(text).toContain('azd deploy app --from-package "${{ steps.package.outputs.zip }}"');
    expect(text).not.toMatch(/secrets\.|client-secret/);
    // Every azd environment variable main.bicepparam requires is set.
    for (const name of ['AZURE_ENV_NAME', 'AZURE_LOCATION', 'BUILD_SUBNET_ID']) {
      expect(text).toMatch(new RegExp(`${name}: \\$\\{\\{ vars\\.${name} \\}\\}`));
    }
  });

  it('the tools-bump sample runs monthly, checks then bumps with valid options, retests the goldens and opens a PR', () => {
    const text = read('github-actions/tools-bump.yml');
    expect(text).toMatch(/schedule:\n\s+# .*\n\s+- cron: ["']0 6 2 \* \*["']/);
    const invocations = [...text.matchAll(/npm run --silent cli -- (tools [^|\n]+)/g)].map((m) =>
      (m[1] as string).trim().split(/\s+/),
    );
    expect(invocations.map((a) => a.slice(0, 2).join(' '))).toEqual(['tools check', 'tools bump']);
    for (const argv of invocations) expect(() => parseToolsArgs(argv.slice(1))).not.toThrow();
    // `| tee` must not hide a refused bump: an explicit `shell: bash` runs steps with -eo pipefail.
    expect(text).toMatch(/defaults:\n\s+run:\n(\s+#.*\n)?\s+shell: bash\n/);
    expect(text).toContain('UPDATE_GOLDEN=1 npx vitest run test/image/template-body.test.ts');
    expect(text).toContain('gh pr create');
    expect(text).toContain('pull-requests: write');
    // The run's own token only; no stored secret.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a JavaScript one
    expect(text).toContain('GH_TOKEN: ${{ github.token }}');
    expect(text).not.toMatch(/secrets\./);
  });
});
