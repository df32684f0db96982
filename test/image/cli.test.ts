import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeEach, describe, expect, it } from 'vitest';
import { SETTINGS } from '../../src/config.js';
import { ArgumentError, egressOutput, templateOutput } from '../../src/image/cli-output.js';
import { PLACEHOLDER } from '../../src/image/example-context.js';
import { minimalSettings, SUB } from './support/examples.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const noSettings: Record<string, string | undefined> = Object.fromEntries(
  Object.keys(SETTINGS).map((k) => [k, undefined]),
);
let out = '';
let err = '';
async function template(
  argv: string[],
  env: Record<string, string | undefined> = noSettings,
): Promise<number> {
  const r = templateOutput(argv, env);
  out += r.stdout;
  err += r.stderr;
  return 0;
}
async function egress(argv: string[], env: Record<string, string | undefined> = noSettings): Promise<number> {
  const r = egressOutput(argv, env);
  out += r.stdout;
  err += r.stderr;
  return 0;
}

const validSettings: Record<string, string> = {
  ...minimalSettings,
  AZURE_LOCATION: 'westeurope',
  IMAGE_DEFINITIONS: JSON.stringify([
    { name: 'aks-jumpbox' },
    { name: 'jb-osm', tools: { osm: { enabled: true } } },
  ]),
};

describe('jumpbox-builder template', () => {
  beforeEach(() => {
    out = '';
    err = '';
  });

  it('without settings: prints the ARM body with marked placeholders and says so on stderr', async () => {
    expect(await template(['--source-version', '24.04.202501140'])).toBe(0);
    const body = JSON.parse(out) as {
      location: string;
      properties: { vmProfile: { vnetConfig: { subnetId: string } } };
    };
    expect(body.location).toBe(PLACEHOLDER.location);
    expect(body.properties.vmProfile.vnetConfig.subnetId).toContain('PLACEHOLDER');
    expect(err).toMatch(/PLACEHOLDERS/);
    expect(err).toMatch(/template name: aks-jumpbox-[0-9a-f]{12}/);
  });

  it('with valid settings: uses the configured ids and selects the definition', async () => {
    expect(
      await template(['--definition', 'jb-osm', '--source-version', '24.04.202501140'], validSettings),
    ).toBe(0);
    const body = JSON.parse(out) as {
      location: string;
      properties: { stagingResourceGroup: string; vmProfile: { vnetConfig: { subnetId: string } } };
    };
    expect(body.location).toBe('westeurope');
    expect(body.properties.vmProfile.vnetConfig.subnetId).toBe(validSettings.BUILD_SUBNET_ID);
    expect(body.properties.stagingResourceGroup).toBe(
      `/subscriptions/${SUB}/resourceGroups/rg-jumpbox-staging-jb-osm`,
    );
    expect(err).not.toMatch(/PLACEHOLDER/);
  });

  it('--name-only prints the hash-named template; a different source version gives another name', async () => {
    await template(['--name-only', '--source-version', '24.04.1']);
    const first = out.trim();
    out = '';
    await template(['--name-only', '--source-version', '24.04.2']);
    expect(first).toMatch(/^aks-jumpbox-[0-9a-f]{12}$/);
    expect(out.trim()).not.toBe(first);
  });

  it('usage errors name the problem', async () => {
    await expect(template(['--definition', 'nope'])).rejects.toThrow(/no image definition "nope"/);
    await expect(template(['--source-version', 'latest'])).rejects.toThrow(ArgumentError);
    await expect(template(['--bogus'])).rejects.toThrow(/unknown option --bogus/);
  });
});

describe('jumpbox-builder egress', () => {
  beforeEach(() => {
    out = '';
    err = '';
  });

  it('--json lists hosts with port and reason; optional tools follow the definition', async () => {
    expect(await egress(['--json'], validSettings)).toBe(0);
    const rules = JSON.parse(out) as Array<{ fqdn: string; port: number; why: string }>;
    expect(rules.find((r) => r.fqdn === 'releases.hashicorp.com')?.port).toBe(443);
    expect(rules.some((r) => /Open Service Mesh/.test(r.why))).toBe(false);
    out = '';
    await egress(['--definition', 'jb-osm', '--json'], validSettings);
    expect((JSON.parse(out) as Array<{ why: string }>).some((r) => /Open Service Mesh/.test(r.why))).toBe(
      true,
    );
  });

  it('prints a Markdown table by default', async () => {
    expect(await egress([])).toBe(0);
    expect(out).toMatch(/^\| Protocol:Port \| Target FQDN \| Group \| Why \|/);
    expect(out).toContain('| HTTP:80 | `azure.archive.ubuntu.com` |');
  });
});

describe('the real CLI entry point', () => {
  it('`template --name-only` and `egress --json` run through src/cli/main.ts with exit code 0', async () => {
    const run = promisify(execFile);
    const env = { ...process.env, ...Object.fromEntries(Object.keys(SETTINGS).map((k) => [k, ''])) };
    const tsx = join(ROOT, 'node_modules/.bin/tsx');
    const a = await run(tsx, ['src/cli/main.ts', 'template', '--name-only', '--source-version', '24.04.1'], {
      cwd: ROOT,
      env,
    });
    expect(a.stdout.trim()).toBe(
      templateOutput(['--name-only', '--source-version', '24.04.1'], noSettings).stdout.trim(),
    );
    const b = await run(tsx, ['src/cli/main.ts', 'egress', '--json'], { cwd: ROOT, env });
    expect(JSON.parse(b.stdout)).toEqual(JSON.parse(egressOutput(['--json'], noSettings).stdout));
    await expect(
      run(tsx, ['src/cli/main.ts', 'egress', '--bogus'], { cwd: ROOT, env }),
    ).rejects.toMatchObject({ code: 2 });
  }, 30_000);
});
